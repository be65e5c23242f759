"""Reads of buyers (customers), always through the person's shop and role.

Who sees which buyer: supervisors, managers, admins and the shop's care owners (专属客服) see every
buyer; an agent sees the buyers of the conversations they may see, of their follow-ups and of their
revisits. Phone and address are always shown masked; the roles that need them reveal them one buyer
at a time, and every reveal is audited (services.customer_contacts_reveal).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from kefu.core.access import mask_address, mask_phone, sees_contacts, sees_whole_shop
from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop
from kefu.orders.enums import OrderStatus
from kefu.orders.models import Order, OrderItem

from .models import Customer, CustomerMerge, CustomerTag, Tag

CARD_ORDERS = 20
CARD_CONVERSATIONS = 20
SECTION = 20  # rows per section of the 360 page
ZERO = Decimal("0.00")
SORTS = {"last_paid": ("-last_paid_at", "-id"), "spend": ("-spend", "-id"), "orders": ("-paid_orders", "-id"),
         "new": ("-created_at", "-id")}


def cents(value) -> Decimal:
    """A money figure of an aggregate as exact cents (SQLite hands sums back as floats)."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def sees_all_buyers(member: Agent | None) -> bool:
    """Supervisors and up, and the shop's care owners (专属客服)."""
    if member is None or sees_whole_shop(member):
        return True
    from kefu.care.selectors import is_care_owner

    return is_care_owner(member)


def visible_buyers_q(member: Agent | None) -> Q:
    """The buyers this person may open (see the module's docstring)."""
    if sees_all_buyers(member):
        return Q()
    from kefu.care.models import Revisit
    from kefu.conversations.models import Conversation
    from kefu.conversations.selectors import visible_q
    from kefu.followups.models import FollowUp

    return (Q(Exists(Conversation.objects.filter(visible_q(member), customer=OuterRef("pk"))))
            | Q(Exists(FollowUp.objects.filter(owner=member, customer=OuterRef("pk"))))
            | Q(Exists(Revisit.objects.filter(owner=member, customer=OuterRef("pk")))))


def _paid_orders():
    """The paid orders a buyer's figures count (the grading rules' definition, over all time)."""
    return Order.objects.filter(customer=OuterRef("pk"), paid_at__isnull=False).exclude(status=OrderStatus.REFUNDED)


