import logging

from django_tasks import task

from kefu.core.models import Shop

from .services import payment_reminders_create

log = logging.getLogger("kefu.followups")


@task()
def payment_reminders_scan(shop_id: int) -> int:
    """The 催付 rule (PRE-2): one task per order unpaid N minutes after it was placed."""
    shop = Shop.objects.get(pk=shop_id)
    created = payment_reminders_create(shop=shop)
    if created:
        log.info("created %d payment reminders in shop %s", len(created), shop.code)
    return len(created)
