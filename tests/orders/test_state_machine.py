"""Order request state machine, warehouse task completion and what flows back to the agent."""

import datetime as dt

import pytest

from kefu.approvals.models import Notification
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.models import AuditLog
from kefu.orders.enums import RequestAction, RequestState
from kefu.orders.models import OrderEvent, WarehouseTask
from kefu.orders.requests import (
    AGENT_ACTIONS,
    TRANSITIONS,
    order_request_create,
    order_request_transition,
    warehouse_task_complete,
)

S, A = RequestState, RequestAction
# Written out by hand: what a person may do in each state.
ALLOWED = {
    S.WITH_AGENT: {A.ASK_INTERCEPT, A.COMPLETE, A.REFUSE, A.CANCEL},
    S.WAITING_WAREHOUSE: {A.CANCEL},
    S.DONE: set(), S.REFUSED: set(), S.CANCELLED: set(), S.OPEN: set(),
}


def test_table_matches_the_hand_written_rules():
    for state in S.values:
        got = {a for a in AGENT_ACTIONS if (state, a) in TRANSITIONS}
        assert got == ALLOWED[state], state


# A request in each state: (order status, kind, steps to get there).
def _request_in(state, *, shop, make_order, kf, wh):
    if state == S.WITH_AGENT:
        return order_request_create(shop=shop, order=make_order("shipped"), kind="cancel", actor=kf)
    if state == S.WAITING_WAREHOUSE:
        return order_request_create(shop=shop, order=make_order("printed"), kind="cancel", actor=kf)
    if state == S.DONE:
        return order_request_create(shop=shop, order=make_order("unpaid"), kind="cancel", actor=kf)
    if state == S.REFUSED:
        return order_request_create(shop=shop, order=make_order("completed"), kind="cancel", actor=kf)
    if state == S.CANCELLED:
        r = order_request_create(shop=shop, order=make_order("shipped"), kind="cancel", actor=kf)
        return order_request_transition(shop=shop, request_id=r.pk, action="cancel", actor=kf)
    raise AssertionError(state)


@pytest.mark.parametrize("state", [S.WITH_AGENT, S.WAITING_WAREHOUSE, S.DONE, S.REFUSED, S.CANCELLED])
@pytest.mark.parametrize("action", AGENT_ACTIONS)
def test_every_agent_step(state, action, shop, make_order, kf, wh):
    req = _request_in(state, shop=shop, make_order=make_order, kf=kf, wh=wh)
    assert req.state == state
    before = OrderEvent.objects.filter(request=req).count()
    note = "买家不同意" if action == A.REFUSE else ""
    if action in ALLOWED[state]:
        req = order_request_transition(shop=shop, request_id=req.pk, action=action, actor=kf, note=note)
        assert req.state == TRANSITIONS[(state, action)]
        ev = OrderEvent.objects.filter(request=req, kind="request").last()
        assert (ev.action, ev.from_state, ev.to_state, ev.actor_id) == (action, state, req.state, kf.pk)
        assert AuditLog.objects.filter(action=f"order_request.{action}").exists()
    else:
        with pytest.raises(KefuError) as exc:
            order_request_transition(shop=shop, request_id=req.pk, action=action, actor=kf, note=note)
        assert exc.value.code == "invalid_transition"
        assert OrderEvent.objects.filter(request=req).count() == before


def test_routing_and_warehouse_actions_are_not_a_persons(shop, make_order, kf):
    req = order_request_create(shop=shop, order=make_order("printed"), kind="cancel", actor=kf)
    for action in ("warehouse_done", "route_buyer", "nonsense"):
        with pytest.raises(KefuError) as exc:
            order_request_transition(shop=shop, request_id=req.pk, action=action, actor=kf)
        assert exc.value.field == "action"


def test_refuse_needs_a_reason(shop, make_order, kf):
    req = order_request_create(shop=shop, order=make_order("shipped"), kind="cancel", actor=kf)
    with pytest.raises(KefuError) as exc:
        order_request_transition(shop=shop, request_id=req.pk, action="refuse", actor=kf, note="  ")
    assert exc.value.field == "note"


