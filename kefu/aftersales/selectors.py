"""Reads of the after-sales domain, always through the shop and the person asking."""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop
from kefu.orders.models import Order

from . import policy
from .models import Case

CASE_RELATED = ("order", "order__customer", "owner")


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
            .prefetch_related("items", "money_lines", "events__actor").first())
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


def policy_for_case(case: Case, *, new_item_price=None, worn: bool = False, override_reason: str = ""):
    """The policy suggestion for a case, from its order's signing time and first item's price."""
    first = next(iter(case.items.all()), None)
    return policy.policy_suggest(
        reason=case.reason, responsible=case.responsible or None, days_since_signed=days_since_signed(case.order),
        worn=worn, refused=case.refused, item_price=item_price(case.order, first.sku if first else None),
        new_item_price=new_item_price, override_reason=override_reason)
