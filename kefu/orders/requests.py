"""Order requests (PRE-5 cancellation, PRE-6 shipping changes) and the warehouse tasks they make.

ROUTES decides, from the request's kind and the order's status, who handles it (seed 000 §3/§4):
the buyer (unpaid: the buyer closes the trade, the shop does not), the agent (paid and not printed:
swap or refund with a remark; shipped: courier return or refusal), the warehouse (printed: find
the slip and stop or change the parcel; changes and urging: the warehouse confirms or refuses), or
nobody (too late: after-sales). TRANSITIONS is the state machine of a request and
order_request_transition its one transition function; every step is an OrderEvent row.

Locks: a request row is always locked before its tasks, so a warehouse completion and an agent's
withdrawal cannot deadlock; a task is completed exactly once (select_for_update + state check).
"""

from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from kefu.core.access import sees_whole_shop, user_of
from kefu.core.enums import Role
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import shop_day

from .enums import OrderErrorCode as E
from .enums import (
    OrderEventKind,
    OrderStatus,
    RemarkType,
    RequestKind,
    TaskKind,
    TaskOutcome,
    TaskState,
)
from .enums import RequestAction as A
from .enums import RequestState as S
from .models import Order, OrderEvent, OrderRequest, WarehouseTask

K, OS, T = RequestKind, OrderStatus, TaskKind


@dataclass(frozen=True)
class Route:
    action: str  # the first step: route_buyer / route_agent / route_warehouse / route_refuse
    advice: object  # what the agent should do (Chinese, shown on the page; an i18n source string)
    task: str = ""  # the warehouse task to open (route_warehouse)


_BUYER_CLOSES = Route(A.ROUTE_BUYER, _("未付款：请买家自行关闭交易，店铺不关闭订单"))
_SWAP_OR_REFUND = Route(A.ROUTE_AGENT, _("未打单：与买家沟通换款或申请交易退款，并作交易备注"))
_FIND_SLIP = Route(A.ROUTE_WAREHOUSE, _("已打单未发货：仓库找单拦截或改单，结果反馈给客服和买家"), T.FIND_SLIP)
_RETURN_OR_REFUSE = Route(A.ROUTE_AGENT, _("已发出：联系快递退回或让买家拒签；买家原因产生的运费由买家承担"))
_AFTERSALES = Route(A.ROUTE_REFUSE, _("买家已签收：请走售后（退货退款/补发）"))
_CLOSED = Route(A.ROUTE_REFUSE, _("交易已关闭或退款中：无需处理"))
_WAREHOUSE_CHANGE = Route(A.ROUTE_WAREHOUSE, _("交仓库改单，仓库确认或拒绝"), T.CHANGE)
_REDIRECT = Route(A.ROUTE_AGENT, _("已发出：联系快递改派新地址"))
_TOO_LATE = Route(A.ROUTE_REFUSE, _("已发出：无法修改；配件请走售后补发"))
_CONFIRM_SHIPPED = Route(A.ROUTE_WAREHOUSE, _("交仓库催发货，发出后回填快递单号"), T.CONFIRM_SHIPPED)
_TELL_TRACKING = Route(A.ROUTE_AGENT, _("已发货：查询物流，把单号和进度告诉买家"))
_NOT_PAID = Route(A.ROUTE_REFUSE, _("未付款：付款后才能发货"))

_DONE_STATES = (OS.SIGNED, OS.COMPLETED)
_DEAD_STATES = (OS.CLOSED, OS.REFUNDING, OS.REFUNDED)
_CHANGE_KINDS = (K.CHANGE_ADDRESS, K.CHANGE_SHIP_DATE, K.CHANGE_COURIER, K.ADD_ACCESSORY)


def _build_routes() -> dict[tuple[str, str], Route]:
    routes: dict[tuple[str, str], Route] = {
        (K.CANCEL, OS.UNPAID): _BUYER_CLOSES,
        (K.CANCEL, OS.PAID): _SWAP_OR_REFUND,
        (K.CANCEL, OS.PRINTED): _FIND_SLIP,
        (K.CANCEL, OS.SHIPPED): _RETURN_OR_REFUSE,
        (K.URGE_SHIPPING, OS.UNPAID): _NOT_PAID,
        (K.URGE_SHIPPING, OS.PAID): _CONFIRM_SHIPPED,
        (K.URGE_SHIPPING, OS.PRINTED): _CONFIRM_SHIPPED,
        (K.URGE_SHIPPING, OS.SHIPPED): _TELL_TRACKING,
    }
    for kind in _CHANGE_KINDS:
        for status in (OS.UNPAID, OS.PAID, OS.PRINTED):
            routes[(kind, status)] = _WAREHOUSE_CHANGE
        routes[(kind, OS.SHIPPED)] = _REDIRECT if kind == K.CHANGE_ADDRESS else _TOO_LATE
    for kind in K.values:
        for status in _DONE_STATES:
            routes[(kind, status)] = _AFTERSALES
        for status in _DEAD_STATES:
            routes[(kind, status)] = _CLOSED
    return routes