def test_only_requester_or_supervisor(shop, make_order, kf, kf2, supervisor):
    req = order_request_create(shop=shop, order=make_order("shipped"), kind="cancel", actor=kf)
    with pytest.raises(PermissionDenied):
        order_request_transition(shop=shop, request_id=req.pk, action="complete", actor=kf2)
    req = order_request_transition(shop=shop, request_id=req.pk, action="complete", actor=supervisor)
    assert req.state == S.DONE
    note = Notification.objects.get(recipient=kf)
    assert "主管周敏" in note.text and "已完成" in note.text


def test_other_shop_request_is_not_found(shop, other_shop, make_order, kf):
    from kefu.core.services import person_create

    req = order_request_create(shop=shop, order=make_order("shipped"), kind="cancel", actor=kf)
    stranger = person_create(shop=other_shop, name="外人", roles=["supervisor"], group="")
    with pytest.raises(NotFound):
        order_request_transition(shop=other_shop, request_id=req.pk, action="cancel", actor=stranger)


# ---------------------------------------------------------------- the warehouse


def test_printed_cancel_stopped_by_warehouse_reports_back(shop, make_order, kf, wh):
    order = make_order("printed")
    req = order_request_create(shop=shop, order=order, kind="cancel", actor=kf, reason="不想要了")
    task = WarehouseTask.objects.get(request=req)
    assert task.kind == "find_slip" and task.state == "open"
    warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="stopped")
    req.refresh_from_db()
    task.refresh_from_db()
    assert req.state == S.DONE and req.closed_at is not None
    assert (task.state, task.outcome, task.done_by_id) == ("done", "stopped", wh.pk)
    note = Notification.objects.get(recipient=kf)
    assert order.order_id in note.text and "已拦下" in note.text and note.link.endswith(f"#request-{req.pk}")
    kinds = list(OrderEvent.objects.filter(order=order).values_list("kind", "action"))
    assert ("task", "task.find_slip") in kinds and ("request", "warehouse_done") in kinds


def test_slip_not_found_and_shipped_goes_back_to_agent_with_tracking(shop, make_order, kf, wh):
    order = make_order("printed")
    req = order_request_create(shop=shop, order=order, kind="cancel", actor=kf)
    task = WarehouseTask.objects.get(request=req)
    with pytest.raises(KefuError) as exc:
        warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="shipped")
    assert exc.value.field == "tracking_no"
    warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="shipped", tracking_no="SF123",
                            courier="顺丰")
    req.refresh_from_db()
    order.refresh_from_db()
    assert req.state == S.WITH_AGENT
    assert (order.status, order.tracking_no, order.courier) == ("shipped", "SF123", "顺丰")
    assert order.shipped_at is not None
    # The agent now asks the warehouse to intercept: a stop-parcel task; it fails; the agent completes.
    order_request_transition(shop=shop, request_id=req.pk, action="ask_intercept", actor=kf)
    stop = WarehouseTask.objects.get(request=req, kind="stop_parcel")
    with pytest.raises(KefuError) as exc:
        warehouse_task_complete(shop=shop, task_id=stop.pk, actor=wh, outcome="failed")
    assert exc.value.field == "note"
    warehouse_task_complete(shop=shop, task_id=stop.pk, actor=wh, outcome="failed", note="快递已派送")
    req.refresh_from_db()
    assert req.state == S.WITH_AGENT
    order_request_transition(shop=shop, request_id=req.pk, action="complete", actor=kf, note="买家拒签")
    req.refresh_from_db()
    assert req.state == S.DONE
    assert Notification.objects.filter(recipient=kf).count() == 2


def test_change_address_done_updates_the_order(shop, make_order, kf, wh):
    order = make_order("paid")
    req = order_request_create(shop=shop, order=order, kind="change_address", actor=kf,
                               new_value="上海市浦东新区世纪大道 1 号")
    task = WarehouseTask.objects.get(request=req)
    warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="done")
    order.refresh_from_db()
    assert order.address == "上海市浦东新区世纪大道 1 号"
    assert OrderEvent.objects.filter(order=order, kind="order", action="address").exists()


def test_change_refused_by_warehouse(shop, make_order, kf, wh):
    order = make_order("printed")
    req = order_request_create(shop=shop, order=order, kind="add_accessory", actor=kf, new_value="挂钩")
    task = WarehouseTask.objects.get(request=req)
    with pytest.raises(KefuError) as exc:  # an outcome that is not for a change task
        warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="stopped")
    assert exc.value.field == "outcome"
    warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="refused", note="配件缺货")
    req.refresh_from_db()
    assert req.state == S.REFUSED and "配件缺货" in req.result


