"""After the commit: run the rules on new events and queue their webhook deliveries; the
scheduler's sweep does the same for anything a crash left behind (nothing lost, nothing twice:
each step claims its event with a conditional update in the transaction that does the work)."""

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from .enums import DeliveryState
from .models import OutboxEvent, WebhookDelivery
from .rules import rules_for_event
from .webhooks import CLAIM, _enqueue, deliveries_create

log = logging.getLogger("kefu.outbox")
SWEEP_AFTER = dt.timedelta(seconds=30)


def event_rules_run(*, event_pk: int, now: dt.datetime | None = None) -> int:
    """Run the rules on one event once (a second caller finds it claimed and does nothing)."""
    now = now or timezone.now()
    with transaction.atomic():
        if OutboxEvent.objects.filter(pk=event_pk, rules_done_at__isnull=True).update(rules_done_at=now) != 1:
            return 0
        event = OutboxEvent.objects.select_related("shop").get(pk=event_pk)
        return len(rules_for_event(event=event))


def event_dispatch(*, event_pk: int, now: dt.datetime | None = None) -> list[int]:
    """Create the event's deliveries once and queue them after the commit."""
    now = now or timezone.now()
    with transaction.atomic():
        if OutboxEvent.objects.filter(pk=event_pk, dispatched_at__isnull=True).update(dispatched_at=now) != 1:
            return []
        ids = deliveries_create(event=OutboxEvent.objects.get(pk=event_pk))
        transaction.on_commit(lambda: [_enqueue(i, None) for i in ids])
    return ids


def outbox_process(*, event_ids: list, now: dt.datetime | None = None) -> None:
    """Rules first (their actions may emit further events), then the webhooks. Never raises: the
    change that emitted the events is committed already; a failure is logged and left to the sweep."""
    for pk in OutboxEvent.objects.filter(event_id__in=event_ids).order_by("id").values_list("pk", flat=True):
        for step in (event_rules_run, event_dispatch):
            try:
                step(event_pk=pk, now=now)
            except Exception:
                log.exception("outbox step %s failed for event %s", step.__name__, pk)


def outbox_pending(*, shop_id: int | None = None, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    old = now - SWEEP_AFTER
    qs = OutboxEvent.objects.filter(created_at__lt=old)
    if shop_id is not None:
        qs = qs.filter(shop_id=shop_id)
    deliveries = WebhookDelivery.objects.filter(
        state__in=(DeliveryState.PENDING, DeliveryState.SENDING), next_attempt_at__lt=old)
    if shop_id is not None:
        deliveries = deliveries.filter(shop_id=shop_id)
    return (qs.filter(rules_done_at__isnull=True).exists() or qs.filter(dispatched_at__isnull=True).exists()
            or deliveries.exists())


def outbox_sweep(*, shop_id: int | None = None, now: dt.datetime | None = None, limit: int = 1000) -> dict:
    """What a crash (kill -9 between commit and dispatch) or a lost task left: events whose rules
    or dispatch did not happen, deliveries due whose task is gone or whose worker died mid-send."""
    now = now or timezone.now()
    old = now - SWEEP_AFTER
    events = OutboxEvent.objects.filter(created_at__lt=old).filter(
        rules_done_at__isnull=True) | OutboxEvent.objects.filter(created_at__lt=old, dispatched_at__isnull=True)
    if shop_id is not None:
        events = events.filter(shop_id=shop_id)
    ids = list(events.order_by("id").values_list("event_id", flat=True)[:limit])
    outbox_process(event_ids=ids, now=now)
    due = WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lt=old) | \
        WebhookDelivery.objects.filter(state=DeliveryState.SENDING, claimed_until__lt=now - CLAIM)
    if shop_id is not None:
        due = due.filter(shop_id=shop_id)
    redo = list(due.values_list("pk", flat=True)[:limit])
    for pk in redo:
        _enqueue(pk, None)
    return {"events": len(ids), "deliveries": len(redo)}
