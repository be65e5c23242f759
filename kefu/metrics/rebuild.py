"""What is rebuilt for a buyer after their messages or orders changed (ADR 0001, 0003).

Every writer of a buyer's derived rows goes through `buyers_rebuild` with the buyers locked
(`kefu.customers.services.customers_lock`, id order): the deferred drain of the task worker
(`kefu.metrics.queue`), an import's drain, and the few synchronous callers (spam flag, transfer,
queue hand-out, a settings change). The steps run in the order listed, in one transaction, each
given the same `BuyerBatch` (the buyers' messages are loaded once for all steps). Buyers who have
orders and nothing else are rebuilt first by a set-based path with the same result
(`kefu.metrics.orders_only`); the steps run for the others.

A step is `step(batch: BuyerBatch) -> None`; it must be idempotent (a buyer may be rebuilt
again at any time) and depend only on the buyer's raw rows. Per-conversation work that must
follow new messages (e.g. quality flags) goes after "conversations", which regroups the
buyers' messages into Conversation rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from django.db import connection
from django.utils.module_loading import import_string

from kefu.conversations.models import Message
from kefu.core.models import Shop

from . import facts as F
from . import rows as R
from .orders_only import orders_only_rebuild

# The per-buyer steps, in order (dotted paths; see the module docstring).
REBUILD_STEPS = [
    "kefu.conversations.rebuild.conversations_step",
    "kefu.quality.flags.flags_step",
    "kefu.metrics.services.facts_step",
]


@cache
def rebuild_steps() -> tuple:
    return tuple(import_string(path) for path in REBUILD_STEPS)


@dataclass
class BuyerBatch:
    """Locked buyers of one shop being rebuilt, with what the steps share."""

    shop: Shop
    ids: list[int]  # id order
    spam: set[int]  # of ids: flagged spam (left out of every figure)
    messages: dict[int, list[F.Msg]] = field(default_factory=dict)  # buyer id → messages (unsorted)
    settings: F.Settings | None = None


MSG_FIELDS = ("id", "customer_id", "sent_at", "sender", "agent_id", "order_ref", "message_id")


def load_messages(shop: Shop, ids: list[int], *, text: bool = False, since=None) -> dict[int, list[F.Msg]]:
    """Every message of these buyers (sent at or after `since`), unsorted; with their text when
    asked (the rebuild reads it once for the flags step)."""
    msgs: dict[int, list[F.Msg]] = defaultdict(list)
    where, params = R.any_in(R.qn("customer_id"), ids)
    where = f"{R.qn('shop_id')} = %s AND {where}"
    params = [shop.id, *params]
    if since is not None:
        where += f" AND {R.qn('sent_at')} >= %s"
        params.append(since if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(since))
    fields = (*MSG_FIELDS, "text") if text else MSG_FIELDS
    for mid, cid, *rest in R.rows_select(Message, fields, where, params):
        msgs[cid].append(F.Msg(mid, *rest))
    return msgs


def buyers_rebuild(*, shop: Shop, ids: list[int], spam: set[int], settings: F.Settings | None = None) -> None:
    """Run every step for these buyers, which the caller has locked inside its transaction."""
    if not ids:
        return
    settings = settings or F.Settings.for_shop(shop)
    messages = load_messages(shop, ids, text=True)
    ids = orders_only_rebuild(shop=shop, ids=ids, spam=spam, messages=messages, settings=settings)
    if not ids:
        return
    batch = BuyerBatch(shop=shop, ids=ids, spam=spam, messages=messages, settings=settings)
    for step in rebuild_steps():
        step(batch)
