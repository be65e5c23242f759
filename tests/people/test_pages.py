"""The attendance and ledger pages as each role sees them (zh-hans), their forms and exports."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from kefu.core.services import person_create
from kefu.people.attendance import attendance_clock, attendance_recompute
from kefu.people.models import AttendanceCorrection, LeaveRequest, PenaltyDeduction

from .conftest import MONTH, at, login

pytestmark = pytest.mark.django_db
MON = dt.date(2026, 3, 2)


@pytest.fixture
def data(shop, agent, colleague, supervisor, march, day_shift):
    from .conftest import roster

    roster(shop, colleague, day_shift, march)
    attendance_clock(shop=shop, agent=agent, kind="in", by=None, at=at(shop, MON, 9, 12), now=at(shop, MON, 9, 12))
    attendance_clock(shop=shop, agent=agent, kind="out", by=None, at=at(shop, MON, 18), now=at(shop, MON, 18))
    attendance_recompute(shop=shop, month=MONTH, now=at(shop, dt.date(2026, 4, 1), 9))
    return PenaltyDeduction.objects.get(agent=agent, rule_code="late")


def test_supervisor_sees_the_month_sheet_and_exports_it(shop, supervisor, agent, colleague, data, django_assert_max_num_queries):
    c = login(supervisor)
    with django_assert_max_num_queries(25):
        r = c.get("/people/attendance/?month=2026-03")
    assert r.status_code == 200
    html = r.content.decode()
    assert "小美" in html and "阿强" in html and 'id="month-sheet"' in html
    x = c.get("/people/attendance/?month=2026-03&export=xlsx")
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.content)).active
    header = [cell.value for cell in ws[1]]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["小美"]["03-02"] == "迟12" and rows["小美"]["迟到"] == 1
    assert isinstance(rows["小美"]["考核分"], int | float)
    assert c.get("/people/attendance/?export=pdf").status_code == 400


def test_agent_sees_only_their_own_row(agent, data):
    r = login(agent).get("/people/attendance/?month=2026-03")
    html = r.content.decode()
    assert r.status_code == 200 and "小美" in html and "阿强" not in html


def test_sheet_query_count_does_not_grow_with_agents(shop, supervisor, data, day_shift, django_assert_max_num_queries):
    from .conftest import roster

    c = login(supervisor)
    c.get("/people/attendance/?month=2026-03")
    for i in range(5):
        a = person_create(shop=shop, name=f"新人{i}", roles=["agent"])
        roster(shop, a, day_shift, [MON])
    attendance_recompute(shop=shop, month=MONTH, now=at(shop, dt.date(2026, 4, 1), 9))
    with django_assert_max_num_queries(25):
        assert c.get("/people/attendance/?month=2026-03").status_code == 200


def test_clock_from_the_web(shop, agent, data):
    c = login(agent)
    r = c.post("/people/attendance/clock/", {"kind": "in"})
    assert r.status_code == 302
    assert agent.clock_events.count() == 3
    r = c.post("/people/attendance/clock/", {"kind": "sideways"})
    assert "error=" in r["Location"]


def test_day_page_and_correction(shop, supervisor, agent, data):
    c = login(supervisor)
    r = c.get(f"/people/attendance/{agent.id}/2026-03-02/")
    assert r.status_code == 200 and "迟到 12 分钟" in r.content.decode()
    r = c.post(f"/people/attendance/{agent.id}/2026-03-02/", {"clock_in": "8:99", "reason": "x"})
    assert r.status_code == 400
    r = c.post(f"/people/attendance/{agent.id}/2026-03-02/", {"clock_in": "08:58", "reason": ""})
    assert r.status_code == 400 and not AttendanceCorrection.objects.exists()
    r = c.post(f"/people/attendance/{agent.id}/2026-03-02/", {"clock_in": "08:58", "reason": "门禁记录"})
    assert r.status_code == 302
    data.refresh_from_db()
    assert data.status == "voided"
    assert login(agent).post(f"/people/attendance/{agent.id}/2026-03-02/", {"clock_in": "08:00", "reason": "x"}).status_code == 403


def test_agent_cannot_see_a_colleagues_day(agent, colleague, data):
    assert login(agent).get(f"/people/attendance/{colleague.id}/2026-03-02/").status_code == 404
    assert login(agent).get(f"/people/agents/{colleague.id}/").status_code == 404


def test_leave_request_and_approval(shop, agent, supervisor):
    c = login(agent)
    r = c.post("/people/leave/", {"kind": "rest_adjusted", "date_from": "2030-03-05", "reason": "回老家"})
    assert r.status_code == 302
    lr = LeaveRequest.objects.get()
    assert c.post(f"/people/leave/{lr.id}/approve/").status_code == 403
    r = login(supervisor).post(f"/people/leave/{lr.id}/approve/", {"note": ""})
    assert r.status_code == 302
    lr.refresh_from_db()
    assert lr.state == "approved"
    assert login(supervisor).get("/people/leave/").status_code == 200


def test_points_page_manual_deduction_and_appeal(shop, supervisor, agent, data):
    s = login(supervisor)
    r = s.get("/people/points/?month=2026-03")
    assert r.status_code == 200 and "小美" in r.content.decode()
    r = s.post("/people/points/deductions/", {"agent": agent.id, "rule": "unfinished_work", "points": "1",
                                               "day": "2026-03-03", "reason": "日报未交", "month": "2026-03"})
    assert r.status_code == 302 and "error" not in r["Location"]
    a = login(agent)
    assert a.get("/people/points/").status_code == 302  # agents read their points on their own page
    r = a.get("/people/?month=2026-03")
    assert r.status_code == 200 and "日报未交" in r.content.decode()
    r = a.post(f"/people/points/deductions/{data.id}/appeal/", {"reason": "打卡机排队"})
    assert r.status_code == 302
    r = s.get("/people/appeals/")
    assert "打卡机排队" in r.content.decode()
    appeal = data.appeal
    r = s.post(f"/people/appeals/{appeal.id}/grant/", {"note": "核实属实"})
    assert r.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == "granted"


def test_rules_page_manager_edits_supervisor_reads(shop, supervisor):
    manager = person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"], group="")
    assert login(supervisor).get("/people/rules/").status_code == 200
    assert login(supervisor).post("/people/rules/", {"form": "rules", "code": ["late"]}).status_code == 403
    m = login(manager)
    r = m.get("/people/rules/")
    assert r.status_code == 200 and "迟到" in r.content.decode()
    r = m.post("/people/rules/", {"form": "rules", "code": ["late"], "rule-late-name": "迟到", "rule-late-points_each": "1",
                                  "rule-late-tiers": "", "rule-late-active": "1"})
    assert r.status_code == 302
    r = m.post("/people/rules/", {"form": "rules", "code": ["late"], "rule-late-name": "迟到",
                                  "rule-late-points_each": "abc", "rule-late-active": "1"})
    assert r.status_code == 400
    r = m.post("/people/rules/", {"form": "settings", "absent_after_minutes": "45", "late_grace_minutes": "0",
                                  "rest_days_per_month": "4", "early_leave_minutes": "30", "forgot_after_hours": "2",
                                  "not_online_minutes": "10", "start_points": "10", "warn_verbal_points": "5",
                                  "warn_penalty_points": "2", "severe_points": "5", "severe_months": "3"})
    assert r.status_code == 302
    assert shop.people_settings.absent_after_minutes == 45 and shop.people_settings.ledger_enabled is False
