import logging

from django_tasks import task

from kefu.core.models import Shop

from .services import sla_scan

log = logging.getLogger("kefu.sla")


@task()
def sla_scan_task(shop_id: int) -> int:
    """The SLA scan (AFT-4): rebuild changed clocks, move them on, warn and escalate."""
    shop = Shop.objects.get(pk=shop_id)
    result = sla_scan(shop=shop)
    if result.alerts:
        log.info("sent %d SLA alerts in shop %s", result.alerts, shop.code)
    return result.alerts
