"""Time helpers: shop days, parsing of platform timestamps, business seconds in service hours."""

import datetime as dt
import re
import zoneinfo
from functools import lru_cache

UTC = dt.UTC


def shop_day(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    """The calendar day of an aware moment in the shop's time zone."""
    return moment.astimezone(tz).date()


def day_bounds(day: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a shop day, in UTC."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


# Times and days Kefu accepts from outside (API, files, query strings). Python's own range (years
# 1–9999) overflows as soon as a shop's offset or a window of days is applied at its ends.
MIN_YEAR, MAX_YEAR = 1970, 2100


def check_year(value: dt.date) -> None:
    """ValueError when a date/time lies outside the years Kefu accepts."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"year {value.year} is out of range ({MIN_YEAR}–{MAX_YEAR})")


def parse_day(value) -> dt.date:
    """A YYYY-MM-DD day from outside; ValueError with a readable message."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from exc
    check_year(day)
    return day


# The shapes of _FORMATS' first four (and of their dates alone), read without strptime, which
# costs ~10x more per call: "2020/2/21 0:00", "2026-11-01 10:05:00". Same separator twice.
_PLAIN = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?: (\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?", re.ASCII)

_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%a %b %d %H:%M:%S %z %Y",  # Twitter's created_at
)


def parse_moment(value, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """Parse ISO 8601 or a platform export's date; a time without offset is shop time.

    Raises ValueError with a readable message.
    """
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        if not text:
            raise ValueError("empty time")
        moment = None
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            plain = _PLAIN.fullmatch(text)
            if plain:
                y, _, mo, d, h, mi, s = plain.groups()
                try:
                    moment = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
                except ValueError:
                    pass  # month 13, hour 25…: strptime below refuses it with the same message
        if moment is None:
            for fmt in _FORMATS:
                try:
                    moment = dt.datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
        if moment is None:
            raise ValueError(f"not a date/time: {text!r}")
    check_year(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


class ServiceHours:
    """A weekly schedule of service intervals plus holidays, in the shop's time zone.

    `spec` is the Shop.service_hours JSON: {"weekly": {"0": [["09:00", "18:00"]], ...},
    "holidays": ["2026-10-01"]} with Monday = "0". An empty spec means 24 hours every day.
    A weekday missing from "weekly" is closed when "weekly" is given.
    """

    def __init__(self, spec: dict | None, tz: zoneinfo.ZoneInfo):
        spec = spec or {}
        self.tz = tz
        self.always = not spec.get("weekly")
        self.holidays = {dt.date.fromisoformat(d) for d in spec.get("holidays", [])}
        self.weekly: dict[int, list[tuple[dt.time, dt.time | None]]] = {}
        for key, intervals in (spec.get("weekly") or {}).items():
            parsed = []
            for start, end in intervals:
                s = dt.time.fromisoformat(start)
                e = None if end in ("24:00", "24:00:00") else dt.time.fromisoformat(end)
                parsed.append((s, e))
            self.weekly[int(key)] = parsed
        self._days: dict[dt.date, list] = {}  # intervals_on, remembered: a rebuild asks for the same days often

    def intervals_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        got = self._days.get(day)
        if got is None:
            got = self._days[day] = self._intervals_on(day)
        return got

    def _intervals_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if day in self.holidays:
            return []
        if self.always:
            return [day_bounds(day, self.tz)]
        out = []
        for s, e in self.weekly.get(day.weekday(), []):
            start = dt.datetime.combine(day, s, tzinfo=self.tz).astimezone(UTC)
            if e is None:
                end = day_bounds(day, self.tz)[1]
            else:
                end = dt.datetime.combine(day, e, tzinfo=self.tz).astimezone(UTC)
            if end > start:
                out.append((start, end))
        return out

    def business_seconds(self, start: dt.datetime, end: dt.datetime) -> int:
        """Whole seconds of [start, end) that fall inside service hours."""
        if end <= start:
            return 0
        if self.always and not self.holidays:
            return int((end - start).total_seconds())
        total = 0.0
        day = shop_day(start, self.tz)
        last = shop_day(end, self.tz)
        while day <= last:
            for s, e in self.intervals_on(day):
                lo, hi = max(s, start), min(e, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return int(total)


@lru_cache(maxsize=256)
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)