# (request kind, order status) → Route. Every pair is listed (tests walk the whole table).
ROUTES: dict[tuple[str, str], Route] = _build_routes()

# (state, action) → new state. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.OPEN, A.ROUTE_BUYER): S.DONE,
    (S.OPEN, A.ROUTE_AGENT): S.WITH_AGENT,
    (S.OPEN, A.ROUTE_WAREHOUSE): S.WAITING_WAREHOUSE,
    (S.OPEN, A.ROUTE_REFUSE): S.REFUSED,
    (S.WAITING_WAREHOUSE, A.WAREHOUSE_DONE): S.DONE,
    (S.WAITING_WAREHOUSE, A.WAREHOUSE_REFUSED): S.REFUSED,
    (S.WAITING_WAREHOUSE, A.BACK_TO_AGENT): S.WITH_AGENT,
    (S.WAITING_WAREHOUSE, A.CANCEL): S.CANCELLED,
    (S.WITH_AGENT, A.ASK_INTERCEPT): S.WAITING_WAREHOUSE,
    (S.WITH_AGENT, A.COMPLETE): S.DONE,
    (S.WITH_AGENT, A.REFUSE): S.REFUSED,
    (S.WITH_AGENT, A.CANCEL): S.CANCELLED,
}
# Steps a person asks for through the page/API; the rest are taken by routing and the warehouse.
AGENT_ACTIONS = (A.ASK_INTERCEPT, A.COMPLETE, A.REFUSE, A.CANCEL)
FINAL_STATES = (S.DONE, S.REFUSED, S.CANCELLED)

# (task kind, outcome) → the request action it takes. Outcomes not listed are refused for that kind.
TASK_OUTCOMES: dict[tuple[str, str], str] = {
    (T.FIND_SLIP, TaskOutcome.STOPPED): A.WAREHOUSE_DONE,
    # Slip not found and it had shipped: the tracking number goes back to the agent (seed 000 §3.3A).
    (T.FIND_SLIP, TaskOutcome.SHIPPED): A.BACK_TO_AGENT,
    (T.STOP_PARCEL, TaskOutcome.STOPPED): A.WAREHOUSE_DONE,
    (T.STOP_PARCEL, TaskOutcome.FAILED): A.BACK_TO_AGENT,
    (T.CHANGE, TaskOutcome.DONE): A.WAREHOUSE_DONE,
    (T.CHANGE, TaskOutcome.REFUSED): A.WAREHOUSE_REFUSED,
    (T.CONFIRM_SHIPPED, TaskOutcome.SHIPPED): A.WAREHOUSE_DONE,
    (T.CONFIRM_SHIPPED, TaskOutcome.REFUSED): A.WAREHOUSE_REFUSED,
}
NEEDS_TRACKING = (TaskOutcome.SHIPPED,)
NEEDS_NOTE = (TaskOutcome.REFUSED, TaskOutcome.FAILED)
WAREHOUSE_ROLES = (Role.WAREHOUSE, Role.MANAGER, Role.ADMIN)
# Kinds whose request carries the new content (address, date, courier, accessory).
NEEDS_VALUE = {K.CHANGE_ADDRESS: 255, K.CHANGE_SHIP_DATE: 10, K.CHANGE_COURIER: 40, K.ADD_ACCESSORY: 255}


def _member(shop: Shop, agent: Agent | None, field: str = "actor") -> Agent:
    if agent is None:
        raise KefuError("a logged-in person must do this", field=field, code=E.PERSON_REQUIRED)
    if agent.shop_id != shop.pk or not agent.active:
        raise PermissionDenied("this person does not work in this shop", field=field)
    return agent


def _event(req: OrderRequest, *, action: str, from_state: str, to_state: str, actor: Agent | None, note: str = "",
           kind: str = OrderEventKind.REQUEST) -> OrderEvent:
    return OrderEvent.objects.create(shop_id=req.shop_id, order_id=req.order_id, request=req, kind=kind,
                                     action=action, from_state=from_state, to_state=to_state, actor=actor,
                                     note=note[:500])


