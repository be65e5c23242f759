"""Scheduler rules of complaints and ratings: revisit reminders (CMP-1) and rating invitations (AUTO-3)."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.core.scheduler import Job
from kefu.core.timeutil import shop_day


def _revisit_hour(shop: Shop, now: dt.datetime) -> str | None:
    """Each hour in which a complaint of the shop is due its revisit reminder (it is sent once:
    the complaint's revisit_notified_at is claimed by the task)."""
    from .services import revisits_due

    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H") if revisits_due(shop=shop, now=now).exists() else None


def _enqueue_revisits(shop: Shop) -> None:
    from .tasks import revisit_reminders

    revisit_reminders.enqueue(shop.id)


def _yesterday(shop: Shop, now: dt.datetime) -> dt.date:
    return shop_day(now, shop.tz) - dt.timedelta(days=1)


def _invitation_day(shop: Shop, now: dt.datetime) -> str | None:
    """Once per shop day: yesterday's receptions are over, invite their buyers."""
    from .ratings import invitations_pending

    day = _yesterday(shop, now)
    return day.isoformat() if invitations_pending(shop=shop, day=day) else None


def _enqueue_invitations(shop: Shop) -> None:
    from django.utils import timezone

    from .tasks import rating_invitations

    rating_invitations.enqueue(shop.id, _yesterday(shop, timezone.now()).isoformat())


JOBS = [
    Job("complaints.revisit_reminders", _("投诉回访提醒"), _("回访日当天提醒负责人（每条投诉一次）"),
        _revisit_hour, _enqueue_revisits),
    Job("complaints.rating_invitations", _("服务评价邀请"), _("每天为前一天已回复的接待发送评价邀请（每个接待一次）"),
        _invitation_day, _enqueue_invitations),
]
