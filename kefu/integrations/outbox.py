"""After the commit: run the rules on new events and queue their webhook deliveries, a batch of
events at a time (what one request or import committed); the scheduler's sweep does the same for
anything a crash left behind. Nothing lost, nothing twice: each step locks the events it finds
unclaimed and claims them in the transaction that does its work."""

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from kefu.core.models import Shop

from .enums import DeliveryState
from .models import OutboxEvent, WebhookDelivery
from .rules import rules_for_events, rules_load
from .webhooks import CLAIM, _enqueue, _enqueue_many, deliveries_create

log = logging.getLogger("kefu.outbox")
SWEEP_AFTER = dt.timedelta(seconds=30)


BATCH = 200  # events per pass: one transaction for their rules, one for their deliveries


def events_rules_run(*, event_pks: list[int], now: dt.datetime | None = None) -> int:
    """Run the rules on these events, once: the events still unclaimed are locked (another worker's
    are skipped), each shop's rules loaded once, the context the conditions read prefetched for all,
    and the events claimed in the transaction that ran their rules. An event whose rules raised is
    not claimed (the sweep tries it again). Returns the number of firings."""
    now = now or timezone.now()
    fired = 0
    with transaction.atomic():
        events = list(OutboxEvent.objects.select_for_update(skip_locked=True)
                      .filter(pk__in=event_pks, rules_done_at__isnull=True).order_by("id"))
        if not events:
            return 0
        failed: set[int] = set()

        def failure(event, exc):
            log.error("rules failed for event %s", event.pk, exc_info=exc)
            failed.add(event.pk)

        shops = Shop.objects.in_bulk({e.shop_id for e in events})
        for shop_id, group in _by_shop(events):
            rules = rules_load(shop_id=shop_id, types={e.type for e in group})
            if rules:
                got = rules_for_events(shop=shops[shop_id], events=group, rules=rules, on_error=failure)
                fired += sum(len(f) for f in got.values())
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events if e.pk not in failed]).update(rules_done_at=now)
    return fired


def events_dispatch(*, event_pks: list[int], now: dt.datetime | None = None) -> list[int]:
    """Create the deliveries of these events once (one insert for all, subscriptions read once) and
    queue them after the commit, one task per subscription with its deliveries in event order."""
    now = now or timezone.now()
    with transaction.atomic():
        events = list(OutboxEvent.objects.select_for_update(skip_locked=True)
                      .filter(pk__in=event_pks, dispatched_at__isnull=True).order_by("id"))
        if not events:
            return []
        ids = deliveries_create(events=events)
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
        per_sub: dict[int, list[int]] = {}
        for sub_id, pk in (WebhookDelivery.objects.filter(pk__in=ids).order_by("event_id", "id")
                           .values_list("subscription_id", "pk")):
            per_sub.setdefault(sub_id, []).append(pk)
        transaction.on_commit(lambda: [_enqueue_many(g) for g in per_sub.values()])
    return ids


def _by_shop(events: list[OutboxEvent]):
    groups: dict[int, list[OutboxEvent]] = {}
    for e in events:
        groups.setdefault(e.shop_id, []).append(e)
    return groups.items()


def outbox_process(*, event_ids: list, now: dt.datetime | None = None) -> None:
    """Rules first (their actions may emit further events), then the webhooks, BATCH events at a
    time. Never raises: the change that emitted the events is committed already; a failure is
    logged and left to the sweep."""
    pks = list(OutboxEvent.objects.filter(event_id__in=event_ids).order_by("id").values_list("pk", flat=True))
    for i in range(0, len(pks), BATCH):
        chunk = pks[i : i + BATCH]
        for step in (events_rules_run, events_dispatch):
            try:
                step(event_pks=chunk, now=now)
            except Exception:
                log.exception("outbox step %s failed for events %s…", step.__name__, chunk[0])


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
