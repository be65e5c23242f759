"""Shift types, rosters, swaps and status: rules, state machine and audit rows."""

import datetime as dt

import pytest

from kefu.core.errors import KefuError, PermissionDenied, ValidationFailed
from kefu.core.models import AuditLog
from kefu.core.services import person_create
from kefu.workforce.models import AgentPresence, AgentStatusChange, RosterEntry, ShiftSwap
from kefu.workforce.services import (
    presence_set,
    roster_assign,
    roster_day_set,
    roster_pattern_apply,
    roster_unassign,
    roster_week_copy,
    roster_week_set,
    shift_create,
    shift_update,
    swap_request,
    swap_transition,
)

from .conftest import MONDAY, at

pytestmark = pytest.mark.django_db


def entries(agent, day=None):
    qs = RosterEntry.objects.filter(agent=agent).select_related("shift").order_by("date", "starts_at")
    if day:
        qs = qs.filter(date=day)
    return [(e.date.isoformat(), e.shift.name) for e in qs]


# ---------------------------------------------------------------- shift types

def test_shift_create_hours_and_labels(shop):
    s = shift_create(shop=shop, name="夜班", start="22:00", end="06:00", group="presales")
    assert (s.start_minute, s.end_minute, s.crosses_midnight, s.minutes, s.hours) == (1320, 360, True, 480, "22:00–06:00")
    late = shift_create(shop=shop, name="晚班", start="15:00", end="24:00")
    assert (late.end_label, late.crosses_midnight, late.minutes) == ("24:00", False, 540)
    assert AuditLog.objects.filter(action="shift.create", entity_type="Shift").count() == 2


@pytest.mark.parametrize("kwargs,field", [
    ({"name": "", "start": "08:00", "end": "17:00"}, "name"),
    ({"name": "x", "start": "8am", "end": "17:00"}, "start"),
    ({"name": "x", "start": "24:00", "end": "06:00"}, "start"),
    ({"name": "x", "start": "08:00", "end": "25:00"}, "end"),
    ({"name": "x", "start": "08:00", "end": "08:00"}, "end"),
    ({"name": "x", "start": "00:00", "end": "24:00", "group": "warehouse"}, "group"),
])
def test_shift_create_bad_input_names_the_field(shop, kwargs, field):
    with pytest.raises(KefuError) as exc:
        shift_create(shop=shop, **kwargs)
    assert exc.value.field == field


def test_shift_names_are_unique_per_shop(shop, other_shop):
    shift_create(shop=shop, name="白班", start="08:00", end="17:00")
    shift_create(shop=other_shop, name="白班", start="09:00", end="18:00")
    with pytest.raises(KefuError) as exc:
        shift_create(shop=shop, name="白班", start="09:00", end="18:00")
    assert exc.value.code == "exists"


def test_only_supervisors_edit_shift_types(shop, agent_person, supervisor):
    with pytest.raises(PermissionDenied):
        shift_create(shop=shop, name="白班", start="08:00", end="17:00", by=agent_person)
    s = shift_create(shop=shop, name="白班", start="08:00", end="17:00", by=supervisor)
    with pytest.raises(PermissionDenied):
        shift_update(shop=shop, shift=s, by=agent_person, name="x")


def test_shift_update_retimes_entries_from_today(shop, shifts, agent_person, monkeypatch):
    import kefu.workforce.services as svc

    monkeypatch.setattr(svc.timezone, "now", lambda: at(shop, MONDAY, 12))
    past = roster_assign(shop=shop, agent=agent_person, date=MONDAY - dt.timedelta(days=1), shift=shifts["day"])
    today = roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    shift_update(shop=shop, shift=shifts["day"], start="09:00", end="18:00")
    past.refresh_from_db()
    today.refresh_from_db()
    assert past.starts_at == at(shop, MONDAY - dt.timedelta(days=1), 8)  # history keeps its hours
    assert today.starts_at == at(shop, MONDAY, 9) and today.ends_at == at(shop, MONDAY, 18)
    log = AuditLog.objects.filter(action="shift.update").get()
    assert log.before["start"] == "08:00" and log.after["start"] == "09:00"


def test_shift_update_refuses_hours_that_make_an_overlap(shop, shifts, agent_person, monkeypatch):
    import kefu.workforce.services as svc

    monkeypatch.setattr(svc.timezone, "now", lambda: at(shop, MONDAY, 0))
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])  # 08–17
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["night"])  # 22–06
    with pytest.raises(KefuError) as exc:
        shift_update(shop=shop, shift=shifts["day"], end="23:00")
    assert exc.value.code == "shift_overlap" and exc.value.field == "start"
    shifts["day"].refresh_from_db()
    assert shifts["day"].end_label == "17:00"  # rolled back


