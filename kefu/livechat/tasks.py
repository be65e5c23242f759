from django_tasks import task


@task()
def live_prune_task() -> int:
    from .events import events_prune
    from .ratelimit import counters_prune

    return events_prune() + counters_prune()


@task()
def auto_away_task(shop_id: int) -> int:
    from kefu.core.models import Shop

    from .away import agents_auto_away

    shop = Shop.objects.filter(pk=shop_id).first()
    return len(agents_auto_away(shop=shop)) if shop is not None else 0
