import logging

from django_tasks import task

from kefu.core.models import Shop

log = logging.getLogger("kefu.care")


@task()
def revisits_generate_task(shop_id: int) -> int:
    """CRM-2: today's revisit lists of every active plan."""
    from .services import revisits_generate

    n = revisits_generate(shop=Shop.objects.get(pk=shop_id))
    log.info("shop %s: %d revisits due today", shop_id, n)
    return n


@task()
def campaigns_send_task(shop_id: int) -> int:
    """CRM-3: send the care messages whose time has come."""
    from .campaigns import campaigns_send_due

    return campaigns_send_due(shop=Shop.objects.get(pk=shop_id))


@task()
def churn_scan_task(shop_id: int) -> list[int]:
    """CRM-5: raise and clear churn flags."""
    from .churn import churn_scan

    raised, cleared = churn_scan(shop=Shop.objects.get(pk=shop_id))
    return [raised, cleared]