# ---------------------------------------------------------------- roster


def test_roster_assign_refuses_overlaps_same_day_and_across_midnight(shop, shifts, agent_person):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["night"])  # Mon 22 – Tue 06
    with pytest.raises(KefuError) as exc:
        roster_assign(shop=shop, agent=agent_person, date=MONDAY + dt.timedelta(days=1), shift=shifts["early"])
    assert exc.value.code == "shift_overlap" and exc.value.field == "shift_id"
    assert "夜班" in exc.value.message and "早班" in exc.value.message
    with pytest.raises(KefuError):
        roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["late"])  # 15–24 vs 22–06
    with pytest.raises(KefuError) as exc:
        roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["night"])
    assert exc.value.code == "exists"
    # Touching ends are fine: 06:00 end, then a 06:00 start.
    six = shift_create(shop=shop, name="六点班", start="06:00", end="14:00")
    roster_assign(shop=shop, agent=agent_person, date=MONDAY + dt.timedelta(days=1), shift=six)
    assert entries(agent_person) == [("2026-03-02", "夜班"), ("2026-03-03", "六点班")]


def test_roster_assign_checks_shop_group_and_archived(shop, other_shop, shifts, agent_person):
    foreign = person_create(shop=other_shop, name="外店", roles=["agent"])
    with pytest.raises(KefuError) as exc:
        roster_assign(shop=shop, agent=foreign, date=MONDAY, shift=shifts["day"])
    assert exc.value.field == "agent_id"
    after = shift_create(shop=shop, name="售后班", start="09:00", end="18:00", group="aftersales")
    with pytest.raises(KefuError) as exc:
        roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=after)
    assert exc.value.code == "wrong_group"
    shifts["day"] = shift_update(shop=shop, shift=shifts["day"], active=False)
    with pytest.raises(KefuError, match="archived"):
        roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])


def test_agents_cannot_edit_rosters(shop, shifts, agent_person):
    with pytest.raises(PermissionDenied):
        roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"], by=agent_person)
    e = roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    with pytest.raises(PermissionDenied):
        roster_unassign(shop=shop, entry=e, by=agent_person)


def test_roster_day_set_and_unassign_are_audited(shop, shifts, agent_person, supervisor):
    roster_day_set(shop=shop, agent=agent_person, date=MONDAY, shifts=[shifts["day"]], by=supervisor)
    roster_day_set(shop=shop, agent=agent_person, date=MONDAY, shifts=[shifts["late"]], by=supervisor)
    assert entries(agent_person) == [("2026-03-02", "晚班")]
    log = AuditLog.objects.filter(action="roster.day_set").order_by("id").last()
    assert log.before == {"2026-03-02": ["白班"]} and log.after == {"2026-03-02": ["晚班"]}
    roster_unassign(shop=shop, entry=RosterEntry.objects.get(agent=agent_person), by=supervisor)
    assert entries(agent_person) == []
    assert AuditLog.objects.filter(action="roster.unassign").get().before["shift"] == "晚班"


def test_week_pattern_mon_to_fri_day_shift_rest_sunday(shop, shifts, agent_person, colleague, supervisor):
    n = roster_week_set(shop=shop, week_start=MONDAY, group="presales", by=supervisor, pattern={
        agent_person.id: [shifts["day"].id] * 5 + [shifts["late"].id, None],
        colleague.id: [shifts["night"].id] * 6 + [None],
    })
    assert n == 12
    assert [s for _, s in entries(agent_person)] == ["白班"] * 5 + ["晚班"]
    assert len(entries(colleague)) == 6
    logs = AuditLog.objects.filter(action="roster.pattern")
    assert logs.count() == 2
    # Setting the week again replaces it (no duplicates).
    roster_week_set(shop=shop, week_start=MONDAY, pattern={agent_person.id: [None] * 6 + [shifts["day"].id]})
    assert entries(agent_person) == [("2026-03-08", "白班")]
    assert len(entries(colleague)) == 6  # untouched


