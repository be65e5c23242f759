"""Conversations regrouped from a buyer's messages (a step of kefu.metrics.rebuild)."""

from types import SimpleNamespace

from kefu.core.db import bulk_update_rows
from kefu.core.models import Shop
from kefu.metrics import facts as F
from kefu.metrics import rows as R

from .models import Conversation

FIELDS = ("agent_id", "started_at", "ended_at", "message_count", "buyer_message_count", "waiting")


def conversations_step(batch) -> None:
    conversations_rebuild(batch.shop, batch.ids, batch.messages)


def conversations_rebuild(shop: Shop, ids: list[int], msgs: dict[int, list[F.Msg]]) -> None:
    """Group each buyer's messages by the shop's idle gap; a conversation keeps its row (and its
    routing state) as long as its first message stays first. The buyers must be locked."""
    gap = shop.conversation_gap_minutes * 60
    where, params = R.any_in(R.qn("customer_id"), ids)
    existing = {
        row[1]: SimpleNamespace(id=row[0], pk=row[0], **dict(zip(FIELDS, row[2:], strict=True)))
        for row in R.rows_select(Conversation, ("id", "first_message_id", *FIELDS), where, params)
    }
    keep, create, update = set(), [], []
    for cid in ids:
        groups: list[list[F.Msg]] = []
        for m in sorted(msgs.get(cid, []), key=F.sort_key):
            if groups and (m.sent_at - groups[-1][-1].sent_at).total_seconds() <= gap:
                groups[-1].append(m)
            else:
                groups.append([m])
        for g in groups:
            agent_id = next((m.agent_id for m in reversed(g) if m.agent_id), None)
            last_buyer = max((i for i, m in enumerate(g) if m.sender == F.BUYER), default=-1)
            waiting = last_buyer >= 0 and not any(m.sender == F.AGENT for m in g[last_buyer + 1 :])
            values = dict(
                agent_id=agent_id, started_at=g[0].sent_at, ended_at=g[-1].sent_at, message_count=len(g),
                buyer_message_count=sum(m.sender == F.BUYER for m in g), waiting=waiting,
            )
            conv = existing.get(g[0].id)
            if conv is None:
                create.append((shop.id, cid, g[0].id, *values.values()))
                continue
            keep.add(conv.id)
            if any(getattr(conv, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(conv, k, v)
                update.append(conv)
    stale = [c.id for c in existing.values() if c.id not in keep]
    if stale:  # through the ORM: its flags, events and notes go with it, clocks and cases let go
        Conversation.objects.filter(id__in=stale).delete()
    if update:
        bulk_update_rows(
            Conversation, update, ["agent", "started_at", "ended_at", "message_count", "buyer_message_count", "waiting"]
        )
    R.rows_insert(Conversation, ("shop_id", "customer_id", "first_message_id", *FIELDS), create)
