"""Scheduler rules of the reports."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job


def _hourly(shop: Shop, now: dt.datetime) -> str | None:
    """Every hour: a shop day that has just ended gets its reports; older ones follow late changes."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H")


def _enqueue_daily(shop: Shop) -> None:
    from .tasks import daily_reports_task

    daily_reports_task.enqueue(shop.id)


def _enqueue_up(shop: Shop) -> None:
    from .tasks import reports_up_task

    reports_up_task.enqueue(shop.id)


JOBS = [
    Job("reports.daily", _("销售日报"), _("每小时：店铺时区的一天结束后生成每位客服的销售日报，并刷新近 35 天的日报（迟到的订单、退款）"),
        _hourly, _enqueue_daily),
    Job("reports.up", _("部门报告与月度汇报"), _("每小时检查：前一天的日报、上周的周报、上月的月报各生成一次并通知主管和经理（经理有邮箱时发邮件）；每月 1–3 日为每位客服填好上月的月度汇报"),
        _hourly, _enqueue_up),
]
