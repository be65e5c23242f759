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


STALE_SECONDS = 30


def _stale_minute(shop: Shop, now: dt.datetime) -> str | None:
    """Each minute in which a change older than STALE_SECONDS is still not in the figures: the
    drain an ingest queues normally runs within a second, so this catches what a crash or a stopped
    worker left behind (ADR 0004)."""
    from .queue import facts_lag

    if facts_lag(shop=shop, now=now) < STALE_SECONDS:
        return None
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def _enqueue_drain(shop: Shop) -> None:
    from .queue import drain_kick

    drain_kick(force=True)  # a running drain's promise is not trusted here: it may have died


JOBS = [
    Job("metrics.rollup_audit", _("绩效汇总核对"), _("每天 03:00 后一次"), _nightly, _enqueue_audit),
    Job("metrics.facts_drain", _("绩效数据补算"), _("有超过 30 秒未计入绩效的变更时（每分钟检查）"), _stale_minute,
        _enqueue_drain),
]