def with_figures(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    """Each buyer's spend (Σ paid − refunded of paid orders), paid orders, first and last payment,
    and whether a churn flag is open. The one definition for list, 360 page, API and export."""
    from kefu.care.models import ChurnFlag

    money = DecimalField(max_digits=14, decimal_places=2)
    spend = _paid_orders().values("customer").annotate(s=Sum(F("paid_amount") - F("refund_amount"))).values("s")
    count = _paid_orders().values("customer").annotate(n=Count("id")).values("n")
    return qs.annotate(
        spend=Coalesce(Subquery(spend, output_field=money), Value(ZERO, output_field=money)),
        paid_orders=Coalesce(Subquery(count), Value(0)),
        last_paid_at=Subquery(_paid_orders().order_by("-paid_at").values("paid_at")[:1]),
        first_paid_at=Subquery(_paid_orders().order_by("paid_at").values("paid_at")[:1]),
        at_risk=Exists(ChurnFlag.objects.filter(customer=OuterRef("pk"), cleared_at__isnull=True)),
    )


@dataclass
class BuyerFilters:
    q: str = ""
    grade: str = ""
    tag_id: int | None = None
    spend_min: Decimal | None = None
    spend_max: Decimal | None = None
    last_paid_from: dt.date | None = None
    last_paid_to: dt.date | None = None
    at_risk: bool | None = None
    sort: str = "last_paid"


def _date(v, field: str) -> dt.date | None:
    if v in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError as exc:
        raise KefuError("a date like 2026-11-11", field=field) from exc


def _money(v, field: str) -> Decimal | None:
    if v in (None, ""):
        return None
    try:
        d = Decimal(str(v).strip())
    except ArithmeticError as exc:
        raise KefuError("a number of yuan", field=field) from exc
    if not d.is_finite() or d < 0 or d > Decimal("1e10"):
        raise KefuError("0 or more", field=field)
    return d


def buyer_filters_clean(params) -> BuyerFilters:
    """The list's query parameters (page, API, export) → clean values; a bad one names its field."""
    g = params.get
    f = BuyerFilters(q=str(g("q") or "").strip()[:120], grade=str(g("grade") or "").strip()[:20])
    tag = g("tag") or g("tag_id")
    if tag not in (None, ""):
        try:
            f.tag_id = int(tag)
        except (TypeError, ValueError) as exc:
            raise KefuError("a tag id", field="tag") from exc
    f.spend_min, f.spend_max = _money(g("spend_min"), "spend_min"), _money(g("spend_max"), "spend_max")
    f.last_paid_from = _date(g("last_paid_from"), "last_paid_from")
    f.last_paid_to = _date(g("last_paid_to"), "last_paid_to")
    risk = g("at_risk")
    if risk not in (None, ""):
        if str(risk).lower() not in ("1", "0", "true", "false"):
            raise KefuError("true or false", field="at_risk")
        f.at_risk = str(risk).lower() in ("1", "true")
    sort = str(g("sort") or "last_paid")
    if sort not in SORTS:
        raise KefuError(f"one of {', '.join(SORTS)}", field="sort")
    f.sort = sort
    return f


def buyer_search_q(shop: Shop, q: str) -> Q:
    """Nick, platform id (also the ids of records merged into it), phone tail, order id."""
    cond = Q(buyer_id__icontains=q) | Q(nick__icontains=q)
    aliases = Customer.objects.filter(shop=shop, merged_into__isnull=False, buyer_id__icontains=q)
    cond |= Q(pk__in=aliases.values("merged_into_id"))
    cond |= Q(pk__in=Order.objects.filter(shop=shop, order_id=q).values("customer_id"))
    if q.isdigit() and len(q) >= 3:
        cond |= Q(phone__endswith=q)
    return cond


def buyers_list(*, shop: Shop, member: Agent | None, filters: BuyerFilters | None = None) -> QuerySet[Customer]:
    """CRM-1's buyer list: the buyers this person may see, searched and filtered, with figures,
    grade and tags (a fixed number of queries per page)."""
    f = filters or BuyerFilters()
    qs = Customer.objects.filter(shop=shop, merged_into__isnull=True).filter(visible_buyers_q(member))
    if f.q:
        qs = qs.filter(buyer_search_q(shop, f.q))
    if f.grade:
        qs = qs.filter(grade__grade=f.grade)
    if f.tag_id is not None:
        qs = qs.filter(Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag_id=f.tag_id)))
    qs = with_figures(qs)
    if f.spend_min is not None:
        qs = qs.filter(spend__gte=f.spend_min)
    if f.spend_max is not None:
        qs = qs.filter(spend__lte=f.spend_max)
    if f.last_paid_from is not None:
        from kefu.core.timeutil import day_bounds

        qs = qs.filter(last_paid_at__gte=day_bounds(f.last_paid_from, shop.tz)[0])
    if f.last_paid_to is not None:
        from kefu.core.timeutil import day_bounds

        qs = qs.filter(last_paid_at__lt=day_bounds(f.last_paid_to, shop.tz)[1])
    if f.at_risk is not None:
        qs = qs.filter(at_risk=f.at_risk)
    order = SORTS[f.sort]
    first = order[0].lstrip("-")
    return (qs.select_related("grade")
            .prefetch_related(Prefetch("taggings", queryset=CustomerTag.objects.select_related("tag")
                                       .order_by("tag__name")))
            .order_by(F(first).desc(nulls_last=True), *order[1:]))