def test_week_pattern_bad_input(shop, other_shop, shifts, agent_person, colleague):
    foreign = person_create(shop=other_shop, name="外店", roles=["agent"])
    foreign_shift = shift_create(shop=other_shop, name="外班", start="08:00", end="17:00")
    with pytest.raises(KefuError) as exc:
        roster_week_set(shop=shop, week_start=MONDAY + dt.timedelta(days=1), pattern={agent_person.id: [None] * 7})
    assert exc.value.field == "week"
    with pytest.raises(ValidationFailed) as exc:
        roster_week_set(shop=shop, week_start=MONDAY, pattern={
            foreign.id: [None] * 7, agent_person.id: [None] * 6, colleague.id: [foreign_shift.id] + [None] * 6})
    fields = {e["field"] for e in exc.value.errors}
    assert fields == {f"pattern.{foreign.id}", f"pattern.{agent_person.id}", f"pattern.{colleague.id}.0"}
    after = person_create(shop=shop, name="售后甲", roles=["agent"], group="aftersales")
    with pytest.raises(ValidationFailed):
        roster_week_set(shop=shop, week_start=MONDAY, group="presales", pattern={after.id: [None] * 7})
    # Night on Sunday overlaps an early shift on the next Monday that is already rostered.
    roster_assign(shop=shop, agent=agent_person, date=MONDAY + dt.timedelta(days=7), shift=shifts["early"])
    with pytest.raises(KefuError) as exc:
        roster_week_set(shop=shop, week_start=MONDAY, pattern={agent_person.id: [None] * 6 + [shifts["night"].id]})
    assert exc.value.code == "shift_overlap"
    assert entries(agent_person) == [("2026-03-09", "早班")]  # nothing was written


def test_week_copy(shop, shifts, agent_person, supervisor):
    roster_pattern_apply(shop=shop, date_from=MONDAY, date_to=MONDAY + dt.timedelta(days=6),
                         pattern={agent_person: {0: shifts["day"], 2: shifts["late"]}})
    roster_week_copy(shop=shop, week_start=MONDAY + dt.timedelta(days=7), by=supervisor)
    assert entries(agent_person)[2:] == [("2026-03-09", "白班"), ("2026-03-11", "晚班")]
    with pytest.raises(KefuError):
        roster_week_copy(shop=shop, week_start=MONDAY + dt.timedelta(days=21))


# ---------------------------------------------------------------- swaps

@pytest.fixture
def week(shop, shifts, agent_person, colleague):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    roster_assign(shop=shop, agent=colleague, date=MONDAY, shift=shifts["late"])
    return MONDAY


def test_swap_request_and_approve_applies_once(shop, shifts, agent_person, colleague, supervisor, week):
    swap = swap_request(shop=shop, date=week, agent_a=agent_person, agent_b=colleague, shift_a=shifts["day"],
                        shift_b=shifts["late"], reason="看病", by=agent_person)
    assert (swap.status, swap.agent_a_name, swap.agent_b_name, swap.requested_by_label) == ("requested", "小美", "阿强", "小美")
    assert entries(agent_person) == [("2026-03-02", "白班")]  # nothing moves before approval
    with pytest.raises(PermissionDenied):
        swap_transition(shop=shop, swap=swap, to="approved", by=agent_person)
    swap_transition(shop=shop, swap=swap, to="approved", by=supervisor, note="同意")
    assert entries(agent_person) == [("2026-03-02", "晚班")] and entries(colleague) == [("2026-03-02", "白班")]
    assert RosterEntry.objects.filter(swap=swap).count() == 2
    with pytest.raises(KefuError) as exc:
        swap_transition(shop=shop, swap=swap, to="approved", by=supervisor)
    assert exc.value.code == "invalid_state"
    assert entries(agent_person) == [("2026-03-02", "晚班")]
    assert list(AuditLog.objects.filter(entity_type="ShiftSwap").order_by("id").values_list("action", flat=True)) == [
        "swap.request", "swap.approved"]
    swap.refresh_from_db()
    assert swap.decided_by_label == "周主管" and swap.decision_note == "同意"


def test_swap_cover_when_the_other_agent_rests(shop, shifts, agent_person, supervisor):
    resting = person_create(shop=shop, name="丽丽", roles=["agent"])
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    swap = swap_request(shop=shop, date=MONDAY, agent_a=agent_person, agent_b=resting, shift_a=shifts["day"])
    swap_transition(shop=shop, swap=swap, to="approved", by=supervisor)
    assert entries(agent_person) == [] and entries(resting) == [("2026-03-02", "白班")]


