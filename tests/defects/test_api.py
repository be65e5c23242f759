"""The defects API: alerts, actions, the rule, batches and the report; roles, bad input, query counts."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.services import token_create
from kefu.defects import services
from kefu.defects.models import ProductionAlert

from .conftest import SH, login, open_case


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def burst(shop, n=3, sku="DRESS-M", start=None):
    start = start or dt.datetime.now(SH) - dt.timedelta(days=2)
    cases = [open_case(shop, start + dt.timedelta(hours=i), buyer=f"{sku}-b{i}", sku=sku,
                       note="开线，偏小") for i in range(n)]
    services.alerts_scan(shop=shop)
    return cases


@pytest.mark.django_db
def test_alerts_list_detail_acknowledge_close(api, shop, manager):
    burst(shop)
    r = api.get("/api/v1/defects/alerts")
    assert r.status_code == 200
    [a] = r.json()
    assert (a["sku"], a["state"], a["case_count"], a["buyer_count"]) == ("DRESS-M", "open", 3, 3)
    d = api.get(f"/api/v1/defects/alerts/{a['id']}").json()
    assert len(d["cases"]) == 3 and d["events"][0]["action"] == "raise"
    ops = {o["aspect"]: o for o in d["opinions"]}
    assert ops["quality"]["negative"] == 3 and ops["size"]["negative"] == 3
    mc = login(manager)
    r = post(mc, f"/api/v1/defects/alerts/{a['id']}/acknowledge?shop=s1", {})
    assert r.status_code == 400 and r.json()["field"] == "note"
    r = post(mc, f"/api/v1/defects/alerts/{a['id']}/acknowledge?shop=s1", {"note": "已通知工厂"})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged" and r.json()["acknowledged_by"] == "经理"
    assert api.get("/api/v1/defects/alerts?state=acknowledged").json()[0]["note"] == "已通知工厂"
    r = post(mc, f"/api/v1/defects/alerts/{a['id']}/acknowledge?shop=s1", {"note": "again"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_transition"
    r = post(mc, f"/api/v1/defects/alerts/{a['id']}/close?shop=s1", {})
    assert r.json()["state"] == "closed"
    assert api.get("/api/v1/defects/alerts?state=bogus").status_code == 400
    assert api.get("/api/v1/defects/alerts/999999").status_code == 404


@pytest.mark.django_db
def test_roles(shop, manager, agent_person):
    from kefu.core.services import person_create

    from .conftest import login as _login

    sup = person_create(shop=shop, name="主管", username="sup2", password="pass-word-1", roles=["supervisor"])
    burst(shop)
    alert = ProductionAlert.objects.get()
    ac = _login(agent_person)
    assert ac.get("/api/v1/defects/alerts?shop=s1").status_code == 404
    assert ac.get("/api/v1/defects/report?shop=s1").status_code == 404
    assert post(ac, f"/api/v1/defects/alerts/{alert.pk}/close?shop=s1", {}).status_code == 404
    sc = _login(sup)
    assert sc.get("/api/v1/defects/alerts?shop=s1").status_code == 200
    assert sc.get("/api/v1/defects/rule?shop=s1").status_code == 200
    r = post(sc, f"/api/v1/defects/alerts/{alert.pk}/close?shop=s1", {})
    assert r.status_code == 403 and r.json()["code"] == "manager_only"
    assert post(sc, "/api/v1/defects/rule?shop=s1", {"threshold": 4}).status_code == 403
    assert post(login(manager), "/api/v1/defects/rule?shop=s1", {"threshold": 4}).json()["threshold"] == 4


@pytest.mark.django_db
def test_rule_get_post_and_bad_input(api, shop):
    r = api.get("/api/v1/defects/rule").json()
    assert (r["reasons"], r["threshold"], r["window_days"]) == (["quality", "allergy"], 3, 7)
    r = post(api, "/api/v1/defects/rule", {"reasons": ["quality"], "window_days": 14})
    assert r.status_code == 200 and r.json()["reasons"] == ["quality"] and r.json()["threshold"] == 3
    for body, field in (({"threshold": 0}, "threshold"), ({"window_days": 1000}, "window_days"),
                        ({"reasons": ["quality", "nope"]}, "reasons.1"), ({"reasons": []}, "reasons")):
        r = post(api, "/api/v1/defects/rule", body)
        assert r.status_code == 400 and r.json()["field"] == field, (body, r.content)
    assert post(api, "/api/v1/defects/rule", {"threshold": "many"}).status_code == 422
    r = api.post("/api/v1/defects/rule", "{not json", content_type="application/json")
    assert r.status_code in (400, 422)


@pytest.mark.django_db
def test_batches_and_scan(api, shop, manager):
    cases = [open_case(shop, dt.datetime.now(SH) - dt.timedelta(hours=5 - i), buyer=f"b{i}") for i in range(3)]
    for c in cases:
        r = post(api, "/api/v1/defects/batches", {"case_id": c.pk, "sku": "DRESS-M", "batch": "B7"})
        assert r.status_code == 200 and r.json()["batch"] == "B7"
    assert post(api, "/api/v1/defects/batches", {"case_id": 999999, "sku": "DRESS-M", "batch": "B7"}).status_code == 404
    r = post(api, "/api/v1/defects/batches", {"case_id": cases[0].pk, "sku": "OTHER", "batch": "B7"})
    assert r.status_code == 400 and r.json()["field"] == "sku"
    r = post(login(manager), "/api/v1/defects/scan?shop=s1", {})
    assert r.status_code == 200 and len(r.json()["raised"]) == 1
    assert post(api, "/api/v1/defects/scan", {}).json() == {"raised": [], "bumped": [], "attached": 0}
    assert api.get("/api/v1/defects/alerts").json()[0]["batch"] == "B7"


@pytest.mark.django_db
def test_report_api(api, shop):
    today = dt.datetime.now(SH)
    open_case(shop, today - dt.timedelta(hours=1), buyer="b1", responsible="supplier",
              money=[("goods", "shop_to_buyer", "50.00")])
    r = api.get("/api/v1/defects/report")
    assert r.status_code == 200
    body = r.json()
    assert body["group_by"] == "day" and body["totals"]["cases"] == 1
    assert body["rows"][0]["responsible"] == "supplier" and body["rows"][0]["cost"] == "0.00"  # planned, not paid
    assert api.get("/api/v1/defects/report?group_by=month&responsible=none").json()["rows"] == []
    for q, field in (("group_by=year", "group_by"), ("from=2026-11-05&to=2026-11-01", "from"),
                     ("responsible=boss", "responsible")):
        r = api.get(f"/api/v1/defects/report?{q}")
        assert r.status_code == 400 and r.json()["field"] == field
    assert api.get("/api/v1/defects/report?from=yesterday").status_code == 422


@pytest.mark.django_db
def test_alert_list_query_count_is_flat(api, shop):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/defects/alerts").status_code == 200
        return len(ctx.captured_queries)

    burst(shop, sku="A")
    count()  # the first request of a token also stamps its last use
    one = count()
    for sku in ("B", "C", "D"):
        burst(shop, sku=sku)
    assert ProductionAlert.objects.count() == 4
    assert count() == one


@pytest.mark.django_db
def test_other_shop_sees_nothing(shop, other_shop):
    burst(shop)
    alert = ProductionAlert.objects.get()
    _, raw = token_create(shop=other_shop, name="o")
    from django.test import Client

    c = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert c.get("/api/v1/defects/alerts").json() == []
    assert c.get(f"/api/v1/defects/alerts/{alert.pk}").status_code == 404
    assert post(c, f"/api/v1/defects/alerts/{alert.pk}/close", {}).status_code == 404
    assert c.get("/api/v1/defects/report").json()["rows"] == []


@pytest.mark.django_db
def test_sku_opinions_api_and_report_page(api, shop, manager):
    now = dt.datetime.now(SH)
    open_case(shop, now - dt.timedelta(hours=2), buyer="b1", sku="SKU-Q", note="偏大，颜色很正")
    open_case(shop, now - dt.timedelta(hours=1), buyer="b2", sku="SKU-Q", note="掉色")
    open_case(shop, now - dt.timedelta(hours=1), buyer="b3", sku="SKU-Z", note="质量差")
    ops = {o["aspect"]: o for o in api.get("/api/v1/defects/opinions?sku=SKU-Q").json()}
    assert (ops["size"]["negative"], ops["colour"]["negative"], ops["colour"]["positive"]) == (1, 1, 1)
    assert ops["quality"]["negative"] == 0
    r = api.get("/api/v1/defects/opinions")
    assert r.status_code == 400 and r.json()["field"] == "sku"
    html = login(manager).get("/defects/report/?sku=SKU-Q").content.decode()
    assert 'id="opinions"' in html and "掉色" in html
