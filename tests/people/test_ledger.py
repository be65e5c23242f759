"""The penalty ledger: complaints feed it, supervisors deduct and reverse with a reason, agents appeal,
thresholds warn once a month, a locked month only changes through the next month (WF-4)."""

import datetime as dt
from decimal import Decimal

import pytest

from kefu.approvals.models import Notification
from kefu.complaints.services import complaint_create, complaint_verdict
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.people import ledger
from kefu.people.attendance import attendance_clock, attendance_correct, attendance_recompute
from kefu.people.close import month_close, month_lock
from kefu.people.enums import DeductionKind, DeductionStatus, WarningLevel
from kefu.people.models import LedgerMonth, PenaltyDeduction, PenaltyWarning
from kefu.people.rules import penalty_rules_update, people_settings_update

from .conftest import MONTH, at

pytestmark = pytest.mark.django_db
MON = dt.date(2026, 3, 2)
APRIL = dt.date(2026, 4, 1)


def points(agent, month=MONTH) -> Decimal:
    return LedgerMonth.objects.get(agent=agent, month=month).points_left


def active(agent, month=MONTH):
    return list(PenaltyDeduction.objects.filter(agent=agent, month=month, status=DeductionStatus.ACTIVE)
                .order_by("day", "id"))


def complaint(shop, agent, supervisor, category, day, verdict="upheld"):
    buyer, _ = Customer.objects.get_or_create(shop=shop, buyer_id="b1")
    c = complaint_create(shop=shop, source="buyer", category=category, summary="客服态度差", actor=supervisor,
                         customer=buyer, against=agent, now=at(shop, day, 10))
    if verdict:
        complaint_verdict(shop=shop, complaint_id=c.id, verdict=verdict, actor=supervisor)
    return c


def test_rude_service_1_each_3_is_5_and_5_is_10(shop, agent, supervisor):
    made = [complaint(shop, agent, supervisor, "attitude", MON + dt.timedelta(days=i)) for i in range(6)]
    rows = active(agent)
    assert [r.points for r in rows] == [Decimal(x) for x in ("1", "1", "3", "5")]  # 1, 2, 5, (5), 10, (10)
    assert [r.source_id for r in rows] == [str(made[i].id) for i in (0, 1, 2, 4)]
    assert points(agent) == Decimal("0")


def test_a_complaint_verdict_reversed_takes_its_points_back(shop, agent, supervisor):
    made = [complaint(shop, agent, supervisor, "slow_reply", MON + dt.timedelta(days=i)) for i in range(3)]
    [d] = active(agent)
    assert (d.rule_code, d.points, d.source_id) == ("complaint_slow", Decimal("5"), str(made[2].id))
    complaint_verdict(shop=shop, complaint_id=made[0].id, verdict="rejected", actor=supervisor)
    assert active(agent) == [] and points(agent) == Decimal("10")
    d.refresh_from_db()
    assert d.status == DeductionStatus.VOIDED
    complaint_verdict(shop=shop, complaint_id=made[0].id, verdict="upheld", actor=supervisor)
    assert [x.points for x in active(agent)] == [Decimal("5")]


def test_pending_and_other_categories_do_not_count(shop, agent, supervisor):
    complaint(shop, agent, supervisor, "attitude", MON, verdict=None)
    complaint(shop, agent, supervisor, "product", MON)
    assert not PenaltyDeduction.objects.filter(agent=agent).exists()


def test_manual_deduction_within_the_rule_and_reversal_need_a_reason(shop, agent, supervisor, colleague):
    with pytest.raises(KefuError) as exc:
        ledger.deduction_add(shop=shop, agent=agent, rule_code="unfinished_work", points="2", day=MON, reason="x",
                             by=supervisor, now=at(shop, MON, 20))
    assert exc.value.field == "points"
    with pytest.raises(KefuError):
        ledger.deduction_add(shop=shop, agent=agent, rule_code="unfinished_work", points="0.5", day=MON, reason=" ",
                             by=supervisor, now=at(shop, MON, 20))
    with pytest.raises(PermissionDenied):
        ledger.deduction_add(shop=shop, agent=agent, rule_code="unfinished_work", points="0.5", day=MON,
                             reason="未完成", by=colleague, now=at(shop, MON, 20))
    d = ledger.deduction_add(shop=shop, agent=agent, rule_code="unfinished_work", points="0.5", day=MON,
                             reason="当日售后单未处理完", by=supervisor, now=at(shop, MON, 20))
    assert (d.kind, d.key, points(agent)) == (DeductionKind.MANUAL, f"manual:{d.id}", Decimal("9.5"))
    ledger.deduction_reverse(shop=shop, deduction=d, reason="已补完", by=supervisor)
    d.refresh_from_db()
    assert d.status == DeductionStatus.REVERSED and d.change_reason == "已补完" and points(agent) == Decimal("10")
    with pytest.raises(KefuError) as exc:
        ledger.deduction_reverse(shop=shop, deduction=d, reason="again", by=supervisor)
    assert exc.value.code == "already_done"


