"""Report periods: the date presets of the dashboard (as 赤兔 offers them) and the period each one
is compared with (环比). All days are shop days."""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kefu.core.errors import KefuError

# In the order the dashboard offers them.
PRESETS = {
    "today": _("今天"), "yesterday": _("昨天"), "this_week": _("本周"), "last_week": _("上周"),
    "this_month": _("本月"), "last_month": _("上月"), "last_7": _("近7天"), "last_30": _("近30天"),
}


@dataclass(frozen=True)
class Period:
    date_from: dt.date
    date_to: dt.date
    preset: str | None = None  # None: a range chosen by hand

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def _month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _month_end(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def month_of(day: dt.date) -> Period:
    """The calendar month a day falls in."""
    return Period(_month_start(day), _month_end(day))


def period_of_preset(preset: str, *, today: dt.date) -> Period:
    """The days a preset stands for, seen from the shop's today. Weeks start on Monday."""
    monday = today - dt.timedelta(days=today.weekday())
    first = _month_start(today)
    spans = {
        "today": (today, today),
        "yesterday": (today - dt.timedelta(days=1),) * 2,
        "this_week": (monday, today),
        "last_week": (monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)),
        "this_month": (first, today),
        "last_month": (_month_start(first - dt.timedelta(days=1)), first - dt.timedelta(days=1)),
        "last_7": (today - dt.timedelta(days=6), today),
        "last_30": (today - dt.timedelta(days=29), today),
    }
    if preset not in spans:
        raise KefuError(f"unknown period {preset!r}; one of {', '.join(PRESETS)}", field="period")
    return Period(*spans[preset], preset=preset)


def previous_period(p: Period) -> Period:
    """What a period is compared with (环比):
    - 本月 / 上月, or a whole calendar month chosen by hand: the same days of the month before, cut
      at its end (本月 1–5 日 ↔ 上月 1–5 日; 3 月 ↔ 2 月 with its 28 days);
    - 本周 / 上周: the same weekdays of the week before;
    - anything else (今天, 近7天, any range): as many days right before it."""
    f, t = p.date_from, p.date_to
    whole_month = f.day == 1 and t == _month_end(f)
    if p.preset in ("this_month", "last_month") or (p.preset is None and whole_month):
        prev_first = _month_start(f - dt.timedelta(days=1))
        prev_end = _month_end(prev_first)
        to = prev_end if whole_month else min(prev_first + (t - f), prev_end)
        return Period(prev_first, to)
    if p.preset in ("this_week", "last_week"):
        return Period(f - dt.timedelta(days=7), t - dt.timedelta(days=7))
    return Period(f - dt.timedelta(days=p.days), f - dt.timedelta(days=1))


def change(current, previous, *, kind: str) -> dict | None:
    """环比 of one figure: `delta` (for rates: percentage points; otherwise the relative change in
    %), None when either side has no value or the previous is zero for a relative change."""
    if current is None or previous is None:
        return None
    cur, prev = float(current), float(previous)
    if kind == "rate":
        return {"delta": round((cur - prev) * 100, 1), "unit": "pp"}
    if prev == 0:
        return None
    return {"delta": round((cur - prev) / prev * 100, 1), "unit": "%"}
