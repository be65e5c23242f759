"""Reads of the after-sales domain, always through the shop and the person asking."""

import datetime as dt
from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kefu.catalog.models import Sku
from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import day_bounds, shop_day
from kefu.orders.models import Order

from . import policy
from .enums import Direction, MoneyLineState, Party
from .models import Case, CaseMoneyLine, CategoryPolicy, Evidence, ReturnHoliday, SecondService

CASE_RELATED = ("order", "order__customer", "owner", "second_service")
CASE_PREFETCH = ("items", "money_lines", "events__actor", "claims", "retentions", "evidence", "approvals")


def _visible(qs: QuerySet[Case], member: Agent | None) -> QuerySet[Case]:
    """Supervisors and up (and the shop's integration token) see every case; an agent sees the
    cases they own and the unassigned ones (the team's queue)."""
    if member is not None and not sees_whole_shop(member):
        qs = qs.filter(Q(owner=member) | Q(owner__isnull=True))
    return qs


def cases_for(*, shop: Shop, member: Agent | None, state: str | None = None, type: str | None = None,
              order_id: str | None = None) -> QuerySet[Case]:
    qs = _visible(Case.objects.filter(shop=shop), member).select_related(*CASE_RELATED)
    if state:
        qs = qs.filter(state=state)
    if type:
        qs = qs.filter(type=type)
    if order_id:
        qs = qs.filter(order__order_id=order_id)
    return qs.order_by("-created_at", "-id")


def case_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> Case:
    case = (_visible(Case.objects.filter(shop=shop, pk=id), member).select_related(*CASE_RELATED)
            .prefetch_related(*CASE_PREFETCH).first())
    if case is None:
        raise Http404("case")
    return case


def order_get_in_shop(*, shop: Shop, order_id: str) -> Order:
    order = Order.objects.filter(shop=shop, order_id=order_id).select_related("customer").first()
    if order is None:
        raise Http404("order")
    return order


def days_since_signed(order: Order | None, now: datetime | None = None) -> int | None:
    if order is None or order.signed_at is None:
        return None
    now = now or timezone.now()
    return max(0, (now - order.signed_at).days)


def item_price(order: Order | None, sku: str | None = None):
    if order is None:
        return None
    items = list(order.items.all())
    match = [it for it in items if not sku or it.sku_code == sku]
    return match[0].price if match else None


def category_of(shop: Shop, sku: str | None) -> str:
    if not sku:
        return ""
    row = Sku.objects.filter(shop=shop, code=sku).select_related("product").first()
    return row.product.category if row is not None and row.product_id else ""


def windows_for(*, shop: Shop, category: str, signed_at: datetime | None) -> dict:
    """The return windows that apply (AFT-12): the category's days (or the defaults), extended by holidays."""
    d = policy.defaults()
    row = CategoryPolicy.objects.filter(shop=shop, category=category).first() if category else None
    return_days = row.return_days if row else d["category_return_days"]
    quality_days = row.quality_days if row else d["window_days"]
    signed_on = shop_day(signed_at, shop.tz) if signed_at else None
    holidays = []
    if signed_on is not None:
        holidays = list(ReturnHoliday.objects.filter(shop=shop, date_to__gt=signed_on).values_list(
            "date_from", "date_to"))
    eff_return = policy.window_days_with_holidays(signed_on, return_days, holidays)
    eff_quality = policy.window_days_with_holidays(signed_on, quality_days, holidays)
    return {"category": category, "from_category": row is not None, "return_days": return_days,
            "quality_days": quality_days, "return_days_effective": eff_return, "quality_days_effective": eff_quality,
            "holiday_days": eff_return - return_days,
            "return_until": signed_on + dt.timedelta(days=eff_return) if signed_on else None}


def days_since_signed_in_shop(shop: Shop, order: Order | None, now: datetime | None = None) -> int | None:
    """Whole shop days since the signing day (signed yesterday evening = 1)."""
    if order is None or order.signed_at is None:
        return None
    now = now or timezone.now()
    return max(0, (shop_day(now, shop.tz) - shop_day(order.signed_at, shop.tz)).days)


def policy_for_case(case: Case, *, new_item_price=None, worn: bool = False, override_reason: str = "",
                    windows: dict | None = None):
    """The policy suggestion for a case, from its order's signing time and first item's price, with the
    first item's category window and the holidays; the case's own override reason applies."""
    first = next(iter(case.items.all()), None)
    if windows is None:
        windows = windows_for(shop=case.shop, category=category_of(case.shop, first.sku if first else None),
                              signed_at=case.order.signed_at if case.order_id else None)
    return policy.policy_suggest(
        reason=case.reason, responsible=case.responsible or None,
        days_since_signed=days_since_signed_in_shop(case.shop, case.order),
        worn=worn, refused=case.refused, item_price=item_price(case.order, first.sku if first else None),
        new_item_price=new_item_price, override_reason=override_reason or case.override_reason,
        window_days=windows["quality_days_effective"], category_return_days=windows["return_days_effective"])


