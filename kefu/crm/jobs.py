"""Scheduler rules of customer care: the nightly grade recomputation (PRE-9)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job

NIGHTLY_HOUR = 3  # shop time: after the day's orders settled, before the morning shift


def _nightly(shop: Shop, now: dt.datetime) -> str | None:
    local = now.astimezone(shop.tz)
    return local.date().isoformat() if local.hour >= NIGHTLY_HOUR else None


def _enqueue_grades(shop: Shop) -> None:
    from .tasks import grades_recompute_task

    grades_recompute_task.enqueue(shop.id)


JOBS = [Job("crm.grades_nightly", _("客户分级重算"), _("每天 03:00（店铺时区）"), _nightly, _enqueue_grades)]