def test_urge_shipping_confirmed_with_tracking(shop, make_order, kf, wh):
    order = make_order("paid")
    req = order_request_create(shop=shop, order=order, kind="urge_shipping", actor=kf)
    task = WarehouseTask.objects.get(request=req)
    assert task.kind == "confirm_shipped"
    warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="shipped", tracking_no="YT9", courier="圆通")
    req.refresh_from_db()
    order.refresh_from_db()
    assert req.state == S.DONE and order.status == "shipped" and order.tracking_no == "YT9"


def test_completed_once(shop, make_order, kf, wh):
    req = order_request_create(shop=shop, order=make_order("printed"), kind="cancel", actor=kf)
    task = WarehouseTask.objects.get(request=req)
    warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="stopped")
    with pytest.raises(KefuError) as exc:
        warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="stopped")
    assert exc.value.code == "already_done"
    assert OrderEvent.objects.filter(request=req, kind="task", to_state="done").count() == 1
    assert Notification.objects.filter(recipient=kf).count() == 1


def test_only_warehouse_completes(shop, make_order, kf, wh):
    req = order_request_create(shop=shop, order=make_order("printed"), kind="cancel", actor=kf)
    task = WarehouseTask.objects.get(request=req)
    with pytest.raises(PermissionDenied):
        warehouse_task_complete(shop=shop, task_id=task.pk, actor=kf, outcome="stopped")
    with pytest.raises(KefuError) as exc:
        warehouse_task_complete(shop=shop, task_id=task.pk, actor=None, outcome="stopped")
    assert exc.value.code == "person_required"


def test_withdrawing_cancels_the_open_task(shop, make_order, kf, wh):
    req = order_request_create(shop=shop, order=make_order("printed"), kind="cancel", actor=kf)
    task = WarehouseTask.objects.get(request=req)
    order_request_transition(shop=shop, request_id=req.pk, action="cancel", actor=kf)
    task.refresh_from_db()
    assert task.state == "cancelled"
    with pytest.raises(KefuError) as exc:
        warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="stopped")
    assert exc.value.code == "already_done"


def test_warehouse_cannot_make_requests(shop, make_order, wh):
    with pytest.raises(PermissionDenied):
        order_request_create(shop=shop, order=make_order("paid"), kind="cancel", actor=wh)


@pytest.mark.parametrize("kind,value,field", [
    ("nope", "", "kind"),
    ("change_address", "", "new_value"),
    ("change_ship_date", "tomorrow", "new_value"),
    ("change_ship_date", "2020-01-01", "new_value"),
    ("change_courier", "x" * 41, "new_value"),
    ("cancel", 5, "new_value"),
])
def test_bad_input(kind, value, field, shop, make_order, kf):
    with pytest.raises(KefuError) as exc:
        order_request_create(shop=shop, order=make_order("paid"), kind=kind, actor=kf, new_value=value)
    assert exc.value.field == field


def test_ship_date_today_is_fine(shop, make_order, kf):
    from django.utils import timezone

    from kefu.core.timeutil import shop_day

    today = shop_day(timezone.now(), shop.tz)
    req = order_request_create(shop=shop, order=make_order("paid"), kind="change_ship_date", actor=kf,
                               new_value=today.isoformat())
    assert req.state == S.WAITING_WAREHOUSE
    assert dt.date.fromisoformat(req.new_value) == today


def test_other_shops_order_is_refused(shop, other_shop, make_order, kf):
    order = make_order("paid", shop_obj=other_shop)
    with pytest.raises(NotFound):
        order_request_create(shop=shop, order=order, kind="cancel", actor=kf)


def test_mark_printed(shop, make_order, kf, wh):
    from kefu.orders.requests import order_mark_printed

    order = make_order("paid")
    with pytest.raises(PermissionDenied):
        order_mark_printed(shop=shop, order=order, actor=kf)
    order = order_mark_printed(shop=shop, order=order, actor=wh)
    assert order.status == "printed" and order.printed_at is not None
    with pytest.raises(KefuError) as exc:
        order_mark_printed(shop=shop, order=order, actor=wh)
    assert exc.value.code == "wrong_order_state"
    req = order_request_create(shop=shop, order=order, kind="cancel", actor=kf)
    assert WarehouseTask.objects.get(request=req).kind == "find_slip"
