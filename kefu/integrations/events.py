"""Events: one call, `event_emit(...)`, records what happened for webhooks (the outbox) and runs
the shop's automation rules, inside the caller's transaction.

Every event type is declared with a JSON Schema of its `data` (served at
/api/v1/webhooks/event-types and linked from the API docs). Apps declare theirs in a module
listed in EVENT_MODULES (`EVENTS = [EventType(...)]`), as the scheduler's JOB_MODULES do
(docs/adr/0002-registries.md), and emit with

    event_emit(shop=shop, type="qa.reviewed", subject=("conversation", conv.pk), data={...})

Nothing is sent from inside the transaction: delivery starts on commit, and the scheduler's
sweep picks up any event whose dispatch was lost (a crash right after the commit).
"""

import contextvars
import functools
import importlib
import json
import uuid
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from kefu.core.db import value_from_db
from kefu.core.models import Shop

# The apps whose event types webhooks and rules know, in the order the docs list them.
EVENT_MODULES = [
    "kefu.integrations.event_types",
]


@dataclass(frozen=True)
class EventType:
    name: str  # "message.created": stable, what subscriptions and rules name
    label: str  # shown on pages (translatable)
    subject: str  # the kind of object it is about (its timeline shows rule firings)
    schema: dict  # JSON Schema of the event's `data`
    example: dict = field(default_factory=dict)


@functools.cache
def event_types() -> dict[str, EventType]:
    out: dict[str, EventType] = {}
    for module in EVENT_MODULES:
        for et in importlib.import_module(module).EVENTS:
            out[et.name] = et
    return out


def envelope_schema(et: EventType) -> dict:
    """The JSON Schema of the whole POST body of one event type."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": et.name,
        "description": str(et.label),
        "type": "object",
        "required": ["id", "type", "created_at", "shop", "data"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "the event id: de-duplicate on it"},
            "type": {"const": et.name},
            "created_at": {"type": "string", "format": "date-time"},
            "shop": {"type": "string", "description": "the shop's code"},
            "subject": {"type": "object", "properties": {"kind": {"type": "string"}, "id": {"type": ["integer", "null"]}}},
            "data": et.schema,
        },
    }


# The rules whose actions are running now (see rules.py): events they cause carry the chain.
RULE_CHAIN: contextvars.ContextVar[tuple[int, ...]] = contextvars.ContextVar("kefu_rule_chain", default=())


def event_emit(*, shop: Shop, type: str, data: dict, subject: tuple[str, int | None] = ("", None)) -> list:
    """Record one event in the caller's transaction. See events_emit."""
    return events_emit(shop=shop, type=type, items=[(subject, data)])


def events_emit(*, shop: Shop, type: str, items: list[tuple[tuple[str, int | None], dict]]) -> list:
    """Record events of one type (items: (subject, data)) in the caller's transaction.

    An outbox row is written for each when a subscription of the shop wants the type or a rule
    of the shop runs on it; nothing otherwise (two queries per call, however many items). After
    the commit the rules run and delivery is queued (outbox_process); if the process dies first,
    the scheduler's sweep does it. Returns the rows written.
    """
    from .models import OutboxEvent

    if not items or not listening(shop=shop, type=type):
        return []
    chain = list(RULE_CHAIN.get())
    rows = [OutboxEvent(shop=shop, event_id=uuid.uuid4(), type=type, subject=subject[0], subject_id=subject[1],
                        # money as "12.50", times as ISO 8601 (what the schemas say)
                        data=json.loads(json.dumps(data, cls=DjangoJSONEncoder)), caused_by=chain)
            for subject, data in items]
    with transaction.atomic():
        OutboxEvent.objects.bulk_create(rows)
        _after_commit([r.event_id for r in rows])
    return rows


def _after_commit(ids: list[uuid.UUID]) -> None:
    """The events one transaction commits are processed together, in one pass after the commit:
    each emit adds its ids to the connection's list and registers a flush; the first flush to run
    takes the whole list (the later ones find it empty). A rolled-back savepoint drops its own
    flush only; ids of rolled-back rows match no row and are skipped."""
    conn = transaction.get_connection()
    owner = conn.atomic_blocks[0] if conn.atomic_blocks else None  # the outermost transaction
    if getattr(conn, "kefu_outbox_owner", None) is not owner:  # (a rolled-back one leaves its ids)
        conn.kefu_outbox, conn.kefu_outbox_owner = [], owner
    conn.kefu_outbox.extend(ids)
    transaction.on_commit(lambda: _flush(conn))


def _flush(conn) -> None:
    ids, conn.kefu_outbox = conn.kefu_outbox, []
    if ids:
        _process(ids)


def listeners_exist_sql(shop_id: str) -> str:
    """SQL: does the shop whose id is the SQL expression `shop_id` have an active subscription or
    rule? A column of the API token's statement (kefu.core.services.token_authenticate), which
    stamps the answer on the request's shop, so an ingest of a shop nobody listens to runs no
    statement for `listening`."""
    from .models import AutomationRule, WebhookSubscription

    subs, rules = WebhookSubscription._meta.db_table, AutomationRule._meta.db_table
    return (f"(EXISTS (SELECT 1 FROM {subs} WHERE shop_id = {shop_id} AND active) "
            f"OR EXISTS (SELECT 1 FROM {rules} WHERE shop_id = {shop_id} AND active))")


def listening(*, shop: Shop, type: str) -> bool:
    """Does a subscription or a rule of the shop want events of this type? (at most one query; none
    when the request's token statement found that the shop has no active one at all)"""
    from .models import AutomationRule, WebhookSubscription

    if type not in event_types():
        raise ValueError(f"unknown event type {type!r}: declare it in a module of EVENT_MODULES")
    if getattr(shop, "kefu_listeners", None) is False:
        return False
    # One fixed statement (every live message asks): the active subscriptions' event types, and a
    # NULL row if an active rule listens.
    field = WebhookSubscription._meta.get_field("event_types")
    subs, rules = WebhookSubscription._meta.db_table, AutomationRule._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT event_types FROM {subs} WHERE shop_id = %s AND active "
                       f"UNION ALL SELECT NULL FROM (SELECT 1 AS one FROM {rules} "
                       f"WHERE shop_id = %s AND event_type = %s AND active LIMIT 1) r", [shop.id, shop.id, type])
        rows = cursor.fetchall()
    for (raw,) in rows:
        if raw is None or WebhookSubscription(event_types=value_from_db(field, raw)).wants(type):
            return True
    return False


def _process(event_ids: list[uuid.UUID]) -> None:
    from .outbox import outbox_process

    outbox_process(event_ids=event_ids)
