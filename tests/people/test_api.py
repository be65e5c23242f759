"""The attendance and ledger API: clocks idempotent by request_id, role-aware reads, clear errors."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client

from kefu.people.models import ClockEvent, PenaltyAppeal

from .conftest import at, login

pytestmark = pytest.mark.django_db
MON = dt.date(2026, 3, 2)


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_token_clocks_an_agent_idempotently(api, shop, agent, march):
    body = {"kind": "in", "agent_id": agent.id, "at": at(shop, MON, 9, 7).isoformat(), "request_id": "dev-1"}
    import kefu.people.attendance as A

    orig = A.timezone.now
    A.timezone.now = lambda: at(shop, MON, 9, 8)
    try:
        r1 = post(api, "/api/v1/attendance/clock", body)
        r2 = post(api, "/api/v1/attendance/clock", body)
        r3 = post(api, "/api/v1/attendance/clock", {**body, "kind": "out"})
    finally:
        A.timezone.now = orig
    assert r1.status_code == 201 and r2.status_code == 200
    assert r1.json()["id"] == r2.json()["id"] and ClockEvent.objects.count() == 1
    assert r1.json()["day"]["status"] == "late" and r1.json()["day"]["late_minutes"] == 7
    assert r3.status_code == 409 and r3.json()["code"] == "request_id_reused"
    assert post(api, "/api/v1/attendance/clock", {"kind": "in"}).json()["field"] == "agent_id"
    assert post(api, "/api/v1/attendance/clock", {"kind": "x", "agent_id": agent.id}).json()["field"] == "kind"


def test_person_clocks_themself_only(shop, agent, colleague, march):
    c = login(agent)
    r = post(c, "/api/v1/attendance/clock?shop=s1", {"kind": "in"})
    assert r.status_code == 201 and r.json()["agent_id"] == agent.id
    assert post(c, "/api/v1/attendance/clock?shop=s1", {"kind": "in", "agent_id": colleague.id}).status_code == 404
    r = post(c, "/api/v1/attendance/clock?shop=s1", {"kind": "in", "at": "2026-03-02T09:00:00+08:00"})
    assert r.status_code == 400 and r.json()["field"] == "at"


def test_days_are_role_aware(shop, agent, colleague, supervisor, march, day_shift):
    from kefu.people.attendance import attendance_recompute

    from .conftest import roster

    roster(shop, colleague, day_shift, march)
    attendance_recompute(shop=shop, month=dt.date(2026, 3, 1), now=at(shop, dt.date(2026, 4, 1), 9))
    mine = login(agent).get("/api/v1/attendance/days?shop=s1&month=2026-03").json()
    assert {d["agent_id"] for d in mine} == {agent.id} and len(mine) == len(march)
    assert {d["status"] for d in mine} == {"unauthorised"}
    all_ = login(supervisor).get("/api/v1/attendance/days?shop=s1&month=2026-03").json()
    assert {d["agent_id"] for d in all_} == {agent.id, colleague.id}
    assert login(agent).get(f"/api/v1/attendance/days?shop=s1&month=2026-03&agent_id={colleague.id}").status_code == 404
    assert login(agent).get("/api/v1/attendance/days?shop=s1&month=2026-13").json()["field"] == "month"


def test_correction_leave_deduction_appeal_flow(shop, agent, supervisor, march):
    s, a = login(supervisor), login(agent)
    r = post(s, "/api/v1/attendance/corrections?shop=s1", {"agent_id": agent.id, "date": "2026-03-02",
                                                           "clock_in": "2026-03-02T09:20:00+08:00", "reason": "补录"})
    assert r.status_code == 200 and r.json()["status"] == "late" and r.json()["corrected"]
    r = post(a, "/api/v1/attendance/corrections?shop=s1", {"agent_id": agent.id, "date": "2026-03-02",
                                                           "status": "on_time", "reason": "我说的"})
    assert r.status_code == 403 and r.json()["code"] == "supervisor_only"
    r = post(a, "/api/v1/leave-requests?shop=s1", {"kind": "rest_adjusted", "date_from": "2030-01-07", "reason": "事"})
    assert r.status_code == 201
    lr = r.json()["id"]
    assert post(a, f"/api/v1/leave-requests/{lr}/approve?shop=s1", {}).status_code == 403
    assert post(s, f"/api/v1/leave-requests/{lr}/approve?shop=s1", {}).json()["state"] == "approved"
    again = post(s, f"/api/v1/leave-requests/{lr}/reject?shop=s1", {})
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    deductions = a.get("/api/v1/deductions?shop=s1&month=2026-03").json()
    [late] = [d for d in deductions if d["rule_code"] == "late"]
    assert late["source_type"] == "attendance" and late["detail"]["late_minutes"] == 20
    r = post(a, f"/api/v1/deductions/{late['id']}/appeal?shop=s1", {"reason": "排队打卡"})
    assert r.status_code == 201
    appeal = r.json()["id"]
    r = post(s, f"/api/v1/appeals/{appeal}/reject?shop=s1", {"note": ""})
    assert r.status_code == 400 and r.json()["field"] == "note"
    assert post(s, f"/api/v1/appeals/{appeal}/reject?shop=s1", {"note": "门禁 9:20"}).json()["state"] == "rejected"
    assert post(s, f"/api/v1/appeals/{appeal}/grant?shop=s1", {}).status_code == 409
    pts = s.get("/api/v1/points?shop=s1&month=2026-03").json()
    counted = sum(Decimal(d["points"]) for d in a.get("/api/v1/deductions?shop=s1&month=2026-03").json()
                  if d["status"] == "active")
    assert pts[0]["agent_id"] == agent.id and Decimal(pts[0]["points_left"]) == 10 - counted
    r = post(s, "/api/v1/deductions?shop=s1", {"agent_id": agent.id, "rule_code": "late", "points": "1",
                                               "day": "2026-03-03", "reason": "x"})
    assert r.status_code == 400 and r.json()["field"] == "rule_code"


def test_rules_and_settings_api(api, shop):
    rules = api.get("/api/v1/penalty-rules").json()
    assert {r["code"] for r in rules} >= {"late", "absent", "unauthorised", "not_online", "complaint_slow",
                                          "complaint_rude", "unfinished_work"}
    r = post(api, "/api/v1/penalty-rules", {"rules": [{"code": "late", "tiers": [[3, "2"], [2, "1"]]}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "tiers"
    r = post(api, "/api/v1/penalty-rules", {"rules": [{"code": "late", "points_each": "1"}]})
    assert [x["points_each"] for x in r.json() if x["code"] == "late"] == ["1.00"]
    r = post(api, "/api/v1/people/settings", {"absent_after_minutes": 0})
    assert r.status_code == 400 and r.json()["field"] == "absent_after_minutes"
    assert post(api, "/api/v1/people/settings", {"ledger_enabled": False}).json()["ledger_enabled"] is False


def test_appeal_decided_once_under_concurrency(transactional_db, shop, agent, supervisor, march):
    from kefu.core.services import person_create
    from kefu.people.attendance import attendance_clock
    from kefu.people.ledger import appeal_create, appeal_decide
    from kefu.people.models import PenaltyDeduction
    from tests.concurrency import race, require_postgresql

    require_postgresql()
    other = person_create(shop=shop, name="第二主管", username="zhou2", password="pass-word-1", roles=["supervisor"],
                          group="")
    attendance_clock(shop=shop, agent=agent, kind="in", by=None, at=at(shop, MON, 9, 10), now=at(shop, MON, 9, 10))
    d = PenaltyDeduction.objects.get(agent=agent, rule_code="late")
    appeal = appeal_create(shop=shop, deduction=d, reason="排队", by=agent)
    results = race(lambda who, grant: appeal_decide(shop=shop, appeal=appeal, grant=grant, note="决定", by=who),
                   [(supervisor, True), (other, False)])
    ok = [r for r in results if isinstance(r, PenaltyAppeal)]
    errors = [r for r in results if not isinstance(r, PenaltyAppeal)]
    assert len(ok) == 1 and len(errors) == 1 and getattr(errors[0], "code", None) == "already_decided", results
    appeal.refresh_from_db()
    d.refresh_from_db()
    assert appeal.state == ok[0].state
    assert d.status == ("granted" if ok[0].state == "granted" else "active")


def test_unknown_client_gets_401():
    assert Client().get("/api/v1/points?shop=s1").status_code == 401


def test_month_close_and_lock_through_the_api_and_the_page(shop, agent, supervisor, manager, march):
    from kefu.people.models import MonthClose

    sup, mgr = login(supervisor), login(manager)
    # Not over yet: the current month cannot be closed.
    assert post(sup, "/api/v1/people/months/2099-01/close?shop=s1", {}).json()["field"] == "month"
    assert post(sup, "/api/v1/people/months/junk/close?shop=s1", {}).status_code == 400
    assert post(login(agent), "/api/v1/people/months/2026-03/close?shop=s1", {}).status_code == 403
    assert post(sup, "/api/v1/people/months/2026-03/lock?shop=s1", {}).status_code == 403  # managers lock
    assert post(mgr, "/api/v1/people/months/2026-03/lock?shop=s1", {}).status_code == 400  # not closed yet
    r = post(sup, "/api/v1/people/months/2026-03/close?shop=s1", {})
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["closed_by"] == supervisor.name
    # April cannot be closed while March is closed but not locked.
    assert post(sup, "/api/v1/people/months/2026-04/close?shop=s1", {}).status_code == 400
    r = mgr.post("/people/months/2026-03/lock/")
    assert r.status_code == 302 and MonthClose.objects.get(shop=shop, month=dt.date(2026, 3, 1)).state == "locked"
    r = post(mgr, "/api/v1/people/months/2026-03/lock?shop=s1", {})
    assert r.status_code == 409 and r.json()["code"] == "already_done"
    assert post(sup, "/api/v1/people/months/2026-03/close?shop=s1", {}).json()["code"] == "month_locked"
    listed = sup.get("/api/v1/people/months?shop=s1").json()
    assert [(m["month"], m["state"], m["locked_by"]) for m in listed] == [("2026-03-01", "locked", manager.name)]
    assert login(agent).get("/api/v1/people/months?shop=s1").status_code == 403
    page = sup.get("/people/points/?month=2026-03").content.decode()
    assert "已锁定" in page and "/people/months/2026-03/lock/" not in page
