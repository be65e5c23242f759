from decimal import Decimal

from django.conf import settings
from ninja import Query, Router, Schema, Status

from kefu.conversations.schemas import IngestOut
from kefu.core.api_auth import AUTH
from kefu.core.inputs import json_body, openapi_body

from . import requests as req_services
from . import selectors as sel
from .adjust import payable
from .enums import RequestState, TaskState
from .models import OrderRemark, OrderRequest, WarehouseTask
from .remarks import order_remark_add, remarks_text
from .replies import script_key, suggested_reply
from .schemas import (
    OrderDetailOut,
    OrderRequestIn,
    OrderRequestOut,
    RemarkIn,
    RemarkOut,
    RequestTransitionIn,
    TaskCompleteIn,
    TaskOut,
)
from .services import orders_clean, orders_upsert

router = Router(tags=["orders"], auth=AUTH)


class OrderItemIn(Schema):
    sku: str
    quantity: int = 1
    price: Decimal | str | int


class OrderIn(Schema):
    order_id: str | int
    buyer_id: str | int
    buyer_nick: str | None = None
    status: str | None = None
    title: str | None = None
    total_amount: Decimal | str | int | None = None
    paid_amount: Decimal | str | int | None = None
    refund_amount: Decimal | str | int | None = None
    created_at: str
    paid_at: str | None = None
    printed_at: str | None = None
    shipped_at: str | None = None
    signed_at: str | None = None
    completed_at: str | None = None
    closed_at: str | None = None
    refunded_at: str | None = None
    courier: str | None = None
    tracking_no: str | None = None
    address: str | None = None
    buyer_note: str | None = None
    seller_remark: str | None = None
    items: list[OrderItemIn] | None = None


class OrderBatchIn(Schema):
    orders: list[OrderIn]


@router.post("/orders", response=IngestOut, openapi_extra=openapi_body(OrderIn, OrderBatchIn))
def orders_post(request, shop: str | None = None):
    """One order, or `{"orders": [...]}` with up to 1,000; upserted by order_id (a resend updates)."""
    shop_obj, _ = request.auth.shop_for(shop)
    raws = json_body(request, list_key="orders", limit=settings.KEFU_MAX_BATCH)
    rows = orders_clean(raws, tz=shop_obj.tz, first_row=0)
    result = orders_upsert(shop=shop_obj, rows=rows)
    return {"created": result.created, "duplicates": result.duplicates, "updated": result.updated}


# ---------------------------------------------------------------- order requests, tasks, remarks (PRE-5..7)

def allowed_actions(r: OrderRequest) -> list[str]:
    return [a for a in req_services.AGENT_ACTIONS if (r.state, a) in req_services.TRANSITIONS
            and (a != "ask_intercept" or r.kind == "cancel")]


def request_out(r: OrderRequest, *, reply: bool = True) -> dict:
    # The script library reads per call: shop-wide lists leave the reply out (open the request for it).
    key, text = suggested_reply(r) if reply else (script_key(r), None)
    return {"id": r.pk, "order_id": r.order.order_id, "kind": r.kind, "state": r.state,
            "order_status": r.order_status, "route": r.route, "new_value": r.new_value, "reason": r.reason,
            "result": r.result, "requested_by": r.requested_by.name, "created_at": r.created_at,
            "closed_at": r.closed_at, "allowed_actions": allowed_actions(r), "script_key": key,
            "suggested_reply": text}


def task_out(t: WarehouseTask) -> dict:
    return {"id": t.pk, "request_id": t.request_id, "order_id": t.order.order_id, "kind": t.kind, "state": t.state,
            "outcome": t.outcome, "tracking_no": t.tracking_no, "courier": t.courier, "note": t.note,
            "done_by": t.done_by.name if t.done_by_id else None, "created_at": t.created_at, "done_at": t.done_at,
            "request_kind": t.request.kind, "new_value": t.request.new_value,
            "requested_by": t.request.requested_by.name}


def remark_out(m: OrderRemark, order_id: str) -> dict:
    return {"id": m.pk, "order_id": order_id, "type": m.type, "reason": m.reason, "author": m.author.name,
            "text": m.text, "created_at": m.created_at}


REQUEST_FOR_OUT = ("order__customer", "shop")


@router.get("/orders/{order_id}", response=OrderDetailOut)
def order_get(request, order_id: str, shop: str | None = None):
    """An order's status, price after adjustments, combined remark text and timeline (OrderEvent)."""
    shop_obj, _member = request.auth.shop_for(shop)
    order = sel.order_get_in_shop(shop=shop_obj, order_id=order_id)
    events = [{"kind": e.kind, "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
               "actor": e.actor.name if e.actor_id else None, "note": e.note, "request_id": e.request_id,
               "created_at": e.created_at} for e in sel.order_events(shop=shop_obj, order=order)]
    return {"order_id": order.order_id, "status": order.status, "total_amount": order.total_amount,
            "adjustment_amount": order.adjustment_amount, "payable": payable(order), "courier": order.courier,
            "tracking_no": order.tracking_no,
            "remark_text": remarks_text(sel.order_remarks(shop=shop_obj, order=order)), "events": events}


