"""Scheduler rules of the defects app."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job

SCAN_MINUTES = 10


def _scan_period(shop: Shop, now: dt.datetime) -> str | None:
    """The 10-minute slot, when a counted quality report is not yet in an alert (AFT-8)."""
    from .services import reports_pending

    if not reports_pending(shop=shop, now=now):
        return None
    slot = now.astimezone(dt.UTC)
    return slot.replace(minute=slot.minute - slot.minute % SCAN_MINUTES).strftime("%Y-%m-%dT%H:%M")


def _enqueue_scan(shop: Shop) -> None:
    from .tasks import production_alerts_scan

    production_alerts_scan.enqueue(shop.id)


JOBS = [Job("defects.production_alerts", _("生产问题预警"), _("有新的质量问题售后单时，每 10 分钟检查"),
            _scan_period, _enqueue_scan)]