def _notify_requester(req: OrderRequest, *, actor: Agent | None, text: str) -> None:
    """The result goes back to the agent who asked (PRE-5), unless they did it themselves."""
    if actor is not None and actor.pk == req.requested_by_id:
        return
    from kefu.approvals.services import notify  # approvals imports orders (price adjustments)

    notify(shop=req.shop, recipients=[req.requested_by_id], text=text,
           link=reverse("orders:detail", args=[req.order.order_id]) + f"#request-{req.pk}")


def _clean_value(kind: str, value, *, shop: Shop) -> str:
    if kind not in NEEDS_VALUE:
        return clean_text(value, field="new_value", max_len=255)
    text = clean_text(value, field="new_value", max_len=NEEDS_VALUE[kind], required=True,
                      required_message=f"required for {kind}")
    if kind == K.CHANGE_SHIP_DATE:
        try:
            day = parse_date(text) if len(text) == 10 else None
        except ValueError:  # well-formed but impossible, e.g. month 13
            day = None
        if day is None:
            raise KefuError("a date YYYY-MM-DD", field="new_value")
        if day < shop_day(timezone.now(), shop.tz):
            raise KefuError("the agreed ship date is in the past", field="new_value")
    return text


# ---------------------------------------------------------------- the state machine

def _transition(req: OrderRequest, *, action: str, actor: Agent | None, note: str = "") -> OrderRequest:
    """Move a locked request along TRANSITIONS and write its OrderEvent (the caller holds the lock)."""
    to_state = TRANSITIONS.get((req.state, action))
    if to_state is None:
        raise KefuError(f"cannot {action} a request that is {req.state}", field="action", code=E.INVALID_TRANSITION)
    from_state = req.state
    req.state = to_state
    fields = ["state", "updated_at"]
    if note:
        req.result = note[:500]
        fields.append("result")
    if to_state in FINAL_STATES:
        req.closed_at = timezone.now()
        fields.append("closed_at")
    req.save(update_fields=fields)
    _event(req, action=action, from_state=from_state, to_state=to_state, actor=actor, note=note)
    if to_state == S.DONE:
        _apply_done(req, actor=actor)
    audit_record(shop=req.shop, actor=user_of(actor), action=f"order_request.{action}", entity=req,
                 before={"state": from_state}, after={"state": to_state, "note": note,
                                                      "by": actor.name if actor else None})
    return req


def _apply_done(req: OrderRequest, *, actor: Agent | None) -> None:
    """A finished address or courier change is written onto the order (and its timeline)."""
    field = {K.CHANGE_ADDRESS: "address", K.CHANGE_COURIER: "courier"}.get(req.kind)
    if not field:
        return
    order = Order.objects.select_for_update().get(pk=req.order_id)
    before = getattr(order, field)
    setattr(order, field, req.new_value[:Order._meta.get_field(field).max_length])
    order.save(update_fields=[field, "updated_at"])
    OrderEvent.objects.create(shop_id=req.shop_id, order=order, request=req, kind=OrderEventKind.ORDER,
                              action=field, actor=actor, note=f"{before} → {getattr(order, field)}"[:500])


def _open_task(req: OrderRequest, kind: str, *, actor: Agent | None) -> WarehouseTask:
    task = WarehouseTask.objects.create(shop_id=req.shop_id, request=req, order_id=req.order_id, kind=kind)
    _event(req, action=f"task.{kind}", from_state="", to_state=TaskState.OPEN, actor=actor,
           kind=OrderEventKind.TASK, note=str(TaskKind(kind).label))
    return task