@router.post("/orders/{order_id}/requests", response={201: OrderRequestOut})
def order_request_post(request, order_id: str, payload: OrderRequestIn, shop: str | None = None):
    """A cancellation (撤单) or change request, routed at once by the order's status (PRE-5, PRE-6)."""
    shop_obj, member = request.auth.shop_for(shop)
    order = sel.order_get_in_shop(shop=shop_obj, order_id=order_id)
    r = req_services.order_request_create(shop=shop_obj, order=order, kind=payload.kind, actor=member,
                                          reason=payload.reason, new_value=payload.new_value)
    r = sel.order_requests_for(shop=shop_obj, member=None).select_related(*REQUEST_FOR_OUT).get(pk=r.pk)
    return Status(201, request_out(r))


@router.get("/orders/{order_id}/requests", response=list[OrderRequestOut])
def order_requests_get(request, order_id: str, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    order = sel.order_get_in_shop(shop=shop_obj, order_id=order_id)
    return [request_out(r) for r in sel.order_requests_for(shop=shop_obj, member=member, order=order)
            .select_related(*REQUEST_FOR_OUT)]


@router.get("/order-requests", response=list[OrderRequestOut])
def order_requests_list(request, shop: str | None = None, state: RequestState | None = None, mine: bool = False,
                        limit: int = Query(100, ge=1, le=1000)):
    """Requests, newest first: an agent's own; supervisors and the integration see the whole shop.
    `suggested_reply` is left empty here (read one request or the order's requests for it)."""
    shop_obj, member = request.auth.shop_for(shop)
    qs = sel.order_requests_for(shop=shop_obj, member=member, state=state, mine=mine)
    return [request_out(r, reply=False) for r in qs.select_related(*REQUEST_FOR_OUT)[:limit]]


@router.get("/order-requests/{request_id}", response=OrderRequestOut)
def order_request_get(request, request_id: int, shop: str | None = None):
    shop_obj, _member = request.auth.shop_for(shop)
    sel.order_request_get(shop=shop_obj, request_id=request_id)
    return request_out(sel.order_requests_for(shop=shop_obj, member=None).select_related(*REQUEST_FOR_OUT)
                       .get(pk=request_id))


@router.post("/order-requests/{request_id}/transition", response={200: OrderRequestOut})
def order_request_transition_post(request, request_id: int, payload: RequestTransitionIn, shop: str | None = None):
    """ask_intercept (a shipped cancellation: the warehouse asks the courier), complete, refuse, cancel."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.order_request_get(shop=shop_obj, request_id=request_id)
    req_services.order_request_transition(shop=shop_obj, request_id=request_id, action=payload.action,
                                          actor=member, note=payload.note)
    r = sel.order_requests_for(shop=shop_obj, member=None).select_related(*REQUEST_FOR_OUT).get(pk=request_id)
    return request_out(r)


@router.get("/orders/{order_id}/remarks", response=list[RemarkOut])
def order_remarks_get(request, order_id: str, shop: str | None = None):
    """The order's structured remarks (PRE-7), oldest first; `text` is the platform's remark line."""
    shop_obj, _member = request.auth.shop_for(shop)
    order = sel.order_get_in_shop(shop=shop_obj, order_id=order_id)
    return [remark_out(m, order.order_id) for m in sel.order_remarks(shop=shop_obj, order=order)]


@router.post("/orders/{order_id}/remarks", response={201: RemarkOut})
def order_remark_post(request, order_id: str, payload: RemarkIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    order = sel.order_get_in_shop(shop=shop_obj, order_id=order_id)
    m = order_remark_add(shop=shop_obj, order=order, type=payload.type, reason=payload.reason, author=member)
    return Status(201, remark_out(m, order.order_id))


@router.get("/warehouse-tasks", response=list[TaskOut])
def warehouse_tasks_get(request, shop: str | None = None, state: TaskState | None = None,
                        limit: int = Query(200, ge=1, le=1000)):
    """Warehouse tasks, oldest first (default: every state)."""
    shop_obj, _member = request.auth.shop_for(shop)
    return [task_out(t) for t in sel.warehouse_tasks_for(shop=shop_obj, state=state)[:limit]]


@router.post("/warehouse-tasks/{task_id}/complete", response={200: TaskOut, 409: dict})
def warehouse_task_complete_post(request, task_id: int, payload: TaskCompleteIn, shop: str | None = None):
    """Finish a task once: stopped / shipped (tracking_no required) / failed / done / refused (note required).
    A task already completed answers 409 `already_done`."""
    shop_obj, member = request.auth.shop_for(shop)
    req_services.warehouse_task_complete(shop=shop_obj, task_id=task_id, actor=member, outcome=payload.outcome,
                                         tracking_no=payload.tracking_no, courier=payload.courier, note=payload.note)
    return task_out(sel.warehouse_tasks_for(shop=shop_obj).get(pk=task_id))