def customer_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> Customer:
    """A buyer this person may open (404 otherwise). A record merged into another is returned as
    is (the page redirects to the one it was merged into); its visibility is that record's."""
    c = Customer.objects.filter(shop=shop, pk=id).select_related("merged_into").first()
    if c is None:
        raise Http404("customer")
    kept = c.merged_into or c
    if not sees_all_buyers(member) and not Customer.objects.filter(pk=kept.pk).filter(
            visible_buyers_q(member)).exists():
        raise Http404("customer")
    return c


def customer_find(*, shop: Shop, buyer_id: str) -> Customer | None:
    """The buyer with this platform id; the id of a merged-away record finds the record kept."""
    c = Customer.objects.filter(shop=shop, buyer_id=buyer_id).select_related("merged_into").first()
    return None if c is None else (c.merged_into or c)


def tags_of_shop(*, shop: Shop) -> list[Tag]:
    return list(Tag.objects.filter(shop=shop).annotate(n=Count("taggings")).order_by("name", "id"))


def customer_is_returning(*, shop: Shop, customer_id: int, before: dt.datetime) -> bool:
    """老客户 (000): the buyer has a paid order before this moment (a conversation's start)."""
    return Order.objects.filter(
        shop=shop, customer_id=customer_id, paid_at__isnull=False, paid_at__lt=before
    ).exists()


def customer_contacts(*, customer: Customer, member: Agent | None) -> dict:
    """Phone and address as pages show them: always masked; `can_reveal` for the roles that may
    see them (the reveal is audited)."""
    return {"phone": mask_phone(customer.phone), "address": mask_address(customer.address), "masked": True,
            "can_reveal": sees_contacts(member) and bool(customer.phone or customer.address)}


def customer_orders(*, shop: Shop, customer_id: int, member: Agent | None, limit: int = CARD_ORDERS) -> list[dict]:
    """The buyer's latest orders with status, amounts and items; addresses masked (the order page
    shows them to the roles that need them)."""
    orders = (
        Order.objects.filter(shop=shop, customer_id=customer_id)
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("id")))
        .order_by("-created_at", "-id")[:limit]
    )
    out = []
    for o in orders:
        out.append({
            "id": o.id, "order_id": o.order_id, "status": o.status, "status_label": OrderStatus(o.status).label
            if o.status in OrderStatus.values else o.status,
            "title": o.title, "total_amount": o.total_amount, "paid_amount": o.paid_amount,
            "refund_amount": o.refund_amount, "created_at": o.created_at, "paid_at": o.paid_at,
            "courier": o.courier, "tracking_no": o.tracking_no, "address": mask_address(o.address),
            "buyer_note": o.buyer_note, "seller_remark": o.seller_remark,
            "items": [{"sku": i.sku_code, "quantity": i.quantity, "price": i.price} for i in o.items.all()],
        })
    return out


def customer_tags(*, customer: Customer) -> list[Tag]:
    return [t.tag for t in CustomerTag.objects.filter(customer=customer).select_related("tag").order_by("tag__name")]


def buyer_card(*, shop: Shop, member: Agent | None, customer: Customer, at: dt.datetime,
               past_conversations) -> dict:
    """CONV-4: what the agent sees beside a conversation. `past_conversations` is a queryset
    already limited to what this person may see (conversation_list)."""
    return {
        "customer": customer,
        "returning": customer_is_returning(shop=shop, customer_id=customer.id, before=at),
        "contacts": customer_contacts(customer=customer, member=member),
        "tags": customer_tags(customer=customer),
        "orders": customer_orders(shop=shop, customer_id=customer.id, member=member),
        "past_conversations": list(past_conversations[:CARD_CONVERSATIONS]),
    }


def merges_of(*, shop: Shop, customer: Customer) -> list[CustomerMerge]:
    return list(CustomerMerge.objects.filter(shop=shop).filter(Q(target=customer) | Q(source=customer))
                .select_related("source", "target", "merged_by", "undone_by").order_by("-created_at", "-id")[:SECTION])
