"""Scheduler rules of the follow-ups app."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job


def _reminder_minute(shop: Shop, now: dt.datetime) -> str | None:
    """Each minute in which an order of the shop is due a 催付 task (PRE-2)."""
    from .services import payment_reminders_pending

    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M") if payment_reminders_pending(shop=shop, now=now) else None


def _enqueue_reminders(shop: Shop) -> None:
    from .tasks import payment_reminders_scan

    payment_reminders_scan.enqueue(shop.id)


JOBS = [Job("followups.payment_reminders", _("催付提醒"), _("未付款订单下单 N 分钟后（每分钟检查）"),
            _reminder_minute, _enqueue_reminders)]
