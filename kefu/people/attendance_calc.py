"""The attendance rules of seed 002 §五 as pure functions over one agent's raw rows (WF-2).

A day with a rostered shift [start, end) is, in this order:
- the supervisor's status, when a correction sets one;
- 请假 / 调休 when an approved request covers it;
- with a clock-in (the earliest in [start − 3 h, end)): late by whole minutes past start + grace;
  more than `absent_after_minutes` late is an absence (缺勤); clocking out more than
  `early_leave_minutes` before the end is leaving the post (私自离岗 → 旷工); no clock-out
  `forgot_after_hours` after the end is a forgotten clock (漏打卡);
- without a clock-in, once `forgot_after_hours` have passed since the end: a forgotten clock when the
  agent evidently worked (clocked out, or was online during the shift), else 旷工 (no clock-in and no
  approved leave).
Leave, 调休 and forgotten clocks use the month's 调休 allowance in date order; each use beyond it
counts as an absence (002 §五.2). Time not online counts only inside the time the agent was at work,
so a late or absent day is never also counted as "not online".
"""

import datetime as dt
from dataclasses import dataclass, field

from .enums import AttendanceStatus as St
from .enums import ClockKind

IN_BEFORE = dt.timedelta(hours=3)  # a clock-in this long before the shift still belongs to it
OUT_AFTER = dt.timedelta(hours=6)  # a clock-out this long after the shift still belongs to it
ONLINE = "online"
ALLOWANCE_STATUSES = {St.LEAVE, St.REST_ADJUSTED, St.FORGOT}


