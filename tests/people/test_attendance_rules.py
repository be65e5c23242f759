"""Seed 002 §五's attendance rules and the ledger they feed, edge cases first (WF-2, WF-4)."""

import datetime as dt
from decimal import Decimal

import pytest

from kefu.people.attendance import (
    attendance_clock,
    attendance_correct,
    attendance_recompute,
    leave_request,
    leave_transition,
)
from kefu.people.enums import AttendanceStatus as St
from kefu.people.enums import DeductionStatus
from kefu.people.models import AttendanceDay, LedgerMonth, PenaltyDeduction
from kefu.workforce.services import presence_set

from .conftest import MONTH, at

pytestmark = pytest.mark.django_db
MON = dt.date(2026, 3, 2)


def clock(shop, agent, kind, moment):
    return attendance_clock(shop=shop, agent=agent, kind=kind, by=None, at=moment, source="api", now=moment)


def day_of(agent, date) -> AttendanceDay:
    return AttendanceDay.objects.get(agent=agent, date=date)


def points(agent, month=MONTH) -> Decimal:
    return LedgerMonth.objects.get(agent=agent, month=month).points_left


def active(agent, month=MONTH):
    return list(PenaltyDeduction.objects.filter(agent=agent, month=month, status=DeductionStatus.ACTIVE)
                .order_by("day", "id"))


def test_on_time_and_late_by_whole_minutes(shop, agent, march, end_of_march):
    clock(shop, agent, "in", at(shop, MON, 9, 0, 40))  # 40 s after the start: 0 whole minutes late
    clock(shop, agent, "out", at(shop, MON, 18, 1))
    tue = MON + dt.timedelta(days=1)
    clock(shop, agent, "in", at(shop, tue, 9, 12))
    clock(shop, agent, "out", at(shop, tue, 18, 0))
    assert day_of(agent, MON).status == St.ON_TIME
    d = day_of(agent, tue)
    assert (d.status, d.late_minutes) == (St.LATE, 12)
    [late] = active(agent)
    assert (late.rule_code, late.points, late.source_type, late.source_id) == ("late", Decimal("0.5"), "attendance", str(d.id))
    assert points(agent) == Decimal("9.5")


def test_exactly_30_minutes_late_is_late_and_31_is_an_absence(shop, agent, march):
    tue, wed = MON + dt.timedelta(days=1), MON + dt.timedelta(days=2)
    clock(shop, agent, "in", at(shop, MON, 9, 30))
    clock(shop, agent, "out", at(shop, MON, 18))
    clock(shop, agent, "in", at(shop, tue, 9, 30, 59))  # still 30 whole minutes
    clock(shop, agent, "out", at(shop, tue, 18))
    clock(shop, agent, "in", at(shop, wed, 9, 31))
    clock(shop, agent, "out", at(shop, wed, 18))
    assert [day_of(agent, d).status for d in (MON, tue, wed)] == [St.LATE, St.LATE, St.ABSENT]
    assert [(d.rule_code, d.points) for d in active(agent)] == [("late", Decimal("0.5")), ("late", Decimal("0.5")),
                                                               ("absent", Decimal("2"))]
    assert points(agent) == Decimal("7")


def test_no_clock_in_and_no_leave_is_unauthorised_once_the_shift_is_over(shop, agent, march):
    attendance_recompute(shop=shop, month=MONTH, now=at(shop, MON, 19))  # the shift is just over
    assert day_of(agent, MON).status == St.PENDING  # a late clock-out may still come (forgot_after_hours)
    attendance_recompute(shop=shop, month=MONTH, now=at(shop, MON, 20, 1))
    assert day_of(agent, MON).status == St.UNAUTHORISED
    [d] = [x for x in active(agent) if x.day == MON]
    assert (d.rule_code, d.points) == ("unauthorised", Decimal("5"))


def test_forgetting_to_clock_counts_as_a_rest_day(shop, agent, march):
    clock(shop, agent, "in", at(shop, MON, 8, 55))
    attendance_recompute(shop=shop, month=MONTH, now=at(shop, MON + dt.timedelta(days=1), 8))
    d = day_of(agent, MON)
    assert (d.status, d.forgot_clock, d.allowance_no, d.over_allowance) == (St.ON_TIME, True, 1, False)
    assert not [x for x in active(agent) if x.day == MON]  # within the allowance: no points


def test_leaving_the_post_early_is_unauthorised(shop, agent, march):
    clock(shop, agent, "in", at(shop, MON, 9))
    clock(shop, agent, "out", at(shop, MON, 17, 29))  # 31 minutes before the end
    d = day_of(agent, MON)
    assert (d.status, d.left_early_minutes) == (St.UNAUTHORISED, 31)


