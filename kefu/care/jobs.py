"""Scheduler rules of customer care: the morning revisit lists (CRM-2), care messages whose time has
come (CRM-3) and the hourly churn scan (CRM-5)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job

REVISIT_HOUR = 8  # shop time: the lists are ready when the day shift starts


def _revisit_day(shop: Shop, now: dt.datetime) -> str | None:
    local = now.astimezone(shop.tz)
    return local.date().isoformat() if local.hour >= REVISIT_HOUR else None


def _enqueue_revisits(shop: Shop) -> None:
    from .tasks import revisits_generate_task

    revisits_generate_task.enqueue(shop.id)


def _campaign_minute(shop: Shop, now: dt.datetime) -> str | None:
    """Each minute in which a scheduled care message is due."""
    from .enums import CampaignState
    from .models import CareCampaign

    due = CareCampaign.objects.filter(shop=shop, state__in=(CampaignState.SCHEDULED, CampaignState.SENDING),
                                      scheduled_at__lte=now).exists()
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M") if due else None


def _enqueue_campaigns(shop: Shop) -> None:
    from .tasks import campaigns_send_task

    campaigns_send_task.enqueue(shop.id)


def _hour(shop: Shop, now: dt.datetime) -> str | None:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H")


def _enqueue_churn(shop: Shop) -> None:
    from .tasks import churn_scan_task

    churn_scan_task.enqueue(shop.id)


JOBS = [
    Job("care.revisits_daily", _("回访名单"), _("每天 08:00（店铺时区）"), _revisit_day, _enqueue_revisits),
    Job("care.campaigns", _("关怀短信发送"), _("到发送时间的关怀短信（每分钟检查）"), _campaign_minute,
        _enqueue_campaigns),
    Job("care.churn_scan", _("流失预警扫描"), _("每小时"), _hour, _enqueue_churn),
]
