"""Scheduler rule of the integrations app: the outbox sweep (a crash loses no event)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job


def _sweep_minute(shop: Shop, now: dt.datetime) -> str | None:
    from .outbox import outbox_pending

    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M") if outbox_pending(shop_id=shop.pk, now=now) else None


def _enqueue_sweep(shop: Shop) -> None:
    from .tasks import outbox_sweep_task

    outbox_sweep_task.enqueue(shop.id)


JOBS = [Job("integrations.sweep", _("事件补发"), _("有未处理的事件或到期未发的 Webhook 时每分钟检查：执行规则、补发"),
            _sweep_minute, _enqueue_sweep)]
