"""Scheduler rules of the conversations app: hand out the offline queue (CONV-3)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job


def _hand_out_minute(shop: Shop, now: dt.datetime) -> str | None:
    """Each minute in which conversations wait in the queue and someone is on shift and online."""
    from .routing import online_on_shift, queued_exists

    if not queued_exists(shop=shop) or not online_on_shift(shop=shop, now=now):
        return None
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def _enqueue_hand_out(shop: Shop) -> None:
    from .tasks import queue_hand_out_task

    queue_hand_out_task.enqueue(shop.id)


JOBS = [Job("conversations.queue_hand_out", _("离线排队会话分配"),
            _("有排队会话且有客服在班在线时（每分钟检查），按分配规则分出并发送离线问候"),
            _hand_out_minute, _enqueue_hand_out)]
