"""Scheduler rules of the live channel: drop events older than the replay window and ended
rate-limit windows (every 10 minutes); set away the people whose workspace is gone (every minute,
when someone is due — kefu.livechat.away)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job


def _every_ten_minutes(shop: Shop, now: dt.datetime) -> str | None:
    # One firing per 10 minutes for the whole installation (the rows are not per shop): the first shop's.
    first = Shop.objects.order_by("id").values_list("id", flat=True).first()
    if shop.pk != first:
        return None
    now = now.astimezone(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:") + f"{now.minute // 10}0"


def _enqueue_prune(shop: Shop) -> None:
    from .tasks import live_prune_task

    live_prune_task.enqueue()


def _away_minute(shop: Shop, now: dt.datetime) -> str | None:
    from .away import away_due

    if not away_due(shop=shop, now=now):
        return None
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def _enqueue_away(shop: Shop) -> None:
    from .tasks import auto_away_task

    auto_away_task.enqueue(shop.pk)


JOBS = [Job("livechat.prune", _("实时推送清理"), _("每 10 分钟：删除超过 24 小时的推送事件和过期的限流计数"),
            _every_ten_minutes, _enqueue_prune),
        Job("livechat.auto_away", _("接待台断开自动离开"),
            _("每分钟：在线客服的接待台断开超过设定时间（网页聊天设置）时设为离开，路由不再分配会话"),
            _away_minute, _enqueue_away)]
