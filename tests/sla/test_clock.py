"""Due times in calendar and business time (service hours across midnight, holidays, shift breaks),
checked against an independent search over core's business_seconds."""

import datetime as dt
import random

import pytest

from kefu.core.timeutil import ServiceHours
from kefu.sla import clock as C
from kefu.sla.enums import ClockState, Outcome

from .conftest import MONDAY, TZ, at

WEEKDAYS = {"weekly": {str(d): [["09:00", "18:00"]] for d in range(5)}}
SPLIT = {"weekly": {str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(7)}}
TUESDAY, WEDNESDAY, FRIDAY = (MONDAY + dt.timedelta(days=n) for n in (1, 2, 4))


def hours(spec):
    return ServiceHours(spec, TZ)


@pytest.mark.parametrize("spec,start,minutes,due", [
    ({}, at(MONDAY, "23:58"), 5, at(TUESDAY, "00:03")),  # 24 h: across midnight in calendar time
    (WEEKDAYS, at(MONDAY, "17:58"), 5, at(TUESDAY, "09:03")),  # closes at 18:00, opens 09:00
    (WEEKDAYS, at(MONDAY, "07:00"), 5, at(MONDAY, "09:05")),  # before opening: waits for it
    (WEEKDAYS, at(FRIDAY, "17:59"), 5, at(FRIDAY + dt.timedelta(days=3), "09:04")),  # over the weekend
    ({**WEEKDAYS, "holidays": [TUESDAY.isoformat()]}, at(MONDAY, "17:58"), 5, at(WEDNESDAY, "09:03")),
    (SPLIT, at(MONDAY, "11:58"), 5, at(MONDAY, "13:03")),  # lunch break between two shifts
    (SPLIT, at(MONDAY, "12:30"), 5, at(MONDAY, "13:05")),  # written during the break
    (SPLIT, at(MONDAY, "17:00"), 48 * 60, at(MONDAY + dt.timedelta(days=6), "17:00")),  # 8 h a day
    ({"weekly": {"0": [["20:00", "24:00"]], "1": [["00:00", "02:00"]]}}, at(MONDAY, "23:58"), 5,
     at(TUESDAY, "00:03")),  # a night shift across midnight
])
def test_business_due(spec, start, minutes, due):
    got, _warn = C.due_and_warn(start, minutes, 0, True, hours(spec))
    assert got == due


def test_calendar_time_ignores_service_hours():
    due, warn = C.due_and_warn(at(FRIDAY, "17:59"), 48 * 60, 240, False, hours(WEEKDAYS))
    assert due == at(FRIDAY, "17:59") + dt.timedelta(hours=48)
    assert warn == due - dt.timedelta(hours=4)


def test_warning_is_in_business_time_too():
    due, warn = C.due_and_warn(at(MONDAY, "17:59"), 5, 2, True, hours(WEEKDAYS))
    assert (warn, due) == (at(TUESDAY, "09:02"), at(TUESDAY, "09:04"))


def test_no_service_hours_at_all_falls_back_to_calendar():
    spec = {"weekly": {"0": []}}
    assert C.add_business(at(MONDAY, "10:00"), 300, hours(spec)) == at(MONDAY, "10:05")


def _oracle_due(start, seconds, h: ServiceHours):
    """Smallest moment t with business_seconds(start, t) >= seconds: a bisection on core's counter."""
    lo, hi = start, start + dt.timedelta(days=30)
    while (hi - lo) > dt.timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            break
        if h.business_seconds(start, mid) >= seconds:
            hi = mid
        else:
            lo = mid
    return hi


@pytest.mark.parametrize("spec", [WEEKDAYS, SPLIT, {**SPLIT, "holidays": [TUESDAY.isoformat(), "2026-11-05"]}])
def test_due_agrees_with_business_seconds(spec):
    rng = random.Random(7)
    h = hours(spec)
    for _ in range(60):
        start = at(MONDAY, "00:00") + dt.timedelta(seconds=rng.randrange(0, 7 * 86400))
        minutes = rng.choice([1, 5, 30, 180, 2880])
        due = C.add_business(start, minutes * 60, h)
        assert h.business_seconds(start, due) == minutes * 60
        assert due == _oracle_due(start, minutes * 60, h), (start, minutes)


def test_judge_and_outcome():
    s, w, d = at(MONDAY, "10:00"), at(MONDAY, "10:03"), at(MONDAY, "10:05")
    assert C.judge(started_at=s, stopped_at=d, warn_at=w, due_at=d, now=d)[0] == ClockState.HIT
    assert C.judge(started_at=s, stopped_at=d + dt.timedelta(seconds=1), warn_at=w, due_at=d, now=d)[:2] == (
        ClockState.MISSED, d)
    assert C.judge(started_at=s, stopped_at=None, warn_at=w, due_at=d, now=w)[0] == ClockState.WARNED
    assert C.judge(started_at=s, stopped_at=None, warn_at=w, due_at=d, now=s)[0] == ClockState.ACTIVE
    assert C.judge(started_at=s, stopped_at=None, warn_at=w, due_at=d, now=d)[0] == ClockState.MISSED

    class K:
        def __init__(self, state, stopped):
            self.state, self.stopped_at = state, stopped
    assert C.outcome([]) is None
    assert C.outcome([K("hit", d), K("hit", d)]) == Outcome.HIT
    assert C.outcome([K("hit", d), K("missed", d)]) == Outcome.MISSED
    assert C.outcome([K("missed", d), K("active", None)]) == Outcome.ACTIVE_MISSED
    assert C.outcome([K("hit", d), K("warned", None)]) == Outcome.ACTIVE


def test_resolution_stop_follows_reopening():
    t = [at(MONDAY, f"1{i}:00") for i in range(5)]
    assert C.resolution_stop([(t[0], "open"), (t[1], "reshipped"), (t[2], "closed")], "closed") == t[1]
    assert C.resolution_stop([(t[0], "open"), (t[1], "rejected"), (t[2], "escalated")], "escalated") is None
    assert C.resolution_stop([(t[0], "open"), (t[1], "rejected"), (t[2], "escalated"), (t[3], "refunded")],
                             "refunded") == t[3]
