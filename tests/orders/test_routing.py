"""PRE-5/PRE-6 routing: every (request kind, order status) pair, row by row, against the spec's list."""

import pytest

from kefu.approvals.models import Notification
from kefu.orders.enums import OrderStatus, RequestKind
from kefu.orders.models import OrderEvent, OrderRemark, WarehouseTask
from kefu.orders.requests import ROUTES, order_request_create

# (kind, order status) → (request state right after creation, warehouse task opened or None).
# Written out by hand from SPEC PRE-5 / PRE-6 and seed 000 §3/§4, not derived from the code's table.
CHANGE_VALUE = {"change_address": "上海市浦东新区 1 号", "change_ship_date": "2099-01-01", "change_courier": "顺丰",
                "add_accessory": "多送一个挂钩"}
EXPECTED = {
    ("cancel", "unpaid"): ("done", None),  # the buyer closes the trade; the shop does not
    ("cancel", "paid"): ("with_agent", None),  # not printed: swap or refund, with a remark
    ("cancel", "printed"): ("waiting_warehouse", "find_slip"),  # warehouse finds the slip
    ("cancel", "shipped"): ("with_agent", None),  # courier return or buyer refuses
    ("urge_shipping", "unpaid"): ("refused", None),
    ("urge_shipping", "paid"): ("waiting_warehouse", "confirm_shipped"),
    ("urge_shipping", "printed"): ("waiting_warehouse", "confirm_shipped"),
    ("urge_shipping", "shipped"): ("with_agent", None),
    ("change_address", "shipped"): ("with_agent", None),  # ask the courier to redirect
    ("change_ship_date", "shipped"): ("refused", None),
    ("change_courier", "shipped"): ("refused", None),
    ("add_accessory", "shipped"): ("refused", None),
}
for _kind in ("change_address", "change_ship_date", "change_courier", "add_accessory"):
    for _status in ("unpaid", "paid", "printed"):
        EXPECTED[(_kind, _status)] = ("waiting_warehouse", "change")  # the warehouse confirms or refuses
for _kind in RequestKind.values:
    for _status in ("signed", "completed", "closed", "refunding", "refunded"):
        EXPECTED[(_kind, _status)] = ("refused", None)  # too late: after-sales, or nothing to do


def test_table_covers_every_pair():
    pairs = {(k, s) for k in RequestKind.values for s in OrderStatus.values}
    assert set(ROUTES) == pairs == set(EXPECTED)


@pytest.mark.parametrize("kind,status", sorted(EXPECTED))
def test_route(kind, status, make_order, kf, shop):
    order = make_order(status)
    req = order_request_create(shop=shop, order=order, kind=kind, actor=kf, reason="买家要求",
                               new_value=CHANGE_VALUE.get(kind, ""))
    state, task = EXPECTED[(kind, status)]
    assert req.state == state
    assert req.order_status == status
    tasks = list(WarehouseTask.objects.filter(request=req).values_list("kind", flat=True))
    assert tasks == ([task] if task else [])
    # create + the routing step (+ the task), every one on the order's timeline
    steps = list(OrderEvent.objects.filter(request=req, kind="request").values_list("action", flat=True))
    assert steps == ["create", ROUTES[(kind, status)].action]
    assert req.result  # the advice for the agent is on the request
    assert not Notification.objects.exists()  # the agent did it themselves: nothing to report back


def test_cancel_of_unshipped_order_writes_the_remark(make_order, kf, shop):
    order = make_order("printed")
    order_request_create(shop=shop, order=order, kind="cancel", actor=kf, reason="拍错了")
    remark = OrderRemark.objects.get(order=order)
    assert remark.type == "unshipped_change" and remark.text.startswith("[未发货] 撤单 拍错了 —小美 ")


def test_cancel_of_shipped_order_writes_a_shipped_remark(make_order, kf, shop):
    order = make_order("shipped")
    order_request_create(shop=shop, order=order, kind="cancel", actor=kf, reason="不要了")
    assert OrderRemark.objects.get(order=order).type == "shipped_change"


def test_refused_request_writes_no_remark(make_order, kf, shop):
    order = make_order("completed")
    order_request_create(shop=shop, order=order, kind="cancel", actor=kf)
    assert not OrderRemark.objects.filter(order=order).exists()


def test_courier_request_writes_special_courier_remark(make_order, kf, shop):
    order = make_order("paid")
    order_request_create(shop=shop, order=order, kind="change_courier", actor=kf, new_value="顺丰")
    assert OrderRemark.objects.get(order=order).text.startswith("[指定快递] 顺丰 —小美 ")