def order_request_create(*, shop: Shop, order: Order, kind: str, actor: Agent | None, reason: str = "",
                         new_value: str = "") -> OrderRequest:
    """A buyer's request on an order, routed at once by ROUTES from the order's current status."""
    actor = _member(shop, actor)
    if order.shop_id != shop.pk:
        raise NotFound("order not found", field="order_id")
    if kind not in K.values:
        raise KefuError(f"must be one of {', '.join(K.values)}", field="kind")
    if actor.has_role(Role.WAREHOUSE) and not actor.has_role(Role.AGENT, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("the warehouse works tasks; agents make requests", field="actor",
                               code=E.NOT_ALLOWED_ROLE)
    reason = clean_text(reason, field="reason", max_len=500)
    new_value = _clean_value(kind, new_value, shop=shop)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        route = ROUTES[(kind, locked.status)]
        req = OrderRequest.objects.create(shop=shop, order=locked, kind=kind, order_status=locked.status,
                                          route=route.action, new_value=new_value, reason=reason,
                                          requested_by=actor)
        _event(req, action="create", from_state="", to_state=S.OPEN, actor=actor,
               note=" · ".join(x for x in (str(K(kind).label), new_value, reason) if x))
        audit_record(shop=shop, actor=user_of(actor), action="order_request.create", entity=req,
                     after={"kind": kind, "order": locked.order_id, "order_status": locked.status,
                            "new_value": new_value, "reason": reason, "by": actor.name})
        _transition(req, action=route.action, actor=actor, note=str(route.advice))
        if route.task:
            _open_task(req, route.task, actor=actor)
        _auto_remark(req, actor=actor)
    return req


def _auto_remark(req: OrderRequest, *, actor: Agent) -> None:
    """Seed 000 §6: whoever handles an order writes the remark, above all for cancellations and address
    changes; a courier request is a special remark. Written only when the person may write that type."""
    from .remarks import REMARK_ROLES, order_remark_add

    if req.state == S.REFUSED:
        return
    if req.kind == K.CHANGE_COURIER:
        rtype, reason = RemarkType.SPECIAL_COURIER, req.new_value
    elif req.kind in (K.CANCEL, K.CHANGE_ADDRESS):
        shipped = req.order_status == OS.SHIPPED
        rtype = RemarkType.SHIPPED_CHANGE if shipped else RemarkType.UNSHIPPED_CHANGE
        reason = " ".join(x for x in (str(K(req.kind).label), req.reason) if x)
    else:
        return
    if actor.has_role(*REMARK_ROLES[rtype]):
        order_remark_add(shop=req.shop, order=req.order, type=rtype, reason=reason[:100], author=actor, request=req)


def _lock_request(shop: Shop, request_id: int) -> OrderRequest:
    req = (OrderRequest.objects.select_for_update().filter(shop=shop, pk=request_id)
           .select_related("order", "shop").first())
    if req is None:
        raise NotFound("order request not found", field="request_id")
    return req


def order_request_transition(*, shop: Shop, request_id: int, action: str, actor: Agent | None,
                             note: str = "") -> OrderRequest:
    """A person's step on a request: ask the warehouse to intercept (a shipped cancellation), complete,
    refuse or withdraw. The requester or a supervisor and up; routing and warehouse steps are not here."""
    actor = _member(shop, actor)
    if action not in AGENT_ACTIONS:
        raise KefuError(f"action must be one of {', '.join(AGENT_ACTIONS)}", field="action",
                        code=E.INVALID_TRANSITION)
    note = clean_text(note, field="note", max_len=500, required=action == A.REFUSE,
                      required_message="a reason is required to refuse")
    with transaction.atomic():
        req = _lock_request(shop, request_id)
        if req.requested_by_id != actor.pk and not sees_whole_shop(actor):
            raise PermissionDenied("only the agent who asked or a supervisor may do this", field="actor",
                                   code=E.NOT_ALLOWED_ROLE)
        if action == A.ASK_INTERCEPT and req.kind != K.CANCEL:
            raise KefuError("only a cancellation of a shipped order is intercepted", field="action",
                            code=E.INVALID_TRANSITION)
        _transition(req, action=action, actor=actor, note=note)
        if action == A.ASK_INTERCEPT:
            _open_task(req, T.STOP_PARCEL, actor=actor)
        _notify_requester(req, actor=actor, text=f"订单 {req.order.order_id} {K(req.kind).label}："
                                                 f"{actor.name} {A(action).label}（{S(req.state).label}）{note}")
        if action == A.CANCEL:
            now = timezone.now()
            for task in WarehouseTask.objects.select_for_update().filter(request=req, state=TaskState.OPEN):
                task.state, task.done_at, task.done_by = TaskState.CANCELLED, now, actor
                task.save(update_fields=["state", "done_at", "done_by"])
                _event(req, action=f"task.{task.kind}", from_state=TaskState.OPEN, to_state=TaskState.CANCELLED,
                       actor=actor, kind=OrderEventKind.TASK)
    return req


# ---------------------------------------------------------------- warehouse tasks

def warehouse_task_complete(*, shop: Shop, task_id: int, actor: Agent | None, outcome: str, tracking_no: str = "",
                            courier: str = "", note: str = "") -> WarehouseTask:
    """The warehouse finishes a task, exactly once; the outcome moves the request and goes back to the agent.

    `shipped` needs the tracking number (and marks the order shipped); `refused`/`failed` need a note.
    A second completion (or one racing it) gets `already_done`.
    """
    actor = _member(shop, actor)
    if not actor.has_role(*WAREHOUSE_ROLES):
        raise PermissionDenied("warehouse staff, managers and admins only", field="actor", code=E.NOT_ALLOWED_ROLE)
    if outcome not in TaskOutcome.values:
        raise KefuError(f"must be one of {', '.join(TaskOutcome.values)}", field="outcome")
    tracking_no = clean_text(tracking_no, field="tracking_no", max_len=64, required=outcome in NEEDS_TRACKING,
                             required_message="the tracking number is required when the parcel shipped")
    courier = clean_text(courier, field="courier", max_len=40)
    note = clean_text(note, field="note", max_len=500, required=outcome in NEEDS_NOTE,
                      required_message="say why (refused / failed)")
    head = WarehouseTask.objects.filter(shop=shop, pk=task_id).values("request_id", "kind").first()
    if head is None:
        raise NotFound("warehouse task not found", field="task_id")
    action = TASK_OUTCOMES.get((head["kind"], outcome))
    if action is None:
        allowed = ", ".join(o for (k, o) in TASK_OUTCOMES if k == head["kind"])
        raise KefuError(f"outcome for a {head['kind']} task must be one of {allowed}", field="outcome")
    with transaction.atomic():
        req = _lock_request(shop, head["request_id"])
        task = WarehouseTask.objects.select_for_update().get(pk=task_id)
        if task.state != TaskState.OPEN:
            raise KefuError(f"task #{task.pk} is already {task.state}", field="task_id", code=E.ALREADY_DONE)
        task.state, task.outcome, task.done_by, task.done_at = TaskState.DONE, outcome, actor, timezone.now()
        task.tracking_no, task.courier, task.note = tracking_no, courier, note
        task.save(update_fields=["state", "outcome", "done_by", "done_at", "tracking_no", "courier", "note"])
        label = f"{TaskKind(task.kind).label}：{TaskOutcome(outcome).label}"
        detail = " ".join(x for x in (label, courier, tracking_no, note) if x)
        _event(req, action=f"task.{task.kind}", from_state=TaskState.OPEN, to_state=TaskState.DONE, actor=actor,
               kind=OrderEventKind.TASK, note=detail)
        if tracking_no:
            _mark_shipped(req, actor=actor, tracking_no=tracking_no, courier=courier)
        _transition(req, action=action, actor=actor, note=detail)
        audit_record(shop=shop, actor=user_of(actor), action="warehouse_task.complete", entity=task,
                     before={"state": TaskState.OPEN},
                     after={"outcome": outcome, "tracking_no": tracking_no, "note": note, "by": actor.name})
        _notify_requester(req, actor=actor, text=f"订单 {req.order.order_id} {K(req.kind).label}：{detail}"
                                                 f"（{S(req.state).label}）")
    return task


def _mark_shipped(req: OrderRequest, *, actor: Agent, tracking_no: str, courier: str) -> None:
    """The warehouse confirmed the parcel left (点发货): tracking number on the order, status shipped."""
    order = Order.objects.select_for_update().get(pk=req.order_id)
    order.tracking_no = tracking_no
    fields = ["tracking_no", "updated_at"]
    if courier:
        order.courier = courier
        fields.append("courier")
    if order.shipped_at is None:
        order.shipped_at = timezone.now()
        fields.append("shipped_at")
    if order.status in (OS.UNPAID, OS.PAID, OS.PRINTED):
        order.status = OS.SHIPPED
        fields.append("status")
    order.save(update_fields=fields)
    OrderEvent.objects.create(shop_id=req.shop_id, order=order, request=req, kind=OrderEventKind.ORDER,
                              action="shipped", actor=actor, note=f"{courier} {tracking_no}".strip())


def order_mark_printed(*, shop: Shop, order: Order, actor: Agent | None) -> Order:
    """The warehouse printed the slip (打单) of a paid order: status printed, on the timeline."""
    actor = _member(shop, actor)
    if not actor.has_role(*WAREHOUSE_ROLES):
        raise PermissionDenied("warehouse staff, managers and admins only", field="actor", code=E.NOT_ALLOWED_ROLE)
    with transaction.atomic():
        locked = Order.objects.select_for_update().filter(shop=shop, pk=order.pk).first()
        if locked is None:
            raise NotFound("order not found", field="order_id")
        if locked.status != OS.PAID:
            raise KefuError(f"only a paid order is printed (this one is {locked.status})", field="order_id",
                            code=E.WRONG_ORDER_STATE)
        locked.status, locked.printed_at = OS.PRINTED, timezone.now()
        locked.save(update_fields=["status", "printed_at", "updated_at"])
        OrderEvent.objects.create(shop=shop, order=locked, kind=OrderEventKind.ORDER, action="printed", actor=actor)
    return locked
