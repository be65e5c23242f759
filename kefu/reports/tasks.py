import logging

from django_tasks import task

from kefu.core.models import Shop

log = logging.getLogger("kefu.reports")


@task()
def daily_reports_task(shop_id: int) -> int:
    """Make yesterday's daily sales reports and refresh the recent ones."""
    from .daily import daily_reports_refresh

    shop = Shop.objects.get(pk=shop_id)
    written = daily_reports_refresh(shop=shop)
    log.info("daily reports of %s: %d written", shop.code, written)
    return written


@task()
def reports_up_task(shop_id: int) -> int:
    """The department reports that are due (day, week, month) and, early in a month, the agents'
    monthly reports of the month before."""
    import datetime as dt

    from django.utils import timezone

    from kefu.core.timeutil import shop_day

    from .dept import agent_month_reports_prepare, dept_reports_due
    from .models import AgentMonthReport

    shop = Shop.objects.get(pk=shop_id)
    now = timezone.now()
    made = len(dept_reports_due(shop=shop, now=now))
    today = shop_day(now, shop.tz)
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    if today.day <= 3 and not AgentMonthReport.objects.filter(shop=shop, month=last_month).exists():
        made += agent_month_reports_prepare(shop=shop, month=last_month, now=now)
    log.info("reports up of %s: %d made", shop.code, made)
    return made
