"""Reads of orders, their requests, warehouse tasks, remarks and timeline — always through the shop."""

import datetime as dt

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import day_bounds, shop_day

from .enums import RequestState, TaskState
from .models import Order, OrderEvent, OrderRemark, OrderRequest, WarehouseTask

REQUEST_RELATED = ("order", "requested_by")
TASK_RELATED = ("order", "order__customer", "request", "request__requested_by", "done_by")


def order_get_in_shop(*, shop: Shop, order_id: str) -> Order:
    order = Order.objects.filter(shop=shop, order_id=order_id).select_related("customer", "shop").first()
    if order is None:
        raise Http404("order")
    return order


def order_requests_for(*, shop: Shop, member: Agent | None, order: Order | None = None, state: str | None = None,
                       mine: bool = False) -> QuerySet[OrderRequest]:
    """Requests, newest first; an order's requests are visible to every person of the shop (the order page),
    the shop-wide list shows an agent their own (supervisors and the integration see all)."""
    qs = OrderRequest.objects.filter(shop=shop).select_related(*REQUEST_RELATED)
    if order is not None:
        qs = qs.filter(order=order)
    elif member is not None and (mine or not sees_whole_shop(member)):
        qs = qs.filter(requested_by=member)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def order_request_get(*, shop: Shop, request_id: int) -> OrderRequest:
    req = OrderRequest.objects.filter(shop=shop, pk=request_id).select_related(*REQUEST_RELATED).first()
    if req is None:
        raise Http404("order request")
    return req


def warehouse_tasks_for(*, shop: Shop, state: str | None = None, order: Order | None = None) -> QuerySet[WarehouseTask]:
    qs = WarehouseTask.objects.filter(shop=shop).select_related(*TASK_RELATED)
    if state:
        qs = qs.filter(state=state)
    if order is not None:
        qs = qs.filter(order=order)
    return qs.order_by("created_at", "id")


def warehouse_worklist(*, shop: Shop, now: dt.datetime | None = None) -> dict:
    """Open tasks (oldest first) and the ones done today (shop-time-zone day)."""
    now = now or timezone.now()
    start, end = day_bounds(shop_day(now, shop.tz), shop.tz)
    base = WarehouseTask.objects.filter(shop=shop).select_related(*TASK_RELATED)
    return {
        "open": list(base.filter(state=TaskState.OPEN).order_by("created_at", "id")),
        "done_today": list(base.filter(Q(state=TaskState.DONE) | Q(state=TaskState.CANCELLED),
                                       done_at__gte=start, done_at__lt=end).order_by("-done_at", "-id")),
    }


def order_remarks(*, shop: Shop, order: Order) -> QuerySet[OrderRemark]:
    return OrderRemark.objects.filter(shop=shop, order=order).select_related("author").order_by("created_at", "id")


def order_events(*, shop: Shop, order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(shop=shop, order=order).select_related("actor").order_by("created_at", "id")


def open_requests_count(*, shop: Shop, order: Order) -> int:
    return OrderRequest.objects.filter(shop=shop, order=order).exclude(
        state__in=(RequestState.DONE, RequestState.REFUSED, RequestState.CANCELLED)).count()


def orders_filter(*, shop: Shop, q: str = "", status: str = "", date_from: dt.date | None = None,
                  date_to: dt.date | None = None, amount_min=None, amount_max=None, refund: str = "",
                  credited: bool = False, pay_from: dt.date | None = None, pay_to: dt.date | None = None,
                  agent_id: int | None = None) -> QuerySet[Order]:
    """The order list's filters: order id (prefix) or buyer (id or nick), state, order day in shop time
    (inclusive), paid amount range, and whether any money was refunded. Newest first.

    `credited`: only orders credited to an agent (客服销售额), paid on shop days pay_from…pay_to, to
    `agent_id` if given — the orders behind a dashboard sales figure (the same OrderCredit rows)."""
    qs = Order.objects.filter(shop=shop).select_related("customer")
    if credited:
        qs = qs.filter(credit__agent__isnull=False)
        if pay_from is not None:
            qs = qs.filter(credit__pay_day__gte=pay_from)
        if pay_to is not None:
            qs = qs.filter(credit__pay_day__lte=pay_to)
        if agent_id is not None:
            qs = qs.filter(credit__agent_id=agent_id)
    q = q.strip()
    if q:
        qs = qs.filter(Q(order_id__startswith=q) | Q(customer__buyer_id__icontains=q) | Q(customer__nick__icontains=q))
    if status:
        qs = qs.filter(status=status)
    if date_from is not None:
        qs = qs.filter(created_at__gte=day_bounds(date_from, shop.tz)[0])
    if date_to is not None:
        qs = qs.filter(created_at__lt=day_bounds(date_to, shop.tz)[1])
    if amount_min is not None:
        qs = qs.filter(paid_amount__gte=amount_min)
    if amount_max is not None:
        qs = qs.filter(paid_amount__lte=amount_max)
    if refund == "yes":
        qs = qs.filter(refund_amount__gt=0)
    elif refund == "no":
        qs = qs.filter(refund_amount=0)
    return qs.order_by("-created_at", "-id")


def credited_totals(orders: QuerySet[Order]) -> dict:
    """Count and credited amounts of a credited order list (the KPI's 订单数 / 客服销售额 / 退款金额)."""
    return orders.aggregate(n=Count("id"), sales=Sum("credit__paid_amount"), refunds=Sum("credit__refund_amount"))


def agent_name(*, shop: Shop, agent_id: int | None) -> str:
    if agent_id is None:
        return ""
    return Agent.objects.filter(shop=shop, id=agent_id).values_list("name", flat=True).first() or ""
