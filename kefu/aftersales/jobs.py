"""Scheduler rules of after-sales: the daily follow-up reminders (AFT-6, AFT-10)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job


def _reminder_day(shop: Shop, now: dt.datetime) -> str | None:
    from .reminders import reminder_day

    return reminder_day(shop=shop, now=now)


def _enqueue(shop: Shop) -> None:
    from .tasks import followup_reminders

    followup_reminders.enqueue(shop.id)


JOBS = [
    Job("aftersales.followup_reminders", _("售后跟进提醒"),
        _("每天 9 点后提醒负责人：提前退款的退货包裹逾期未到、退款后的二次服务回访到期（每单每天一次）"),
        _reminder_day, _enqueue),
]
