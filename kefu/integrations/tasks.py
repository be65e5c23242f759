from django_tasks import task

from .outbox import outbox_process, outbox_sweep
from .webhooks import deliveries_attempt, delivery_attempt


@task()
def outbox_dispatch_task(event_ids: list[str]) -> None:
    """Rules and webhook deliveries of events just committed (when not already done inline)."""
    outbox_process(event_ids=event_ids)


@task()
def webhook_deliver_task(delivery_id: int) -> bool:
    """One attempt of one delivery; a failure queues the next attempt itself (back-off)."""
    got = delivery_attempt(delivery_id=delivery_id)
    return bool(got and got.state == "succeeded")


@task()
def webhook_deliveries_task(delivery_ids: list[int]) -> int:
    """The first attempts of a batch's deliveries to one subscription, in order (see deliveries_attempt)."""
    return deliveries_attempt(delivery_ids=delivery_ids)


@task()
def outbox_sweep_task(shop_id: int) -> dict:
    return outbox_sweep(shop_id=shop_id)
