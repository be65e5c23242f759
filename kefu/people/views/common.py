"""Small helpers shared by the people pages."""

import datetime as dt
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from kefu.core.enums import Group
from kefu.core.models import Shop

from ..months import month_start, next_month, parse_month, prev_month, shop_today

GROUPS = [(Group.PRESALES.value, Group.PRESALES.label), (Group.AFTERSALES.value, Group.AFTERSALES.label)]


def int_or_none(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def date_or_none(raw) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def month_ctx(request, shop: Shop, default: dt.date | None = None) -> tuple[dt.date, dict]:
    """The month of ?month=YYYY-MM (this month when absent or unreadable) and its navigation."""
    today = shop_today(shop)
    try:
        month = parse_month(request.GET.get("month"), default or today)
    except ValueError:
        month = month_start(default or today)
    return month, {"month": month, "prev_month": prev_month(month), "next_month": next_month(month),
                   "this_month": month_start(today), "today": today}


def group_of(request) -> str:
    group = request.GET.get("group") or ""
    return group if group in dict(GROUPS) else ""


def local_moment(shop: Shop, day: dt.date, raw: str | None) -> dt.datetime | None:
    """ "08:58" on `day` (or "2026-03-03T00:10" for a night shift's next morning) in shop time."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        if "T" in raw or " " in raw:
            moment = dt.datetime.fromisoformat(raw.replace(" ", "T"))
        else:
            moment = dt.datetime.combine(day, dt.time.fromisoformat(raw))
    except ValueError:
        raise ValueError(raw) from None
    return moment.replace(tzinfo=shop.tz) if moment.tzinfo is None else moment


def back(name: str, *args, **query) -> object:
    url = reverse(name, args=args)
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return redirect(url + ("?" + urlencode(query) if query else ""))
