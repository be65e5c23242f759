"""Shop months: the first day names a month; a month is open until a manager locks it."""

import datetime as dt

from django.utils import timezone

from kefu.core.models import Shop
from kefu.core.timeutil import shop_day


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    return next_month(month) - dt.timedelta(days=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def prev_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_days(month: dt.date) -> list[dt.date]:
    end = month_end(month)
    return [month + dt.timedelta(days=i) for i in range((end - month).days + 1)]


def shop_today(shop: Shop, now: dt.datetime | None = None) -> dt.date:
    return shop_day(now or timezone.now(), shop.tz)


def parse_month(raw: str | None, default: dt.date) -> dt.date:
    """ "2026-03" or "2026-03-01" → 2026-03-01; ValueError with a readable message."""
    if not raw:
        return month_start(default)
    text = str(raw).strip()
    try:
        if len(text) == 7:
            return dt.date.fromisoformat(text + "-01")
        return month_start(dt.date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"not a month (YYYY-MM): {text!r}") from None


def locked_months(shop: Shop) -> set[dt.date]:
    from .enums import MonthState
    from .models import MonthClose

    return set(MonthClose.objects.filter(shop=shop, state=MonthState.LOCKED).values_list("month", flat=True))


def first_open_month_after(shop: Shop, month: dt.date) -> dt.date:
    """Where a change to a locked month goes: the first month after it that is not locked."""
    locked = locked_months(shop)
    m = next_month(month)
    while m in locked:
        m = next_month(m)
    return m
