"""The shipping API: list with filters (flat query count), resolve, audit on demand, settings, roles."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.shipping.models import ShippingIssue
from kefu.shipping.services import shipping_audit_run

from .conftest import NOW, login, order, sku

H = dt.timedelta(hours=1)


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def listed(shop, customer):
    sku(shop, "A", stock=1)
    for i in range(6):
        order(shop, customer, f"o{i}", paid_at=NOW - (20 + 6 * i) * H, items=[("A", 1)])
    shipping_audit_run(shop=shop, now=NOW)
    return ShippingIssue.objects.filter(shop=shop)


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200, r.content
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_list_filters_and_flat_queries(api, listed, shop, customer):
    body = api.get("/api/v1/shipping/issues").json()
    by_kind = {}
    for i in body:
        by_kind.setdefault(i["kind"], []).append(i["order_id"])
    # waited 20, 26, 32, 38, 44, 50 h; o5 (paid first) takes the one unit, the others are oversold.
    assert by_kind == {"late": ["o1", "o2", "o3", "o4"], "overdue_hard": ["o5"],
                       "oversold": ["o0", "o1", "o2", "o3", "o4"]}
    assert [i["order_id"] for i in api.get("/api/v1/shipping/issues?kind=overdue_hard").json()] == ["o5"]
    assert api.get("/api/v1/shipping/issues?day=2026-11-19").json() == []
    assert len(api.get("/api/v1/shipping/issues?day=2026-11-20&state=open").json()) == 10
    assert api.get("/api/v1/shipping/issues?kind=bogus").status_code == 400
    few = _count(api, "/api/v1/shipping/issues?limit=2")
    for i in range(6, 16):
        order(shop, customer, f"o{i}", paid_at=NOW - 30 * H)
    shipping_audit_run(shop=shop, now=NOW)
    assert _count(api, "/api/v1/shipping/issues") == few


@pytest.mark.django_db
def test_resolve_via_api(api, listed):
    hard = listed.get(kind="overdue_hard")
    r = post(api, f"/api/v1/shipping/issues/{hard.pk}/resolve", {"action": "reissue", "note": "补发顺丰"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "resolved" and r.json()["resolution"] == "reissue"
    events = api.get(f"/api/v1/shipping/issues/{hard.pk}").json()["events"]
    assert [(e["action"], e["to_state"], e["note"]) for e in events] == [("create", "open", ""),
                                                                        ("reissue", "resolved", "补发顺丰")]
    r = post(api, f"/api/v1/shipping/issues/{hard.pk}/resolve", {"action": "reissue"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_transition"
    late = listed.filter(kind="late").first()
    r = post(api, f"/api/v1/shipping/issues/{late.pk}/resolve", {"action": "dismiss"})
    assert r.status_code == 400 and r.json()["field"] == "action"
    r = post(api, f"/api/v1/shipping/issues/{late.pk}/resolve", {})
    assert r.status_code == 422
    assert post(api, "/api/v1/shipping/issues/999999/resolve", {"action": "shipped"}).status_code == 404


@pytest.mark.django_db
def test_warehouse_sees_the_delayed_orders_only(shop, listed, warehouse):
    c = login(warehouse)
    kinds = {i["kind"] for i in c.get("/api/v1/shipping/issues?shop=s1").json()}
    assert kinds == {"late", "overdue_hard"}
    oversold = listed.filter(kind="oversold").first()
    assert c.get(f"/api/v1/shipping/issues/{oversold.pk}?shop=s1").status_code == 404
    late = listed.filter(kind="late").first()
    assert post(c, f"/api/v1/shipping/issues/{late.pk}/resolve?shop=s1", {"action": "cancel"}).status_code == 403
    assert post(c, f"/api/v1/shipping/issues/{late.pk}/resolve?shop=s1", {"action": "shipped"}).status_code == 200


@pytest.mark.django_db
def test_audit_on_demand_is_idempotent(api, shop, customer):
    order(shop, customer, "x", paid_at=dt.datetime.now(dt.UTC) - 30 * H)
    first = post(api, "/api/v1/shipping/audit", {}).json()
    assert first["created"] == {"late": 1}
    assert post(api, "/api/v1/shipping/audit", {}).json()["created"] == {}
    assert ShippingIssue.objects.filter(shop=shop).count() == 1


@pytest.mark.django_db
def test_settings_api(api, agent_person):
    assert api.get("/api/v1/shipping/settings").json()["promise_hours"] == 24
    r = post(api, "/api/v1/shipping/settings", {"promise_hours": 12, "hard_limit_hours": 36})
    assert r.status_code == 200 and r.json()["hard_limit_hours"] == 36
    r = post(api, "/api/v1/shipping/settings", {"hard_limit_hours": 6})
    assert r.status_code == 400 and r.json()["field"] == "hard_limit_hours"
    r = post(api, "/api/v1/shipping/settings", {"audit_hour": 24})
    assert r.status_code == 400 and r.json()["field"] == "audit_hour"
    r = post(login(agent_person), "/api/v1/shipping/settings?shop=s1", {"promise_hours": 1})
    assert r.status_code == 403
