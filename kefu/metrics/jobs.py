"""Scheduler rules of the metrics app."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job
from kefu.core.timeutil import shop_day


def _nightly(shop: Shop, now: dt.datetime) -> str | None:
    """Once per shop day, after 03:00 shop time."""
    return shop_day(now, shop.tz).isoformat() if now.astimezone(shop.tz).hour >= 3 else None


def _enqueue_audit(shop: Shop) -> None:
    from .tasks import rollup_audit

    rollup_audit.enqueue(shop.id)


JOBS = [Job("metrics.rollup_audit", _("绩效汇总核对"), _("每天 03:00 后一次"), _nightly, _enqueue_audit)]