def test_a_reversed_derived_deduction_stays_reversed_when_recomputed(shop, agent, supervisor, march):
    attendance_clock(shop=shop, agent=agent, kind="in", by=None, at=at(shop, MON, 9, 10), now=at(shop, MON, 9, 10))
    [late] = active(agent)
    ledger.deduction_reverse(shop=shop, deduction=late, reason="地铁故障，有证明", by=supervisor)
    attendance_recompute(shop=shop, month=MONTH, now=at(shop, MON, 23))
    assert active(agent) == [] and PenaltyDeduction.objects.filter(agent=agent).count() == 1


def test_appeal_granted_once(shop, agent, supervisor, march):
    attendance_clock(shop=shop, agent=agent, kind="in", by=None, at=at(shop, MON, 9, 10), now=at(shop, MON, 9, 10))
    [late] = active(agent)
    with pytest.raises(PermissionDenied):
        ledger.appeal_create(shop=shop, deduction=late, reason="不是我", by=supervisor)
    appeal = ledger.appeal_create(shop=shop, deduction=late, reason="打卡机排队，8:59 已到", by=agent)
    with pytest.raises(KefuError) as exc:
        ledger.appeal_create(shop=shop, deduction=late, reason="再申诉", by=agent)
    assert exc.value.code == "already_done"
    with pytest.raises(KefuError):  # a rejection needs a note
        ledger.appeal_decide(shop=shop, appeal=appeal, grant=False, note="", by=supervisor)
    ledger.appeal_decide(shop=shop, appeal=appeal, grant=True, note="门禁记录为 8:59", by=supervisor)
    late.refresh_from_db()
    assert late.status == DeductionStatus.GRANTED and points(agent) == Decimal("10")
    with pytest.raises(KefuError) as exc:
        ledger.appeal_decide(shop=shop, appeal=appeal, grant=False, note="改主意", by=supervisor)
    assert exc.value.code == "already_decided"
    assert Notification.objects.filter(recipient=agent, text__contains="申诉成功").count() == 1


def test_thresholds_warn_once_per_month_and_withdraw(shop, agent, supervisor):
    manager = person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"], group="")
    made = [complaint(shop, agent, supervisor, "slow_reply", MON + dt.timedelta(days=i)) for i in range(3)]
    assert points(agent) == Decimal("5")
    assert list(PenaltyWarning.objects.filter(agent=agent).values_list("level", flat=True)) == [WarningLevel.VERBAL]
    attendance_recompute(shop=shop, month=MONTH, now=at(shop, MON, 23))  # again: no second warning
    assert PenaltyWarning.objects.filter(agent=agent).count() == 1
    verbal = Notification.objects.filter(recipient=agent, text__contains="口头警告")
    assert verbal.count() == 1
    assert Notification.objects.filter(recipient=supervisor, text__contains="口头警告").count() == 1
    assert not Notification.objects.filter(recipient=manager).exists()
    complaint_verdict(shop=shop, complaint_id=made[0].id, verdict="rejected", actor=supervisor)
    assert PenaltyWarning.objects.get(agent=agent).withdrawn_at is not None
    complaint_verdict(shop=shop, complaint_id=made[0].id, verdict="upheld", actor=supervisor)
    assert PenaltyWarning.objects.get(agent=agent).withdrawn_at is None
    assert verbal.count() == 1  # raised once per month


def test_three_months_running_at_5_or_less_is_referred_to_the_manager(shop, agent, supervisor):
    manager = person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"], group="")
    for month in (dt.date(2026, 1, 5), dt.date(2026, 2, 2), MON):
        for i in range(3):
            complaint(shop, agent, supervisor, "slow_reply", month + dt.timedelta(days=i))
    levels = set(PenaltyWarning.objects.filter(agent=agent, month=MONTH).values_list("level", flat=True))
    assert levels == {WarningLevel.VERBAL, WarningLevel.SEVERE}
    assert not PenaltyWarning.objects.filter(agent=agent, month=dt.date(2026, 2, 1), level=WarningLevel.SEVERE).exists()
    assert Notification.objects.filter(recipient=manager, text__contains="严厉处罚").count() == 1


