import logging

from django.utils import timezone
from django_tasks import task

from kefu.core.models import Shop

log = logging.getLogger("kefu.people")


@task()
def attendance_settle(shop_id: int) -> int:
    """Recompute the open months' attendance days, deductions and warnings of a shop."""
    from .attendance import attendance_recompute
    from .months import month_start, prev_month, shop_today
    from .selectors import month_state

    shop = Shop.objects.get(pk=shop_id)
    now = timezone.now()
    today = shop_today(shop, now)
    months = [month_start(today)]
    if today.day <= 3 and month_state(shop=shop, month=prev_month(months[0])) != "locked":
        months.insert(0, prev_month(months[0]))
    written = sum(attendance_recompute(shop=shop, month=m, now=now) for m in months)
    log.info("attendance of %s settled: %d day rows written", shop.code, written)
    from .pay import commission_recompute_open

    statements = commission_recompute_open(shop=shop, now=now)
    log.info("commissions of %s recomputed: %d statements", shop.code, statements)
    return written
