import logging

from django_tasks import task

from kefu.core.models import Shop

from .routing import queue_hand_out

log = logging.getLogger("kefu.conversations")


@task()
def queue_hand_out_task(shop_id: int) -> int:
    """CONV-3: queued conversations to agents now on shift, with the offline greeting."""
    shop = Shop.objects.get(pk=shop_id)
    done = queue_hand_out(shop=shop)
    if done:
        log.info("handed out %d queued conversations in shop %s", len(done), shop.code)
    return len(done)
