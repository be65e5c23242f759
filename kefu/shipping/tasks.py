import logging

from django_tasks import task

from kefu.core.models import Shop

from .services import issues_close_for_orders, shipping_audit_run

log = logging.getLogger("kefu.shipping")


@task()
def shipping_audit(shop_id: int) -> int:
    """The daily shipping-audit list (SHIP-1, SHIP-2, SHIP-3) of one shop."""
    shop = Shop.objects.get(pk=shop_id)
    result = shipping_audit_run(shop=shop)
    log.info("shipping audit of %s: %s new, %s closed", shop.code, dict(result.created), dict(result.closed))
    return result.created_total


@task()
def shipping_issues_close(shop_id: int) -> int:
    """Close the issues of orders that shipped (or closed) since they were listed."""
    return issues_close_for_orders(shop=Shop.objects.get(pk=shop_id))