@dataclass(frozen=True)
class Rules:
    absent_after_minutes: int = 30
    late_grace_minutes: int = 0
    rest_days_per_month: int = 4
    early_leave_minutes: int = 30
    forgot_after_hours: int = 2
    not_online_minutes: int = 10

    @classmethod
    def of(cls, s) -> "Rules":
        return cls(**{f: getattr(s, f) for f in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Correction:
    clock_in: dt.datetime | None = None
    clock_out: dt.datetime | None = None
    status: str = ""
    excuse_not_online: bool = False


@dataclass
class DayInput:
    date: dt.date
    start: dt.datetime | None  # the day's first rostered shift start (UTC); None = no shift
    end: dt.datetime | None
    clocks: list[tuple[str, dt.datetime]] = field(default_factory=list)  # (kind, at), any order
    leave: tuple[int, str] | None = None  # (request id, kind) of an approved request covering the day
    correction: Correction | None = None
    # Presence: the status before the day's window and the changes (at, status) in it; None = the
    # agent has no presence history at all (the shop does not track it): never judged not online.
    presence_before: str | None = None
    presence: list[tuple[dt.datetime, str]] | None = None


@dataclass
class DayResult:
    status: str
    clock_in: dt.datetime | None = None
    clock_out: dt.datetime | None = None
    late_minutes: int = 0
    left_early_minutes: int = 0
    forgot_clock: bool = False
    leave_id: int | None = None
    corrected: bool = False
    not_online_minutes: int = 0
    not_online_from: dt.datetime | None = None
    not_online_to: dt.datetime | None = None
    not_online: bool = False
    allowance_no: int | None = None
    over_allowance: bool = False

    @property
    def uses_allowance(self) -> bool:
        return self.status in ALLOWANCE_STATUSES or self.forgot_clock


def whole_minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def offline_stretches(before: str, changes: list[tuple[dt.datetime, str]], lo: dt.datetime,
                      hi: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """[start, end) stretches of [lo, hi) during which the status was not online."""
    out: list[tuple[dt.datetime, dt.datetime]] = []
    if hi <= lo:
        return out
    status = before
    for at, st in changes:
        if at <= lo:
            status = st
    cursor = lo
    for at, st in [(at, st) for at, st in changes if lo < at < hi] + [(hi, None)]:
        if status != ONLINE and at > cursor:
            if out and out[-1][1] == cursor:
                out[-1] = (out[-1][0], at)  # away then offline is one stretch
            else:
                out.append((cursor, at))
        cursor = at
        if st is not None:
            status = st
    return out


def _clock_times(d: DayInput) -> tuple[dt.datetime | None, dt.datetime | None]:
    ins = sorted(at for kind, at in d.clocks if kind == ClockKind.IN and d.start - IN_BEFORE <= at < d.end)
    clock_in = ins[0] if ins else None
    after = clock_in or d.start - IN_BEFORE
    outs = sorted(at for kind, at in d.clocks if kind == ClockKind.OUT and after < at <= d.end + OUT_AFTER)
    clock_out = outs[-1] if outs else None
    c = d.correction
    if c is not None:
        clock_in = c.clock_in or clock_in
        clock_out = c.clock_out or clock_out
    return clock_in, clock_out


def day_result(d: DayInput, rules: Rules, now: dt.datetime) -> DayResult:
    """One agent-day (the month pass `month_results` numbers the allowance afterwards)."""
    c = d.correction
    if d.start is None:
        r = DayResult(status=St.REST, corrected=c is not None)
        if c is not None and c.status and c.status != St.REST:
            r.status = c.status  # a supervisor may record a day worked off the roster
        return r
    clock_in, clock_out = _clock_times(d)
    r = DayResult(status=St.PENDING, clock_in=clock_in, clock_out=clock_out, corrected=c is not None)
    settled = now >= d.end + dt.timedelta(hours=rules.forgot_after_hours)
    if clock_in is not None:
        r.late_minutes = max(0, whole_minutes(clock_in - d.start) - rules.late_grace_minutes)
    if clock_out is not None and clock_out < d.end:
        r.left_early_minutes = whole_minutes(d.end - clock_out)

    if c is not None and c.status:
        r.status = c.status
        if r.status in (St.LEAVE, St.REST_ADJUSTED):
            r.leave_id = d.leave[0] if d.leave else None
    elif d.leave is not None:
        r.leave_id, r.status = d.leave[0], d.leave[1]
    elif clock_in is not None:
        if r.late_minutes == 0:
            r.status = St.ON_TIME
        elif r.late_minutes <= rules.absent_after_minutes:
            r.status = St.LATE
        else:
            r.status = St.ABSENT
        if clock_out is not None and r.left_early_minutes > rules.early_leave_minutes:
            r.status = St.UNAUTHORISED  # left the post without a recorded swap (002 §五.3)
        elif clock_out is None and settled:
            r.forgot_clock = True
    elif settled:
        worked = clock_out is not None or bool(
            d.presence is not None and _online_seconds(d, d.start, d.end) > 0)
        r.status = St.FORGOT if worked else St.UNAUTHORISED
        r.forgot_clock = worked

    _not_online(d, r, rules, now)
    return r


def _online_seconds(d: DayInput, lo: dt.datetime, hi: dt.datetime) -> float:
    off = sum((b - a).total_seconds() for a, b in offline_stretches(d.presence_before or "", d.presence or [], lo, hi))
    return (hi - lo).total_seconds() - off


def _not_online(d: DayInput, r: DayResult, rules: Rules, now: dt.datetime) -> None:
    """002 §五.4: the time at work spent not online; one occurrence per day when a stretch is long enough."""
    if d.presence is None or r.status not in (St.ON_TIME, St.LATE, St.FORGOT, St.PENDING):
        return
    lo = max(d.start, r.clock_in) if r.clock_in else (d.start if r.status == St.FORGOT else None)
    if lo is None:
        return
    hi = min(d.end, r.clock_out or d.end, now)
    stretches = offline_stretches(d.presence_before or "", d.presence, lo, hi)
    if not stretches:
        return
    r.not_online_minutes = whole_minutes(sum((b - a for a, b in stretches), dt.timedelta()))
    longest = max(stretches, key=lambda s: s[1] - s[0])
    r.not_online_from, r.not_online_to = longest
    excused = d.correction is not None and d.correction.excuse_not_online
    r.not_online = not excused and whole_minutes(longest[1] - longest[0]) >= rules.not_online_minutes


def month_results(days: list[DayInput], rules: Rules, now: dt.datetime) -> list[DayResult]:
    """Every day of one agent's month, with the 调休 allowance numbered in date order."""
    out = []
    n = 0
    for d in sorted(days, key=lambda x: x.date):
        r = day_result(d, rules, now)
        if r.uses_allowance:
            n += 1
            r.allowance_no = n
            r.over_allowance = n > rules.rest_days_per_month
        out.append(r)
    return out
