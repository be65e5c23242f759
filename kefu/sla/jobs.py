"""Scheduler rules of the SLA app."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job


def _scan_minute(shop: Shop, now: dt.datetime) -> str | None:
    """Each minute in which a shop has running clocks or new messages, cases or case steps."""
    from .services import sla_scan_pending

    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M") if sla_scan_pending(shop=shop) else None


def _enqueue_scan(shop: Shop) -> None:
    from .tasks import sla_scan_task

    sla_scan_task.enqueue(shop.id)


JOBS = [Job("sla.scan", _("SLA 计时"), _("有计时中的 SLA 或新消息时每分钟检查：提醒与超时升级"),
            _scan_minute, _enqueue_scan)]