# ---------------------------------------------------------------- early refunds, trust, follow-ups

def buyer_trusted(*, shop: Shop, case: Case) -> bool:
    """A trusted buyer (AFT-6): at least N signed orders with this shop and no early refund whose
    parcel never came back."""
    if not case.order_id:
        return False
    customer = case.order.customer
    if customer.is_spam:
        return False
    need = int(getattr(settings, "KEFU_AFTERSALES_TRUSTED_ORDERS", 3))
    signed = Order.objects.filter(shop=shop, customer=customer, signed_at__isnull=False).count()
    if signed < need:
        return False
    return not Case.objects.filter(shop=shop, order__customer=customer, return_due_at__lt=timezone.now(),
                                   return_received_at__isnull=True, money_lines__early=True).exists()


def early_refunds_overdue(*, shop: Shop, member: Agent | None, now: datetime | None = None) -> QuerySet[Case]:
    """Cases refunded early whose returned parcel has not arrived by its due time: follow them up."""
    now = now or timezone.now()
    ids = CaseMoneyLine.objects.filter(shop=shop, early=True, state=MoneyLineState.DONE).values("case_id")
    return (_visible(Case.objects.filter(shop=shop, pk__in=ids, return_received_at__isnull=True,
                                         return_due_at__lt=now), member)
            .select_related(*CASE_RELATED).order_by("return_due_at", "id"))


def second_services_due(*, shop: Shop, member: Agent | None, day: dt.date | None = None) -> QuerySet[SecondService]:
    day = day or shop_day(timezone.now(), shop.tz)
    cases = _visible(Case.objects.filter(shop=shop), member)
    return (SecondService.objects.filter(shop=shop, done_at__isnull=True, due_on__lte=day, case__in=cases)
            .select_related("case__order__customer", "case__owner").order_by("due_on", "id"))


def needs_retention(case: Case) -> bool:
    """A refund caused by the shop gets a retention attempt (AFT-10) before it is paid."""
    shop_caused = case.responsible in (Party.SHOP, Party.WAREHOUSE, Party.SUPPLIER) or (
        not case.responsible and case.reason in ("quality", "wrong_item", "missing_item", "extra_item"))
    planned = any(ln.state == MoneyLineState.PLANNED and ln.direction == Direction.SHOP_TO_BUYER
                  for ln in case.money_lines.all())
    return shop_caused and planned and case.type in ("return_refund", "refund_only") and not case.retentions.all()


# ---------------------------------------------------------------- evidence (AFT-5)

def evidence_for(*, shop: Shop, member: Agent | None, buyer_id: str | None = None, sku: str | None = None,
                 date_from: dt.date | None = None, date_to: dt.date | None = None,
                 case_id: int | None = None) -> QuerySet[Evidence]:
    """Evidence findable by buyer id, SKU and period (shop days, both ends included)."""
    cases = _visible(Case.objects.filter(shop=shop), member)
    qs = Evidence.objects.filter(shop=shop, case__in=cases)
    if buyer_id:
        qs = qs.filter(buyer_id=buyer_id)
    if sku:
        qs = qs.filter(sku=sku)
    if case_id:
        qs = qs.filter(case_id=case_id)
    if date_from:
        qs = qs.filter(created_at__gte=day_bounds(date_from, shop.tz)[0])
    if date_to:
        qs = qs.filter(created_at__lt=day_bounds(date_to, shop.tz)[1])
    return qs.select_related("uploaded_by").order_by("-created_at", "-id")


def evidence_get(*, shop: Shop, member: Agent | None, id: int) -> Evidence:
    ev = evidence_for(shop=shop, member=member).filter(pk=id).first()
    if ev is None:
        raise Http404("evidence")
    return ev


def rules_for(*, shop: Shop) -> dict:
    d = policy.defaults()
    return {"categories": [{"id": r.pk, "category": r.category, "return_days": r.return_days,
                            "quality_days": r.quality_days, "note": r.note}
                           for r in CategoryPolicy.objects.filter(shop=shop)],
            "holidays": [{"id": h.pk, "name": h.name, "date_from": h.date_from, "date_to": h.date_to}
                         for h in ReturnHoliday.objects.filter(shop=shop)],
            "defaults": {"return_days": d["category_return_days"], "quality_days": d["window_days"],
                         "keep_item_below": d["keep_item_below"]}}
