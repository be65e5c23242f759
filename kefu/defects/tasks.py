import logging

from django_tasks import task

from kefu.core.models import Shop

from .services import alerts_scan

log = logging.getLogger("kefu.defects")


@task()
def production_alerts_scan(shop_id: int) -> int:
    """The production-alert rule (AFT-8): raise or bump alerts from recent quality cases."""
    shop = Shop.objects.get(pk=shop_id)
    res = alerts_scan(shop=shop)
    if res.raised or res.bumped:
        log.info("shop %s: %d alerts raised, %d bumped", shop.code, len(res.raised), len(res.bumped))
    return len(res.raised)
