"""The live event log: what happened, for whom, written in the same transaction as the change.

`publish` inserts one LiveEvent row; on PostgreSQL it also NOTIFYs the `kefu_live` channel (the
notification is delivered at commit, in commit order); after commit the writing process hands the
event to its own hub at once. Every web process's hub (kefu.livechat.hub) learns of events written
elsewhere by LISTEN (PostgreSQL) or by polling the table (SQLite) and pushes them to its streams.

Who sees an event (`visible` in memory, `replay_q` in SQL — the same rule twice, tested alike):
- a buyer's widget: its own customer's events meant for the buyer (audience buyer/both);
- a supervisor, manager or admin: every staff event of the shop;
- an agent: staff events of the conversations they own (agent_id), left (prev_agent_id), or the
  unassigned ones of their group.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop

from .enums import Audience, EventKind
from .models import LiveEvent

PG_CHANNEL = "kefu_live"
# On PostgreSQL ids are taken at insert and may commit out of order: a replay also resends the
# recent past and clients drop event ids they have seen.
REPLAY_LOOKBACK = dt.timedelta(seconds=30)
RETENTION = dt.timedelta(hours=24)
EPHEMERAL_RETENTION = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Viewer:
    """Who a stream is for."""

    shop_id: int
    customer_id: int | None = None  # a buyer's widget
    agent_id: int | None = None  # a person of the shop
    group: str = ""
    whole_shop: bool = False

    @classmethod
    def of_member(cls, member: Agent) -> "Viewer":
        return cls(shop_id=member.shop_id, agent_id=member.pk, group=member.group or "",
                   whole_shop=sees_whole_shop(member))

    @classmethod
    def of_buyer(cls, *, shop_id: int, customer_id: int) -> "Viewer":
        return cls(shop_id=shop_id, customer_id=customer_id)

    @property
    def is_buyer(self) -> bool:
        return self.customer_id is not None


def visible(ev: LiveEvent, viewer: Viewer) -> bool:
    if ev.shop_id != viewer.shop_id:
        return False
    if viewer.is_buyer:
        return ev.audience in (Audience.BUYER, Audience.BOTH) and ev.customer_id == viewer.customer_id
    if ev.audience == Audience.BUYER:
        return False
    if viewer.whole_shop:
        return True
    if viewer.agent_id is not None and viewer.agent_id in (ev.agent_id, ev.prev_agent_id):
        return True
    return ev.agent_id is None and bool(viewer.group) and ev.group == viewer.group


def replay_q(viewer: Viewer) -> Q:
    q = Q(shop_id=viewer.shop_id, ephemeral=False)
    if viewer.is_buyer:
        return q & Q(customer_id=viewer.customer_id, audience__in=[Audience.BUYER, Audience.BOTH])
    q &= ~Q(audience=Audience.BUYER)
    if viewer.whole_shop:
        return q
    mine = Q(agent_id=viewer.agent_id) | Q(prev_agent_id=viewer.agent_id)
    if viewer.group:
        mine |= Q(agent_id__isnull=True, group=viewer.group)
    return q & mine


def replay(*, viewer: Viewer, after: int, limit: int = 2000, now: dt.datetime | None = None) -> list[LiveEvent]:
    """Committed events the viewer has not seen since event id `after` (plus the recent past, see
    REPLAY_LOOKBACK), oldest first. More than `limit` → the caller resets the client instead."""
    now = now or timezone.now()
    since = Q(id__gt=after) | Q(created_at__gte=now - REPLAY_LOOKBACK)
    return list(LiveEvent.objects.filter(replay_q(viewer)).filter(since).order_by("id")[:limit])


def latest_id() -> int:
    return LiveEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def as_wire(ev: LiveEvent) -> dict:
    """The JSON a stream sends (the SSE `data:` line; the SSE `id:` is ev.id)."""
    return {"id": ev.pk, "kind": ev.kind, "conversation_id": ev.conversation_id, "customer_id": ev.customer_id,
            "agent_id": ev.agent_id, "prev_agent_id": ev.prev_agent_id, "group": ev.group,
            "at": ev.created_at.isoformat(), **ev.data}


def publish(*, shop: Shop | int, kind: str, audience: str = Audience.STAFF, customer_id: int | None = None,
            conversation_id: int | None = None, agent_id: int | None = None, prev_agent_id: int | None = None,
            group: str = "", data: dict | None = None, ephemeral: bool = False,
            now: dt.datetime | None = None) -> LiveEvent:
    """Record one event; streams receive it once the surrounding transaction commits."""
    if kind not in EventKind.values or audience not in Audience.values:
        raise ValueError(f"unknown event kind/audience {kind!r}/{audience!r}")
    shop_id = shop if isinstance(shop, int) else shop.pk
    ev = LiveEvent.objects.create(
        shop_id=shop_id, kind=kind, audience=audience, customer_id=customer_id, conversation_id=conversation_id,
        agent_id=agent_id, prev_agent_id=prev_agent_id, group=group or "", ephemeral=ephemeral,
        data=data or {}, created_at=now or timezone.now())
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_notify(%s, %s)", [PG_CHANNEL, str(ev.pk)])

    def handed_over():
        from .hub import hub

        hub.dispatch_local(ev)

    transaction.on_commit(handed_over)
    return ev


def events_prune(*, now: dt.datetime | None = None) -> int:
    """Drop events older than the retention (typing after minutes); a client further behind resets."""
    now = now or timezone.now()
    n, _ = LiveEvent.objects.filter(created_at__lt=now - RETENTION).delete()
    m, _ = LiveEvent.objects.filter(ephemeral=True, created_at__lt=now - EPHEMERAL_RETENTION).delete()
    return n + m
