"""The order request, warehouse task and remark API: shapes, errors, tenancy, query counts."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.orders.models import WarehouseTask
from kefu.orders.requests import order_request_create
from tests.orders.conftest import login


def post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def test_create_request_and_read_it(shop, make_order, kf):
    order = make_order("printed", order_id="P1")
    c = login(kf)
    r = post(c, "/api/v1/orders/P1/requests?shop=s1", {"kind": "cancel", "reason": "拍错了"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "waiting_warehouse" and body["order_status"] == "printed"
    assert body["allowed_actions"] == ["cancel"]
    assert body["script_key"] == "order.cancel.waiting_warehouse"
    assert "P1" in body["suggested_reply"] and "仓库" in body["suggested_reply"]
    assert c.get("/api/v1/orders/P1/requests?shop=s1").json()[0]["id"] == body["id"]
    assert c.get(f"/api/v1/order-requests/{body['id']}?shop=s1").json()["kind"] == "cancel"
    detail = c.get("/api/v1/orders/P1?shop=s1").json()
    assert [e["action"] for e in detail["events"]][:3] == ["create", "route_warehouse", "task.find_slip"]
    assert detail["remark_text"].startswith("[未发货] 撤单 拍错了 —小美")
    assert order.order_id == "P1"


def test_transition_and_errors(shop, make_order, kf):
    make_order("shipped", order_id="S1")
    c = login(kf)
    rid = post(c, "/api/v1/orders/S1/requests?shop=s1", {"kind": "cancel"}).json()["id"]
    r = post(c, f"/api/v1/order-requests/{rid}/transition?shop=s1", {"action": "refuse"})
    assert r.status_code == 400 and r.json()["field"] == "note"
    r = post(c, f"/api/v1/order-requests/{rid}/transition?shop=s1", {"action": "warehouse_done"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_transition"
    r = post(c, f"/api/v1/order-requests/{rid}/transition?shop=s1", {"action": "complete", "note": "买家拒签"})
    assert r.status_code == 200 and r.json()["state"] == "done"
    assert r.json()["script_key"] == "order.cancel.done"
    r = post(c, f"/api/v1/order-requests/{rid}/transition?shop=s1", {"action": "cancel"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_transition"
    assert post(c, "/api/v1/order-requests/999999/transition?shop=s1", {"action": "cancel"}).status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"kind": "nope"}, "kind"),
    ({}, "kind"),
    ({"kind": "change_address"}, "new_value"),
    ({"kind": "change_ship_date", "new_value": "2026-13-01"}, "new_value"),
    ({"kind": "cancel", "reason": "x" * 501}, "reason"),
])
def test_bad_request_input(body, field, shop, make_order, kf):
    make_order("paid", order_id="B1")
    r = post(login(kf), "/api/v1/orders/B1/requests?shop=s1", body)
    assert r.status_code in (400, 422), r.content
    data = r.json()
    fields = [e["field"] for e in data.get("errors", [])] + [data.get("field")]
    assert field in fields, data


def test_unknown_order_is_404(shop, kf):
    assert post(login(kf), "/api/v1/orders/NOPE/requests?shop=s1", {"kind": "cancel"}).status_code == 404


def test_token_cannot_make_requests(shop, make_order, api):
    make_order("paid", order_id="T1")
    r = post(api, "/api/v1/orders/T1/requests", {"kind": "cancel"})
    assert r.status_code == 400 and r.json()["code"] == "person_required"


def test_warehouse_complete_api(shop, make_order, kf, wh):
    make_order("printed", order_id="W1")
    post(login(kf), "/api/v1/orders/W1/requests?shop=s1", {"kind": "cancel"})
    c = login(wh)
    tasks = c.get("/api/v1/warehouse-tasks?shop=s1&state=open").json()
    assert [t["kind"] for t in tasks] == ["find_slip"] and tasks[0]["requested_by"] == "小美"
    tid = tasks[0]["id"]
    r = post(c, f"/api/v1/warehouse-tasks/{tid}/complete?shop=s1", {"outcome": "shipped"})
    assert r.status_code == 400 and r.json()["field"] == "tracking_no"
    r = post(c, f"/api/v1/warehouse-tasks/{tid}/complete?shop=s1", {"outcome": "bogus"})
    assert r.status_code == 422
    r = post(c, f"/api/v1/warehouse-tasks/{tid}/complete?shop=s1",
             {"outcome": "shipped", "tracking_no": "SF1", "courier": "顺丰"})
    assert r.status_code == 200 and r.json()["state"] == "done" and r.json()["tracking_no"] == "SF1"
    r = post(c, f"/api/v1/warehouse-tasks/{tid}/complete?shop=s1", {"outcome": "stopped"})
    assert r.status_code == 409 and r.json()["code"] == "already_done"
    r = post(login(kf), f"/api/v1/warehouse-tasks/{tid}/complete?shop=s1", {"outcome": "stopped"})
    assert r.status_code == 403
    req = login(kf).get("/api/v1/orders/W1/requests?shop=s1").json()[0]
    assert req["state"] == "with_agent" and "SF1" in req["result"]


def test_remarks_api(shop, make_order, kf, wh):
    make_order("paid", order_id="R1")
    r = post(login(kf), "/api/v1/orders/R1/remarks?shop=s1", {"type": "special_courier", "reason": "顺丰"})
    assert r.status_code == 201 and r.json()["text"].startswith("[指定快递] 顺丰 —小美 ")
    r = post(login(kf), "/api/v1/orders/R1/remarks?shop=s1", {"type": "refundable", "reason": "缺货"})
    assert r.status_code == 403 and r.json()["field"] == "type"
    r = post(login(wh), "/api/v1/orders/R1/remarks?shop=s1", {"type": "price_change"})
    assert r.status_code == 403
    r = post(login(kf), "/api/v1/orders/R1/remarks?shop=s1", {"type": "unshipped_change"})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = post(login(kf), "/api/v1/orders/R1/remarks?shop=s1", {"type": "xx", "reason": "a"})
    assert r.status_code == 422
    listed = login(wh).get("/api/v1/orders/R1/remarks?shop=s1").json()
    assert [m["type"] for m in listed] == ["special_courier"]


def test_other_shop_objects_are_404(shop, other_shop, make_order, kf):
    from kefu.core.services import person_create

    make_order("printed", order_id="X1")
    req = order_request_create(shop=shop, order=make_order("printed", order_id="X2"), kind="cancel", actor=kf)
    task = WarehouseTask.objects.get(request=req)
    stranger = person_create(shop=other_shop, name="外人", username="x", password="pass-word-1",
                             roles=["admin"], group="")
    c = login(stranger)
    assert c.get("/api/v1/orders/X1?shop=s2").status_code == 404
    assert post(c, "/api/v1/orders/X1/requests?shop=s2", {"kind": "cancel"}).status_code == 404
    assert post(c, f"/api/v1/order-requests/{req.pk}/transition?shop=s2", {"action": "cancel"}).status_code == 404
    assert post(c, f"/api/v1/warehouse-tasks/{task.pk}/complete?shop=s2", {"outcome": "stopped"}).status_code == 404
    assert c.get("/api/v1/warehouse-tasks?shop=s2").json() == []
    assert c.get("/api/v1/order-requests?shop=s2").json() == []


def _fill(shop, make_order, kf, n, start):
    for i in range(start, start + n):
        order = make_order("printed" if i % 2 else "paid", order_id=f"Q{i}")
        order_request_create(shop=shop, order=order, kind="cancel" if i % 2 else "change_address", actor=kf,
                             new_value="" if i % 2 else "新地址 1 号")


@pytest.mark.parametrize("url", ["/api/v1/order-requests?shop=s1", "/api/v1/warehouse-tasks?shop=s1"])
def test_list_query_counts_do_not_grow(url, shop, make_order, kf, supervisor):
    c = login(supervisor)
    _fill(shop, make_order, kf, 2, 0)
    c.get(url)
    with CaptureQueriesContext(connection) as few:
        assert len(c.get(url).json()) == 2
    _fill(shop, make_order, kf, 10, 2)
    with CaptureQueriesContext(connection) as many:
        assert len(c.get(url).json()) == 12
    assert len(many) == len(few) <= 8, [q["sql"] for q in many.captured_queries]


def test_order_remarks_and_detail_query_counts(shop, make_order, kf):
    from kefu.orders.remarks import order_remark_add

    order = make_order("paid", order_id="C1")
    c = login(kf)
    order_remark_add(shop=shop, order=order, type="special_courier", reason="顺丰", author=kf)
    with CaptureQueriesContext(connection) as few:
        c.get("/api/v1/orders/C1?shop=s1")
        c.get("/api/v1/orders/C1/remarks?shop=s1")
    for i in range(8):
        order_remark_add(shop=shop, order=order, type="special_courier", reason=f"顺丰{i}", author=kf)
    with CaptureQueriesContext(connection) as many:
        c.get("/api/v1/orders/C1?shop=s1")
        assert len(c.get("/api/v1/orders/C1/remarks?shop=s1").json()) == 9
    assert len(many) == len(few)
