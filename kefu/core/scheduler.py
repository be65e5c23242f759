"""The scheduler process: fires periodic jobs (the time-based rules, AUTO-2) onto the task queue,
each at most once per period.

A job is declared in its app's `jobs.py` (`JOBS = [Job(...)]`) and that module is listed in
JOB_MODULES. Its period function names the period that is due (e.g. the shop day, the minute) or
None; the unique SchedulerRun row makes firing idempotent across restarts and several schedulers.
"""

import datetime as dt
import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import SchedulerRun, Shop

log = logging.getLogger("kefu.scheduler")

# The apps whose rules the scheduler runs, in firing order.
JOB_MODULES = [
    "kefu.metrics.jobs",
    "kefu.followups.jobs",
    "kefu.crm.jobs",
    "kefu.complaints.jobs",
    "kefu.conversations.jobs",
    "kefu.defects.jobs",
    "kefu.shipping.jobs",
    "kefu.aftersales.jobs",
    "kefu.sla.jobs",
    "kefu.quality.jobs",
    "kefu.integrations.jobs",
    "kefu.care.jobs",
    "kefu.people.jobs",
    "kefu.reports.jobs",
    "kefu.livechat.jobs",
]


@dataclass(frozen=True)
class Job:
    name: str  # stable key stored in SchedulerRun.job
    label: str  # shown on the rules page (translatable)
    schedule: str  # when it fires, in words (translatable)
    period: Callable[[Shop, dt.datetime], str | None]
    enqueue: Callable[[Shop], None]


def jobs() -> list[Job]:
    return [job for module in JOB_MODULES for job in importlib.import_module(module).JOBS]


def tick(now: dt.datetime | None = None) -> list[tuple[str, str, str]]:
    """Fire every job whose period has come and was not fired yet. Returns what fired."""
    now = now or timezone.now()
    fired = []
    all_jobs = jobs()
    for shop in Shop.objects.active():
        for job in all_jobs:
            period = job.period(shop, now)
            if period is None:
                continue
            try:
                with transaction.atomic():
                    SchedulerRun.objects.create(job=job.name, period=period, shop=shop)
                    transaction.on_commit(lambda e=job.enqueue, s=shop: e(s))
            except IntegrityError:
                continue
            fired.append((job.name, shop.code, period))
            log.info("fired %s for %s (%s)", job.name, shop.code, period)
    return fired


def run_forever(interval: float = 30.0) -> None:
    while True:
        try:
            tick()
        except Exception:  # keep the scheduler alive; the error is logged with its traceback
            log.exception("scheduler tick failed")
        time.sleep(interval)
