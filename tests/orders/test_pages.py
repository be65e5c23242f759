"""Order page, request list and warehouse worklist: forms, roles, masking, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.approvals.models import Notification
from kefu.approvals.services import money_action_request
from kefu.orders.models import OrderRemark, OrderRequest, WarehouseTask
from kefu.orders.requests import order_request_create
from tests.orders.conftest import login


def test_order_page_shows_everything(shop, make_order, kf):
    order = make_order("paid", order_id="P1")
    money_action_request(shop=shop, agent=kf, kind="discount", amount="10", reason="老客", order=order)
    c = login(kf)
    r = c.get("/orders/P1/")
    assert r.status_code == 200
    html = r.content.decode()
    for text in ("SKU-1", "¥178.00", "[改价] 老客 —小美", "改价/优惠", "浙江省杭州市****"):
        assert text in html, text
    assert "文三路" not in html  # an agent sees the address masked
    assert c.get("/orders/NOPE/").status_code == 404


def test_request_form_and_action(shop, make_order, kf):
    make_order("shipped", order_id="S1")
    c = login(kf)
    r = c.post("/orders/S1/requests/", {"kind": "cancel", "reason": "不要了"})
    assert r.status_code == 302
    req = OrderRequest.objects.get()
    assert req.state == "with_agent"
    page = c.get("/orders/S1/").content.decode()
    assert f'id="request-{req.pk}"' in page and "联系快递退回或让买家拒签" in page
    r = c.post(f"/orders/requests/{req.pk}/act/", {"action": "ask_intercept"})
    assert r.status_code == 302
    assert WarehouseTask.objects.get(request=req).kind == "stop_parcel"
    r = c.post(f"/orders/requests/{req.pk}/act/", {"action": "complete"})
    assert r.status_code == 409 and "当前状态不能执行此操作" in r.content.decode()


def test_request_form_errors(shop, make_order, kf):
    make_order("paid", order_id="E1")
    r = login(kf).post("/orders/E1/requests/", {"kind": "change_address", "new_value": ""})
    assert r.status_code == 400 and "new_value" in r.content.decode()
    assert not OrderRequest.objects.exists()


def test_remark_form(shop, make_order, kf, wh):
    make_order("paid", order_id="M1")
    r = login(kf).post("/orders/M1/remarks/", {"type": "special_courier", "reason": "顺丰"})
    assert r.status_code == 302 and OrderRemark.objects.get().text.startswith("[指定快递] 顺丰 —小美")
    page = login(wh).get("/orders/M1/").content.decode()
    assert 'value="price_change"' not in page and 'value="special_courier"' in page
    r = login(wh).post("/orders/M1/remarks/", {"type": "price_change", "reason": "x"})
    assert r.status_code == 400 and OrderRemark.objects.count() == 1


def test_warehouse_worklist_and_completion(shop, make_order, kf, wh):
    order = make_order("printed", order_id="W1")
    req = order_request_create(shop=shop, order=order, kind="cancel", actor=kf)
    task = WarehouseTask.objects.get(request=req)
    c = login(wh)
    page = c.get("/orders/warehouse/").content.decode()
    assert f'id="task-{task.pk}"' in page and "找单拦截" in page
    r = c.post(f"/orders/warehouse/{task.pk}/complete/", {"outcome": "shipped"})
    assert r.status_code == 400 and 'id="task-error"' in r.content.decode()
    r = c.post(f"/orders/warehouse/{task.pk}/complete/", {"outcome": "stopped"})
    assert r.status_code == 302
    page = c.get("/orders/warehouse/").content.decode()
    assert f'id="done-{task.pk}"' in page and f'id="task-{task.pk}"' not in page
    r = c.post(f"/orders/warehouse/{task.pk}/complete/", {"outcome": "stopped"})
    assert r.status_code == 409
    assert c.post("/orders/warehouse/999999/complete/", {"outcome": "stopped"}).status_code == 404
    assert Notification.objects.filter(recipient=kf).count() == 1


def test_agent_sees_worklist_without_forms(shop, make_order, kf):
    order_request_create(shop=shop, order=make_order("printed"), kind="cancel", actor=kf)
    page = login(kf).get("/orders/warehouse/").content.decode()
    assert "task-form" not in page


def test_nav_entries(shop, kf, wh):
    assert "/orders/requests/" in login(kf).get("/orders/requests/").content.decode()
    page = login(wh).get("/orders/warehouse/").content.decode()
    assert 'href="/orders/warehouse/"' in page and 'href="/orders/requests/"' not in page


def _fill(shop, make_order, kf, n, start):
    for i in range(start, start + n):
        order = make_order("printed", order_id=f"Q{i}")
        order_request_create(shop=shop, order=order, kind="cancel", actor=kf)


@pytest.mark.parametrize("url,who", [("/orders/warehouse/", "wh"), ("/orders/requests/", "kf"),
                                     ("/orders/requests/", "supervisor")])
def test_list_pages_query_count_does_not_grow(url, who, shop, make_order, kf, wh, supervisor):
    c = login({"wh": wh, "kf": kf, "supervisor": supervisor}[who])
    _fill(shop, make_order, kf, 2, 0)
    c.get(url)
    with CaptureQueriesContext(connection) as few:
        assert c.get(url).status_code == 200
    _fill(shop, make_order, kf, 10, 2)
    with CaptureQueriesContext(connection) as many:
        assert c.get(url).status_code == 200
    assert len(many) == len(few) <= 12, [q["sql"] for q in many.captured_queries]


def test_order_page_query_count_does_not_grow_with_timeline(shop, make_order, kf):
    from kefu.orders.remarks import order_remark_add

    order = make_order("paid", order_id="C1")
    order_request_create(shop=shop, order=order, kind="change_courier", actor=kf, new_value="顺丰")
    c = login(kf)
    c.get("/orders/C1/")
    with CaptureQueriesContext(connection) as few:
        assert c.get("/orders/C1/").status_code == 200
    for i in range(8):
        order_remark_add(shop=shop, order=order, type="special_courier", reason=f"顺丰{i}", author=kf)
    with CaptureQueriesContext(connection) as many:
        assert c.get("/orders/C1/").status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_order_page_links_its_buyer_for_whoever_may_open_the_buyer(shop, make_order, kf, supervisor):
    """The newcomer's path order → buyer (issue 12): the buyer's name links to the buyer page when the
    buyer list would let the person open that buyer; an agent who never served the buyer gets the name only."""
    order = make_order("paid", order_id="B1")
    html = login(supervisor).get("/orders/B1/").content.decode()
    cell = html.split('id="order-buyer">')[1].split("</dd>")[0]
    assert f'href="/customers/{order.customer_id}/"' in cell and "小王" in cell
    assert login(supervisor).get(f"/customers/{order.customer_id}/").status_code == 200
    cell = login(kf).get("/orders/B1/").content.decode().split('id="order-buyer">')[1].split("</dd>")[0]
    assert "href" not in cell and "小王" in cell
    assert login(kf).get(f"/customers/{order.customer_id}/").status_code == 404
