"""Scheduler rule of quality inspection: the sampling round (QA-1), every `every_days` shop days."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job
from kefu.core.timeutil import shop_day


def _round_day(shop: Shop, now: dt.datetime) -> str | None:
    from .sampling import is_round_day

    day = shop_day(now, shop.tz)
    return day.isoformat() if is_round_day(shop, day) else None


def _enqueue_round(shop: Shop) -> None:
    from django.utils import timezone

    from .tasks import sampling_round

    sampling_round.enqueue(shop.id, shop_day(timezone.now(), shop.tz).isoformat())


JOBS = [
    Job("quality.sampling", _("质检抽查"), _("每隔 N 天为每位客服抽取接待放入质检员的待办（规则见质检设置）"),
        _round_day, _enqueue_round),
]