def test_a_locked_month_is_unchanged_by_later_data_and_the_change_goes_into_the_next(shop, agent, supervisor, march):
    manager = person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"], group="")
    attendance_clock(shop=shop, agent=agent, kind="in", by=None, at=at(shop, MON, 9, 10), now=at(shop, MON, 9, 10))
    attendance_clock(shop=shop, agent=agent, kind="out", by=None, at=at(shop, MON, 18), now=at(shop, MON, 18))
    now = at(shop, APRIL, 10)
    month_close(shop=shop, month=MONTH, by=supervisor, now=now)
    month_lock(shop=shop, month=MONTH, by=manager, now=now)
    march_rows = list(PenaltyDeduction.objects.filter(agent=agent, month=MONTH).values_list("id", "status", "points"))
    march_points = points(agent)
    # A rule change after the lock does not touch March: it keeps the rules it was locked with.
    penalty_rules_update(shop=shop, by=manager, changes=[{"code": "late", "points_each": "1"}])
    attendance_recompute(shop=shop, month=MONTH, now=now)
    assert PenaltyDeduction.objects.filter(agent=agent, month=APRIL).count() == 0
    # A correction of a March clock-in: March stays as locked, April gets the points back.
    attendance_correct(shop=shop, agent=agent, date=MON, clock_in=at(shop, MON, 8, 55), reason="门禁记录", by=supervisor,
                       now=now)
    assert list(PenaltyDeduction.objects.filter(agent=agent, month=MONTH).values_list("id", "status", "points")) == march_rows
    assert points(agent) == march_points
    [adj] = PenaltyDeduction.objects.filter(agent=agent, month=APRIL)
    assert (adj.kind, adj.points, adj.origin_month, adj.rule_code) == (DeductionKind.ADJUSTMENT, Decimal("-0.5"), MONTH,
                                                                       "late")
    assert points(agent, APRIL) == Decimal("10.5")
    # Recomputing again writes nothing more.
    attendance_recompute(shop=shop, month=MONTH, now=now)
    assert PenaltyDeduction.objects.filter(agent=agent, month=APRIL).count() == 1
    # A second change the other way (the correction itself corrected) adds the difference back.
    attendance_correct(shop=shop, agent=agent, date=MON, clock_in=at(shop, MON, 9, 10), reason="门禁记录有误", by=supervisor,
                       now=now)
    assert sorted(PenaltyDeduction.objects.filter(agent=agent, month=APRIL).values_list("points", flat=True)) == [
        Decimal("-0.5"), Decimal("0.5")]
    assert points(agent, APRIL) == Decimal("10")


def test_reversal_of_a_locked_months_deduction_lands_in_the_next(shop, agent, supervisor, march):
    manager = person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"], group="")
    attendance_clock(shop=shop, agent=agent, kind="in", by=None, at=at(shop, MON, 9, 10), now=at(shop, MON, 9, 10))
    now = at(shop, APRIL, 10)
    month_close(shop=shop, month=MONTH, by=supervisor, now=now)
    month_lock(shop=shop, month=MONTH, by=manager, now=now)
    [late] = [d for d in active(agent) if d.rule_code == "late"]
    ledger.deduction_reverse(shop=shop, deduction=late, reason="补交证明", by=supervisor, now=now)
    late.refresh_from_db()
    assert late.status == DeductionStatus.ACTIVE  # March's row is as locked
    [adj] = PenaltyDeduction.objects.filter(agent=agent, month=APRIL)
    assert adj.points == Decimal("-0.5") and adj.waiver
    attendance_recompute(shop=shop, month=MONTH, now=now)  # the waiver holds: nothing re-added
    assert PenaltyDeduction.objects.filter(agent=agent, month=APRIL).count() == 1


def test_switched_off_ledger_deducts_nothing(shop, agent, supervisor, march):
    manager = person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"], group="")
    people_settings_update(shop=shop, by=manager, ledger_enabled=False)
    attendance_clock(shop=shop, agent=agent, kind="in", by=None, at=at(shop, MON, 9, 40), now=at(shop, MON, 9, 40))
    complaint(shop, agent, supervisor, "attitude", MON)
    assert not PenaltyDeduction.objects.filter(agent=agent).exists()
    with pytest.raises(KefuError) as exc:
        ledger.deduction_add(shop=shop, agent=agent, rule_code="unfinished_work", points="0.5", day=MON, reason="x",
                             by=supervisor, now=at(shop, MON, 20))
    assert exc.value.code == "ledger_off"


def test_rules_are_data_a_manager_edits(shop, agent, supervisor, march):
    manager = person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"], group="")
    with pytest.raises(PermissionDenied):
        penalty_rules_update(shop=shop, by=supervisor, changes=[{"code": "late", "points_each": "1"}])
    penalty_rules_update(shop=shop, by=manager, changes=[{"code": "late", "points_each": "1", "tiers": [[3, "5"]]}])
    for i in range(3):
        d = march[i]
        attendance_clock(shop=shop, agent=agent, kind="in", by=None, at=at(shop, d, 9, 5), now=at(shop, d, 9, 5))
    assert [x.points for x in active(agent)] == [Decimal("1"), Decimal("1"), Decimal("3")]
