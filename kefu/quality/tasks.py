import datetime as dt
import logging

from django_tasks import task

from kefu.core.models import Shop

log = logging.getLogger("kefu.quality")


@task()
def sampling_round(shop_id: int, day: str) -> int:
    """QA-1: draw the round's receptions into the reviewers' queues."""
    from .sampling import sampling_run

    samples = sampling_run(shop=Shop.objects.get(pk=shop_id), round_day=dt.date.fromisoformat(day))
    log.info("sampled %d receptions", len(samples))
    return len(samples)
