"""Scheduler rules of the shipping audit: the daily list (SHIP-1/2/3) and closing shipped orders' issues."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job
from kefu.core.timeutil import shop_day

CLOSE_EVERY_MINUTES = 10


def _daily(shop: Shop, now: dt.datetime) -> str | None:
    """Once per shop day, at or after the shop's audit hour (default 09:00 shop time)."""
    from .services import settings_for

    hour = settings_for(shop).audit_hour
    return shop_day(now, shop.tz).isoformat() if now.astimezone(shop.tz).hour >= hour else None


def _enqueue_audit(shop: Shop) -> None:
    from .tasks import shipping_audit

    shipping_audit.enqueue(shop.id)


def _close_period(shop: Shop, now: dt.datetime) -> str | None:
    """Every 10 minutes in which a listed order has shipped (or closed) and its issue is still open."""
    from .services import issues_to_autoclose

    if not issues_to_autoclose(shop=shop):
        return None
    at = now.astimezone(dt.UTC)
    return at.replace(minute=at.minute - at.minute % CLOSE_EVERY_MINUTES).strftime("%Y-%m-%dT%H:%M")


def _enqueue_close(shop: Shop) -> None:
    from .tasks import shipping_issues_close

    shipping_issues_close.enqueue(shop.id)


JOBS = [
    Job("shipping.daily_audit", _("发货稽核清单"), _("每天发货稽核时间后一次（默认 09:00）"), _daily, _enqueue_audit),
    Job("shipping.close_shipped", _("已发货订单自动关闭稽核项"), _("每 10 分钟检查"), _close_period, _enqueue_close),
]
