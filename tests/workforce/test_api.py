"""The workforce API: happy paths, bad input naming the field, roles, other shops' ids → 404."""

import json

import pytest
from django.test import Client

from kefu.core.services import person_create, token_create
from kefu.workforce.models import AgentStatusChange, RosterEntry
from kefu.workforce.services import roster_assign, shift_create

from .conftest import MONDAY, at

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_shift_types_create_list_update(api, shop):
    r = post(api, "/api/v1/shifts", {"name": "夜班", "start": "22:00", "end": "06:00", "group": "presales"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["crosses_midnight"] is True and body["minutes"] == 480
    r = post(api, f"/api/v1/shifts/{body['id']}", {"end": "07:00"})
    assert r.json()["end"] == "07:00" and r.json()["name"] == "夜班"
    assert [s["name"] for s in api.get("/api/v1/shifts").json()] == ["夜班"]


@pytest.mark.parametrize("body,field,status", [
    ({"name": "x", "start": "8点", "end": "17:00"}, "start", 400),
    ({"name": "x", "start": "08:00", "end": "08:00"}, "end", 400),
    ({"name": "x", "start": "08:00", "end": "17:00", "group": "nobody"}, "group", 400),
    ({"name": "x", "start": "08:00"}, "end", 422),
])
def test_shift_bad_input(api, body, field, status):
    r = post(api, "/api/v1/shifts", body)
    assert r.status_code == status, r.content
    data = r.json()
    fields = [data["field"]] if "field" in data else [e["field"] for e in data["errors"]]
    assert field in fields


def test_roster_week_and_entries(api, shop, shifts, agent_person, colleague):
    day, late = shifts["day"].id, shifts["late"].id
    r = post(api, "/api/v1/roster/week", {"week": "2026-03-02", "group": "presales", "pattern": {
        str(agent_person.id): [day, day, day, day, day, late, None]}})
    assert r.status_code == 200 and r.json() == {"entries": 6}
    r = post(api, "/api/v1/roster/entries", {"agent_id": colleague.id, "date": "2026-03-08", "shift_id": late})
    assert r.status_code == 200 and r.json()["agent"] == "阿强"
    entry_id = r.json()["id"]
    roster = api.get("/api/v1/roster?week=2026-03-04").json()
    assert roster["week"] == "2026-03-02"
    rows = {a["name"]: a for a in roster["agents"]}
    assert [len(d) for d in rows["小美"]["days"]] == [1, 1, 1, 1, 1, 1, 0]
    assert rows["阿强"]["days"][6][0]["shift"] == "晚班"
    assert post(api, f"/api/v1/roster/entries/{entry_id}/delete", {}).json() == {"deleted": entry_id}
    assert not RosterEntry.objects.filter(pk=entry_id).exists()


def test_roster_bad_input(api, shop, shifts, agent_person):
    r = post(api, "/api/v1/roster/week", {"week": "2026-03-03", "pattern": {str(agent_person.id): [None] * 7}})
    assert r.status_code == 400 and r.json()["field"] == "week"
    r = post(api, "/api/v1/roster/week", {"week": "2026-03-02", "pattern": {"abc": [None] * 7}})
    assert r.status_code == 400 and r.json()["field"] == "pattern.abc"
    r = post(api, "/api/v1/roster/week", {"week": "2026-03-02", "pattern": {str(agent_person.id): [99999] * 7}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == f"pattern.{agent_person.id}.0"
    r = post(api, "/api/v1/roster/entries", {"agent_id": agent_person.id, "date": "2026-02-30",
                                              "shift_id": shifts["day"].id})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "date"
    post(api, "/api/v1/roster/entries", {"agent_id": agent_person.id, "date": "2026-03-02", "shift_id": shifts["night"].id})
    r = post(api, "/api/v1/roster/entries", {"agent_id": agent_person.id, "date": "2026-03-03",
                                              "shift_id": shifts["early"].id})
    assert r.status_code == 400 and r.json()["code"] == "shift_overlap" and r.json()["field"] == "shift_id"


def test_other_shops_ids_are_404(api, shop, other_shop):
    foreign_shift = shift_create(shop=other_shop, name="白班", start="08:00", end="17:00")
    foreigner = person_create(shop=other_shop, name="外店", roles=["agent"])
    entry = roster_assign(shop=other_shop, agent=foreigner, date=MONDAY, shift=foreign_shift)
    mine = shift_create(shop=shop, name="白班", start="08:00", end="17:00")
    assert post(api, f"/api/v1/shifts/{foreign_shift.id}", {"name": "x"}).status_code == 404
    assert post(api, f"/api/v1/roster/entries/{entry.id}/delete", {}).status_code == 404
    assert post(api, f"/api/v1/agents/{foreigner.id}/status", {"status": "online"}).status_code == 404
    r = post(api, "/api/v1/roster/entries", {"agent_id": foreigner.id, "date": "2026-03-02", "shift_id": mine.id})
    assert r.status_code == 404
    assert RosterEntry.objects.filter(shop=other_shop).count() == 1


def _login(person):
    c = Client()
    c.force_login(person.user)
    return c


def test_agent_cannot_edit_roster_but_sees_own_week(shop, shifts, agent_person, colleague):
    roster_assign(shop=shop, agent=colleague, date=MONDAY, shift=shifts["day"])
    c = _login(agent_person)
    r = post(c, "/api/v1/roster/entries?shop=s1", {"agent_id": agent_person.id, "date": "2026-03-02",
                                                    "shift_id": shifts["day"].id})
    assert r.status_code == 403
    r = post(c, "/api/v1/shifts?shop=s1", {"name": "x", "start": "08:00", "end": "17:00"})
    assert r.status_code == 403
    roster = c.get("/api/v1/roster?shop=s1&week=2026-03-02").json()
    assert [a["name"] for a in roster["agents"]] == ["小美"]


def test_status_me_and_by_id(shop, token, agent_person, colleague, supervisor):
    c = _login(agent_person)
    r = post(c, "/api/v1/agents/me/status?shop=s1", {"status": "online"})
    assert r.status_code == 200 and r.json()["status"] == "online" and r.json()["agent"] == "小美"
    r = post(c, "/api/v1/agents/me/status?shop=s1", {"status": "busy"})
    assert r.status_code == 400 and r.json()["field"] == "status"
    assert post(c, f"/api/v1/agents/{colleague.id}/status?shop=s1", {"status": "online"}).status_code == 403
    assert post(_login(supervisor), f"/api/v1/agents/{colleague.id}/status?shop=s1",
                {"status": "away"}).json()["status"] == "away"
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert post(api, "/api/v1/agents/me/status", {"status": "online"}).status_code == 403  # a token is nobody
    assert post(api, f"/api/v1/agents/{colleague.id}/status", {"status": "offline"}).status_code == 200
    assert list(AgentStatusChange.objects.filter(agent=colleague).values_list("status", "source")) == [
        ("away", "api"), ("offline", "api")]
    r = post(api, f"/api/v1/agents/{colleague.id}/status", {})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"


def test_on_shift_and_not_online(api, shop, shifts, agent_person, colleague, monkeypatch):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["night"])
    post(api, f"/api/v1/agents/{agent_person.id}/status", {"status": "online"})
    rows = api.get("/api/v1/agents/on-shift?at=2026-03-03T03:00:00").json()  # shop time, Tuesday 03:00
    assert [(r["agent"], r["status"], r["shifts"][0]["shift"]) for r in rows] == [("小美", "online", "夜班")]
    assert api.get("/api/v1/agents/on-shift?at=2026-03-03T06:00:00").json() == []
    assert api.get("/api/v1/agents/on-shift?at=2026-03-03T03:00:00&group=aftersales").json() == []
    r = api.get("/api/v1/agents/on-shift?at=yesterday")
    assert r.status_code == 400 and r.json()["field"] == "at"
    # The status was set just now, so the whole night of 2 March was spent offline.
    AgentStatusChange.objects.filter(agent=agent_person).update(at=at(shop, MONDAY, 23))
    gaps = api.get("/api/v1/agents/not-online?day=2026-03-02").json()
    assert [(g["agent"], g["shift"], g["seconds"], g["status"]) for g in gaps] == [("小美", "夜班", 3600, "offline")]


def test_swap_flow(shop, shifts, agent_person, colleague, supervisor):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    roster_assign(shop=shop, agent=colleague, date=MONDAY, shift=shifts["late"])
    me = _login(agent_person)
    r = post(me, "/api/v1/swaps?shop=s1", {"date": "2026-03-02", "agent_b_id": colleague.id,
                                           "shift_a_id": shifts["day"].id, "shift_b_id": shifts["late"].id,
                                           "reason": "家里有事"})
    assert r.status_code == 200, r.content
    swap = r.json()
    assert (swap["agent_a"], swap["agent_b"], swap["status"]) == ("小美", "阿强", "requested")
    assert post(me, f"/api/v1/swaps/{swap['id']}/approve?shop=s1", {}).status_code == 403
    boss = _login(supervisor)
    r = post(boss, f"/api/v1/swaps/{swap['id']}/approve?shop=s1", {"note": "ok"})
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["decided_by"] == "周主管"
    r = post(boss, f"/api/v1/swaps/{swap['id']}/approve?shop=s1", {})
    assert r.status_code == 400 and r.json()["code"] == "invalid_state"
    assert [s["status"] for s in me.get("/api/v1/swaps?shop=s1").json()] == ["approved"]
    # A third agent neither sees nor touches it.
    third = person_create(shop=shop, name="丽丽", username="lili", password="pass-word-1", roles=["agent"])
    assert _login(third).get("/api/v1/swaps?shop=s1").json() == []
    assert post(_login(third), f"/api/v1/swaps/{swap['id']}/cancel?shop=s1", {}).status_code == 404
    r = post(me, "/api/v1/swaps?shop=s1", {"date": "2026-03-02", "agent_b_id": colleague.id, "shift_a_id": 99999})
    assert r.status_code == 404
    r = post(me, "/api/v1/swaps?shop=s1", {"date": "2026-03-02", "agent_b_id": colleague.id,
                                           "shift_a_id": shifts["day"].id})
    assert r.status_code == 400 and r.json()["field"] == "shift_a_id"  # 小美 now works 晚班


def test_other_shops_token_cannot_read_roster(shop, other_shop, shifts, agent_person):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    _, raw = token_create(shop=other_shop, name="o")
    other = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert other.get("/api/v1/roster?week=2026-03-02").json()["agents"] == []
    assert other.get("/api/v1/agents/on-shift?at=2026-03-02T10:00:00").json() == []
    assert other.get("/api/v1/roster?week=2026-03-02&shop=s1").status_code == 404