def test_swap_cannot_leave_an_agent_on_two_overlapping_shifts(shop, shifts, agent_person, colleague, supervisor):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["late"])  # 15–24
    roster_assign(shop=shop, agent=colleague, date=MONDAY, shift=shifts["day"])  # 08–17
    # B would keep 08–17 and take 15–24.
    with pytest.raises(KefuError) as exc:
        swap_request(shop=shop, date=MONDAY, agent_a=agent_person, agent_b=colleague, shift_a=shifts["late"])
    assert exc.value.code == "shift_overlap"
    # Requested while fine, but the roster changed before approval: refused then, nothing moved.
    third = person_create(shop=shop, name="丽丽", roles=["agent"])
    swap = swap_request(shop=shop, date=MONDAY, agent_a=agent_person, agent_b=third, shift_a=shifts["late"])
    roster_assign(shop=shop, agent=third, date=MONDAY, shift=shifts["day"])
    with pytest.raises(KefuError) as exc:
        swap_transition(shop=shop, swap=swap, to="approved", by=supervisor)
    assert exc.value.code == "shift_overlap"
    swap.refresh_from_db()
    assert swap.status == "requested" and entries(agent_person) == [("2026-03-02", "晚班")]


def test_swap_rules(shop, other_shop, shifts, agent_person, colleague, supervisor, week):
    third = person_create(shop=shop, name="丽丽", roles=["agent"])
    with pytest.raises(PermissionDenied):  # an agent asks only for themselves
        swap_request(shop=shop, date=week, agent_a=colleague, agent_b=third, shift_a=shifts["late"], by=agent_person)
    with pytest.raises(KefuError) as exc:
        swap_request(shop=shop, date=week, agent_a=agent_person, agent_b=agent_person, shift_a=shifts["day"])
    assert exc.value.field == "agent_b_id"
    with pytest.raises(KefuError) as exc:
        swap_request(shop=shop, date=week, agent_a=agent_person, agent_b=colleague, shift_a=shifts["night"])
    assert exc.value.field == "shift_a_id"
    with pytest.raises(KefuError) as exc:
        swap_request(shop=shop, date=week, agent_a=agent_person, agent_b=colleague, shift_a=shifts["day"],
                     shift_b=shifts["night"])
    assert exc.value.field == "shift_b_id"
    foreign = person_create(shop=other_shop, name="外店", roles=["agent"])
    with pytest.raises(KefuError) as exc:
        swap_request(shop=shop, date=week, agent_a=agent_person, agent_b=foreign, shift_a=shifts["day"])
    assert exc.value.field == "agent_b_id"


def test_swap_reject_and_cancel(shop, shifts, agent_person, colleague, supervisor, week):
    s1 = swap_request(shop=shop, date=week, agent_a=agent_person, agent_b=colleague, shift_a=shifts["day"],
                      shift_b=shifts["late"], by=agent_person)
    swap_transition(shop=shop, swap=s1, to="rejected", by=supervisor, note="人手不够")
    s2 = swap_request(shop=shop, date=week, agent_a=agent_person, agent_b=colleague, shift_a=shifts["day"],
                      shift_b=shifts["late"], by=agent_person)
    third = person_create(shop=shop, name="丽丽", roles=["agent"])
    with pytest.raises(PermissionDenied):
        swap_transition(shop=shop, swap=s2, to="cancelled", by=third)
    swap_transition(shop=shop, swap=s2, to="cancelled", by=colleague)
    with pytest.raises(KefuError):
        swap_transition(shop=shop, swap=s2, to="approved", by=supervisor)
    assert list(ShiftSwap.objects.order_by("id").values_list("status", flat=True)) == ["rejected", "cancelled"]
    assert entries(agent_person) == [("2026-03-02", "白班")]


# ---------------------------------------------------------------- status

def test_presence_history_and_rules(shop, agent_person, colleague, supervisor):
    presence_set(shop=shop, agent=agent_person, status="online", by=agent_person)
    presence_set(shop=shop, agent=agent_person, status="online", by=agent_person)  # no change, no row
    presence_set(shop=shop, agent=agent_person, status="away", by=supervisor, source="api")
    assert AgentPresence.objects.get(agent=agent_person).status == "away"
    assert list(AgentStatusChange.objects.filter(agent=agent_person).values_list("previous", "status", "source",
                                                                                 "actor_label")) == [
        ("", "online", "web", "小美"), ("online", "away", "api", "周主管")]
    with pytest.raises(PermissionDenied):
        presence_set(shop=shop, agent=colleague, status="online", by=agent_person)
    with pytest.raises(KefuError) as exc:
        presence_set(shop=shop, agent=agent_person, status="busy")
    assert exc.value.field == "status"
