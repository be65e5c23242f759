import datetime as dt
import logging

from django_tasks import task

from kefu.core.models import Shop

log = logging.getLogger("kefu.complaints")


@task()
def revisit_reminders(shop_id: int) -> int:
    """CMP-1: notify each complaint's owner on its revisit day (once per complaint)."""
    from .services import revisit_reminders_send

    sent = revisit_reminders_send(shop=Shop.objects.get(pk=shop_id))
    if sent:
        log.info("sent %d revisit reminders", sent)
    return sent


@task()
def rating_invitations(shop_id: int, day: str) -> int:
    """AUTO-3: invite the replied receptions of a finished shop day to rate the service."""
    from .ratings import invitations_for_day

    return invitations_for_day(shop=Shop.objects.get(pk=shop_id), day=dt.date.fromisoformat(day))
