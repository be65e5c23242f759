import logging

from django_tasks import task

from kefu.core.models import Shop

from .services import grades_recompute

log = logging.getLogger("kefu.crm")


@task()
def grades_recompute_task(shop_id: int) -> int:
    """PRE-9: grade every buyer of the shop by its rules (manual grades still win)."""
    shop = Shop.objects.get(pk=shop_id)
    changed = grades_recompute(shop=shop)
    log.info("recomputed grades of shop %s: %d changed", shop.code, changed)
    return changed
