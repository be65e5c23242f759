"""The scheduler process: fires periodic jobs onto the task queue, each at most once per period.

Jobs are (name, period function, enqueue function). The period key (e.g. the shop day) and the
unique SchedulerRun row make firing idempotent across restarts and several schedulers.
"""

import datetime as dt
import logging
import time

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import SchedulerRun, Shop
from .timeutil import shop_day

log = logging.getLogger("kefu.scheduler")


def _nightly_audit(shop: Shop, now: dt.datetime) -> str | None:
    """Once per shop day, after 03:00 shop time."""
    local = now.astimezone(shop.tz)
    return shop_day(now, shop.tz).isoformat() if local.hour >= 3 else None


def _enqueue_audit(shop: Shop) -> None:
    from kefu.metrics.tasks import rollup_audit

    rollup_audit.enqueue(shop.id)


def _payment_reminder_minute(shop: Shop, now: dt.datetime) -> str | None:
    """Each minute in which an order of the shop is due a 催付 task (PRE-2, AUTO-2)."""
    from kefu.followups.services import payment_reminders_pending

    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M") if payment_reminders_pending(shop=shop, now=now) else None


def _enqueue_payment_reminders(shop: Shop) -> None:
    from kefu.followups.tasks import payment_reminders_scan

    payment_reminders_scan.enqueue(shop.id)


JOBS = [("metrics.rollup_audit", _nightly_audit, _enqueue_audit),
        ("followups.payment_reminders", _payment_reminder_minute, _enqueue_payment_reminders)]


def tick(now: dt.datetime | None = None) -> list[tuple[str, str, str]]:
    """Fire every job whose period has come and was not fired yet. Returns what fired."""
    now = now or timezone.now()
    fired = []
    for shop in Shop.objects.all():
        for name, period_of, enqueue in JOBS:
            period = period_of(shop, now)
            if period is None:
                continue
            try:
                with transaction.atomic():
                    SchedulerRun.objects.create(job=name, period=period, shop=shop)
                    transaction.on_commit(lambda e=enqueue, s=shop: e(s))
            except IntegrityError:
                continue
            fired.append((name, shop.code, period))
            log.info("fired %s for %s (%s)", name, shop.code, period)
    return fired


def run_forever(interval: float = 30.0) -> None:
    while True:
        try:
            tick()
        except Exception:  # keep the scheduler alive; the error is logged with its traceback
            log.exception("scheduler tick failed")
        time.sleep(interval)