def test_the_4th_rest_day_is_free_and_the_5th_counts_as_an_absence(shop, agent, supervisor, march):
    days = march[:5]
    for d in days:
        lr = leave_request(shop=shop, agent=agent, kind="rest_adjusted" if d != days[2] else "leave", date_from=d,
                           date_to=d, reason="家里有事", by=agent)
        leave_transition(shop=shop, request=lr, to="approved", by=supervisor, now=at(shop, d - dt.timedelta(days=1), 9))
    attendance_recompute(shop=shop, month=MONTH, now=at(shop, days[-1], 23))
    rows = [day_of(agent, d) for d in days]
    assert [r.allowance_no for r in rows] == [1, 2, 3, 4, 5]
    assert [r.over_allowance for r in rows] == [False, False, False, False, True]
    assert rows[2].status == St.LEAVE  # a leave offsets a rest day like any other
    [d] = active(agent)
    assert (d.rule_code, d.points, d.day, d.detail["allowance_no"]) == ("absent", Decimal("2"), days[4], 5)


def test_leave_approved_after_it_began_needs_a_reason(shop, agent, supervisor, march):
    from kefu.core.errors import KefuError

    lr = leave_request(shop=shop, agent=agent, kind="leave", date_from=MON, date_to=MON, reason="发烧", by=agent)
    with pytest.raises(KefuError) as exc:
        leave_transition(shop=shop, request=lr, to="approved", by=supervisor, now=at(shop, MON, 10))
    assert exc.value.field == "note"
    leave_transition(shop=shop, request=lr, to="approved", by=supervisor, note="病假，有医院证明", now=at(shop, MON, 10))


def test_a_corrected_clock_in_removes_its_deduction(shop, agent, supervisor, march):
    clock(shop, agent, "in", at(shop, MON, 9, 20))
    clock(shop, agent, "out", at(shop, MON, 18))
    [late] = active(agent)
    attendance_correct(shop=shop, agent=agent, date=MON, clock_in=at(shop, MON, 8, 58), reason="打卡机故障，门禁记录 8:58",
                       by=supervisor, now=at(shop, MON, 19))
    assert day_of(agent, MON).status == St.ON_TIME and day_of(agent, MON).corrected
    late.refresh_from_db()
    assert late.status == DeductionStatus.VOIDED  # kept, marked: its source was corrected
    assert active(agent) == [] and points(agent) == Decimal("10")
    # Recomputing again changes nothing: nothing counted twice.
    attendance_recompute(shop=shop, month=MONTH, now=at(shop, MON, 23))
    assert PenaltyDeduction.objects.filter(agent=agent).count() == 1


def test_the_3rd_not_online_day_takes_5_points(shop, agent, march):
    days = march[:5]
    for d in days:
        clock(shop, agent, "in", at(shop, d, 8, 59))
        presence_set(shop=shop, agent=agent, status="online", at=at(shop, d, 9))
        presence_set(shop=shop, agent=agent, status="offline", at=at(shop, d, 12))
        presence_set(shop=shop, agent=agent, status="online", at=at(shop, d, 12, 30 if d != days[1] else 5))
        presence_set(shop=shop, agent=agent, status="offline", at=at(shop, d, 18))
        clock(shop, agent, "out", at(shop, d, 18))
    rows = [day_of(agent, d) for d in days]
    assert [r.not_online for r in rows] == [True, False, True, True, True]  # day 2: 5 minutes, under the 10
    assert rows[0].not_online_minutes == 30
    [d] = active(agent)  # the 3rd occurrence (days[3]) takes the 5 points, linked to that day
    assert (d.rule_code, d.points, d.day, d.source_type, d.source_id, d.detail["nth"]) == (
        "not_online", Decimal("5"), days[3], "presence", str(rows[3].id), 3)
    assert points(agent) == Decimal("5")  # the 4th time adds nothing: "每月累计3次 扣5分"


def test_an_agent_without_presence_history_is_never_not_online(shop, agent, march):
    clock(shop, agent, "in", at(shop, MON, 9))
    clock(shop, agent, "out", at(shop, MON, 18))
    assert day_of(agent, MON).not_online is False


def test_a_late_day_is_not_also_counted_as_not_online(shop, agent, march):
    presence_set(shop=shop, agent=agent, status="offline", at=at(shop, MON, 8))
    clock(shop, agent, "in", at(shop, MON, 9, 40))  # offline until now: that time is the absence
    presence_set(shop=shop, agent=agent, status="online", at=at(shop, MON, 9, 40))
    clock(shop, agent, "out", at(shop, MON, 18))
    d = day_of(agent, MON)
    assert d.status == St.ABSENT and not d.not_online
