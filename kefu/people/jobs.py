"""Scheduler rules of people management."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job


def _hourly(shop: Shop, now: dt.datetime) -> str | None:
    """Every hour: shifts end, so days settle (a shift without a clock-in becomes 旷工)."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H")


def _enqueue_settle(shop: Shop) -> None:
    from .tasks import attendance_settle

    attendance_settle.enqueue(shop.id)


JOBS = [
    Job("people.attendance_settle", _("考勤结算与自动扣分"), _("每小时重算本月考勤、扣分、警告与提成（月初三天也重算上月考勤；上月未锁定时也重算上月提成）"),
        _hourly, _enqueue_settle),
]
