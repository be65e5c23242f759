"""Courier tracking events (IN-4): kuaidi100-style pushes and files move orders, close late-shipment
rows, clear an early refund's parcel risk and land on the timelines; resends change nothing."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kefu.aftersales.models import Case, CaseEvent
from kefu.core.services import token_create
from kefu.customers.models import Customer
from kefu.integrations.models import TrackingEvent
from kefu.integrations.tracking import state_of, tracking_file_import
from kefu.orders.models import Order, OrderEvent
from kefu.shipping.models import ShippingIssue
from kefu.shipping.services import shipping_audit_run

pytestmark = pytest.mark.django_db


def push_body(number, scans, state):
    """kuaidi100's push: the parcel's state, scans newest first."""
    return {"status": "polling", "message": "", "lastResult": {
        "message": "ok", "nu": number, "com": "zhongtong", "state": state, "ischeck": "1" if state == "3" else "0",
        "data": [{"time": t, "ftime": t, "context": c} for t, c in scans]}}


SCANS = [("2026-11-03 15:20:00", "已签收，签收人：本人"), ("2026-11-03 08:00:00", "【杭州】派件中"),
         ("2026-11-01 18:00:00", "【广州】已揽收")]


@pytest.fixture
def order(shop):
    cust = Customer.objects.create(shop=shop, buyer_id="tb_1")
    return Order.objects.create(shop=shop, order_id="T1", customer=cust, status="paid", tracking_no="ZT7510001",
                                created_at=dt.datetime(2026, 10, 30, 10, tzinfo=shop.tz),
                                paid_at=dt.datetime(2026, 10, 30, 10, 1, tzinfo=shop.tz), paid_amount=Decimal("59.00"))


def test_push_moves_the_order_and_a_resend_changes_nothing(shop, order, api, django_capture_on_commit_callbacks):
    # the order is listed late (paid more than 48 h ago, not shipped)
    shipping_audit_run(shop=shop, now=dt.datetime(2026, 11, 1, 12, tzinfo=shop.tz))
    assert ShippingIssue.objects.filter(order=order, state="open").exists()
    body = json.dumps(push_body("ZT7510001", SCANS, "3"))
    r = api.post("/api/v1/tracking/push", data=body, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json() == {"result": True, "returnCode": "200", "message": "成功", "created": 3, "duplicates": 0}
    order.refresh_from_db()
    tz = shop.tz
    assert order.shipped_at == dt.datetime(2026, 11, 1, 18, tzinfo=tz)
    assert order.signed_at == dt.datetime(2026, 11, 3, 15, 20, tzinfo=tz) and order.status == "signed"
    states = list(TrackingEvent.objects.filter(order=order).order_by("at").values_list("state", flat=True))
    assert states == ["shipped", "in_transit", "signed"]
    # on the order's timeline at the scan times (the push came days later: received time kept apart)
    lines = list(OrderEvent.objects.filter(order=order, action="tracking").order_by("created_at"))
    assert [e.created_at for e in lines] == [dt.datetime.strptime(t, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
                                             for t, _c in reversed(SCANS)]
    assert ["揽收" in lines[0].note, "签收" in lines[2].note] == [True, True]
    assert all(t.came_late for t in TrackingEvent.objects.filter(order=order))
    assert not ShippingIssue.objects.filter(order=order, state="open").exists()  # closed: the parcel shipped
    again = api.post("/api/v1/tracking/push", data=body, content_type="application/json").json()
    assert (again["created"], again["duplicates"]) == (0, 3)
    assert OrderEvent.objects.filter(order=order, action="tracking").count() == 3


def test_form_param_push_and_simple_events(shop, order, api):
    body = push_body("ZT7510001", SCANS[2:], "1")
    r = api.post("/api/v1/tracking/push", data={"param": json.dumps(body)})
    assert r.status_code == 200 and r.json()["created"] == 1
    order.refresh_from_db()
    assert (order.status, order.signed_at) == ("shipped", None)
    r = api.post("/api/v1/tracking/push", content_type="application/json", data=json.dumps({"events": [
        {"number": "ZT7510001", "courier": "中通", "state": "签收", "time": "2026-11-04 09:00:00", "context": "门卫代收"}]}))
    assert r.json()["created"] == 1
    order.refresh_from_db()
    assert order.status == "signed"
    bad = api.post("/api/v1/tracking/push", content_type="application/json", data=json.dumps({"events": [
        {"number": "ZT7510001", "state": "飞走了", "time": "2026-11-04 09:00:00"}]}))
    assert bad.status_code == 400 or bad.status_code == 422
    assert "state" in bad.content.decode()


def test_an_early_refunds_returned_parcel_arriving_clears_the_risk(shop, order, api):
    case = Case.objects.create(shop=shop, order=order, type="return_refund", reason="quality",
                               return_tracking_no="YT900", return_due_at=timezone.now() + dt.timedelta(days=3))
    api.post("/api/v1/tracking/push", content_type="application/json",
             data=json.dumps(push_body("YT900", [("2026-11-05 10:00:00", "已签收")], "3")))
    case.refresh_from_db()
    assert case.return_received_at == dt.datetime(2026, 11, 5, 10, tzinfo=shop.tz)
    assert CaseEvent.objects.filter(case=case, action="return_arrived").exists()


def test_an_open_case_sees_its_parcels_scans(shop, order, api):
    case = Case.objects.create(shop=shop, order=order, type="refund_only", reason="lost_parcel")
    api.post("/api/v1/tracking/push", content_type="application/json",
             data=json.dumps(push_body("ZT7510001", [("2026-11-02 10:00:00", "【中转】疑难件")], "2")))
    assert CaseEvent.objects.get(case=case, action="tracking").note.startswith("物流：异常")


def test_file_import(shop, order, tmp_path):
    path = tmp_path / "scans.csv"
    path.write_text("物流单号,快递公司,状态,时间,描述\nZT7510001,中通快递,1,2026-11-01 18:00:00,已揽收\n"
                    "ZT7510001,中通快递,3,2026-11-03 15:20:00,已签收\nUNKNOWN1,圆通,0,2026-11-02 10:00:00,在途\n",
                    encoding="utf-8")
    got = tracking_file_import(shop=shop, path=path)
    assert (got.created, got.orders_moved) == (3, ["T1"])
    assert TrackingEvent.objects.get(tracking_no="UNKNOWN1").order is None  # kept; matched when the order comes
    order.refresh_from_db()
    assert order.status == "signed"


def test_states():
    assert [state_of(x) for x in ("1", "0", "5", "2", "3", "4", "6", "14", "签收", "signed")] == [
        "shipped", "in_transit", "in_transit", "exception", "signed", "returned", "returned", "exception", "signed",
        "signed"]


def test_push_is_per_shop(shop, other_shop, order):
    other = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(shop=other_shop, name='t')[1]}")
    body = json.dumps(push_body("ZT7510001", SCANS, "3"))
    assert other.post("/api/v1/tracking/push?shop=s1", data=body, content_type="application/json").status_code == 404
    other.post("/api/v1/tracking/push", data=body, content_type="application/json")
    order.refresh_from_db()
    assert order.status == "paid"  # the other shop's scans never touch this shop's order


def test_import_command_names_the_bad_row(shop, order, tmp_path):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "bad.csv"
    path.write_text("number,state,time\nZT7510001,3,2026-11-03 15:20:00\nZT7510001,3,not a time\n", encoding="utf-8")
    with pytest.raises(CommandError, match="row 3, time"):
        call_command("import_tracking", str(path), shop="s1")
    assert not TrackingEvent.objects.exists()
    path.write_text("number,state,time\nZT7510001,3,2026-11-03 15:20:00\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_tracking", str(path), shop="s1", stdout=out)
    assert "1 created" in out.getvalue() and "1 order(s) moved" in out.getvalue()
