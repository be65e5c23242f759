"""The SLA API: clocks (role-scoped), outcome, policies (managers edit), scan; errors name fields."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.services import person_create
from kefu.sla import services as S
from kefu.sla.models import SlaPolicy

from .conftest import MONDAY, at, login, send

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def data(shop, kf, kf2):
    send(shop, [("m1", "b1", "店铺:阿美", "buyer", at(MONDAY, "10:00"), "o1"),
                ("m2", "b2", "店铺:阿丽", "buyer", at(MONDAY, "10:00"), "o2"),
                ("m3", "b2", "店铺:阿丽", "agent", at(MONDAY, "10:01"))])
    S.sla_scan(shop=shop, now=at(MONDAY, "10:02"))


def test_clocks_scoped_by_role(data, api, kf, manager):
    rows = api.get("/api/v1/sla/clocks").json()
    assert {(r["buyer_id"], r["state"]) for r in rows} == {("b1", "active"), ("b2", "hit")}
    assert [r["buyer_id"] for r in api.get("/api/v1/sla/clocks?running=true").json()] == ["b1"]
    assert [r["buyer_id"] for r in api.get("/api/v1/sla/clocks?state=hit").json()] == ["b2"]
    mine = login(kf).get("/api/v1/sla/clocks?shop=s1").json()
    assert [r["agent"] for r in mine] == ["阿美"]
    assert len(login(manager).get("/api/v1/sla/clocks?shop=s1").json()) == 2
    assert api.get("/api/v1/sla/clocks?state=nope").status_code == 422
    assert api.get("/api/v1/sla/clocks?limit=0").status_code == 422


def test_outcome(data, api, kf2):
    conv = api.get("/api/v1/sla/clocks?state=hit").json()[0]["conversation_id"]
    r = api.get(f"/api/v1/sla/outcome?conversation_id={conv}").json()
    assert r["outcome"] == "hit" and len(r["clocks"]) == 1
    assert api.get("/api/v1/sla/outcome").status_code == 400
    assert api.get("/api/v1/sla/outcome?conversation_id=1&case_id=1").json()["field"] == "conversation_id"
    assert api.get("/api/v1/sla/outcome?conversation_id=999999").json() == {"outcome": None, "clocks": []}


def test_policies_crud(api, shop, manager, agent_person):
    r = post(api, "/api/v1/sla/policies", {"name": "京东首响", "channels": ["jd"], "first_reply_minutes": 2,
                                             "priority": 3})
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    r = post(login(manager), f"/api/v1/sla/policies/{pid}?shop=s1", {"first_reply_minutes": 4, "business_hours": True})
    assert r.status_code == 200 and r.json()["first_reply_minutes"] == 4 and r.json()["business_hours"]
    assert r.json()["channels"] == ["jd"]
    names = [p["name"] for p in api.get("/api/v1/sla/policies").json()]
    assert names == ["京东首响"]
    agent = login(agent_person)
    assert agent.get("/api/v1/sla/policies?shop=s1").status_code == 200
    assert post(agent, f"/api/v1/sla/policies/{pid}?shop=s1", {"first_reply_minutes": 9}).status_code == 403
    assert SlaPolicy.objects.get(pk=pid).first_reply_minutes == 4
    assert post(api, "/api/v1/sla/policies/999999", {"first_reply_minutes": 9}).status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"name": "x"}, "first_reply_minutes"),
    ({"name": "x", "first_reply_minutes": 0}, "first_reply_minutes"),
    ({"name": "x", "first_reply_minutes": 5, "case_types": ["zzz"]}, "case_types[0]"),
    ({"name": "x", "first_reply_minutes": 5, "warn_before_minutes": 9}, "warn_before_minutes"),
    ({"name": " ", "first_reply_minutes": 5}, "name"),
])
def test_bad_policy_input_is_400_naming_the_field(api, body, field):
    r = post(api, "/api/v1/sla/policies", body)
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field


def test_bad_json_types_are_422_never_500(api):
    for body in ({"name": "x", "first_reply_minutes": "five"}, {"name": "x", "channels": "jd"}, [1, 2], {}):
        r = post(api, "/api/v1/sla/policies", body)
        assert r.status_code in (400, 422), (body, r.content)


def test_scan_on_demand(api, shop, kf, agent_person):
    send(shop, [("m1", "b1", "店铺:阿美", "buyer", at(MONDAY, "10:00"), "o1")])
    r = post(api, "/api/v1/sla/scan", {})
    assert r.status_code == 200 and r.json()["created"] == 1 and r.json()["full"]
    assert post(api, "/api/v1/sla/scan", {}).json()["created"] == 0
    assert post(login(agent_person), "/api/v1/sla/scan?shop=s1", {}).status_code == 403


def test_clock_list_queries_do_not_grow(api, shop, kf):
    def fill(start, n):
        send(shop, [(f"m{i}", f"b{i}", "店铺:阿美", "buyer", at(MONDAY, "10:00"), f"o{i}") for i in range(start, n)])
        S.sla_scan(shop=shop, now=at(MONDAY, "10:01"))

    fill(0, 2)
    api.get("/api/v1/sla/clocks")  # warm up (token last-use stamp)
    with CaptureQueriesContext(connection) as small:
        assert len(api.get("/api/v1/sla/clocks").json()) == 2
    fill(2, 30)
    with CaptureQueriesContext(connection) as big:
        assert len(api.get("/api/v1/sla/clocks").json()) == 30
    assert len(big) == len(small)


def test_other_shop_person_sees_nothing(data, other_shop):
    boss = person_create(shop=other_shop, name="老板", username="boss2", password="pass-word-1", roles=["manager"])
    c = login(boss)
    assert c.get("/api/v1/sla/clocks?shop=s1").status_code == 404
    assert c.get("/api/v1/sla/clocks?shop=s2").json() == []
