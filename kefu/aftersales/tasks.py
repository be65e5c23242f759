"""Background tasks of after-sales (run by the worker)."""

import logging

from django_tasks import task

from kefu.core.models import Shop

log = logging.getLogger("kefu.aftersales")


@task()
def followup_reminders(shop_id: int) -> int:
    """AFT-6/AFT-10: remind owners of overdue early-refund returns and due second-service calls."""
    from .reminders import reminders_send

    sent = reminders_send(shop=Shop.objects.get(pk=shop_id))
    if sent:
        log.info("sent %d after-sales reminders", sent)
    return sent
