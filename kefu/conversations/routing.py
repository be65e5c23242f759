"""Routing of live buyer conversations (CONV-2) and the offline queue (CONV-3).

Rules, in order, for a buyer's NEW conversation that arrives through the API without an agent:
1. Group: after-sales when the buyer has an open after-sales case, or has an order paid within the
   shop's after-sales look-back window (Shop.aftersales_lookback_days, default 15) and a message
   names one of its orders or contains an after-sales word (RoutingSettings.aftersales_words:
   退, 换, 售后, 破损 …). Otherwise pre-sales. A shop without active agents in that group routes
   among every agent on shift.
2. Candidates: active agents of the group on shift now (workforce.agents_on_shift) whose status is
   online (workforce.AgentPresence), with fewer open conversations than their cap (AgentCap, else
   RoutingSettings.default_cap). An open conversation is assigned to them, not closed or merged,
   with a message within the shop's conversation gap (an idle conversation ends by itself, CONV-1).
3. Sticky (001 专属客服): the agent who last served the buyer, when a candidate below cap.
4. Otherwise round robin: the next candidate below cap after the group's cursor, by agent id.
5. Nobody on shift and online → queued as "offline"; all candidates full → queued as "busy".
   `queue_hand_out` (the scheduler rule in jobs.py, every minute) hands queued conversations out
   oldest first by the same rules and sends the shop's offline greeting once to the "offline" ones.

Race safety: every routing decision runs under a row lock on the shop's RoutingSettings row, so
two simultaneous arrivals cannot both take an agent's last slot. Imported history (files, demo)
is never routed: only messages_ingest(route=True), the API's path, calls this module.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from kefu.core.enums import Group
from kefu.core.models import Agent, Shop
from kefu.customers.services import customers_lock
from kefu.workforce.enums import PresenceStatus
from kefu.workforce.models import AgentPresence
from kefu.workforce.selectors import agents_on_shift

from .enums import ConversationEventKind as EK
from .enums import QueueReason
from .models import AgentCap, Conversation, ConversationEvent, RoutingSettings

# After-sales cases in these states are finished; any other state is an open case.
CASE_DONE_STATES = ("closed", "rejected")


def routing_settings(shop: Shop) -> RoutingSettings:
    rs = RoutingSettings.objects.filter(shop=shop).first()
    if rs is None:
        try:
            with transaction.atomic():
                rs = RoutingSettings.objects.create(shop=shop)
        except IntegrityError:  # created by a concurrent request
            rs = RoutingSettings.objects.get(shop=shop)
    return rs


def routing_lock(shop: Shop) -> RoutingSettings:
    """Lock the shop's routing row until the transaction ends (call inside transaction.atomic)."""
    pk = routing_settings(shop).pk
    return RoutingSettings.objects.select_for_update().get(pk=pk)


def open_load_q(now: dt.datetime, gap_minutes: int) -> Q:
    return Q(closed_at__isnull=True, merged_into__isnull=True, ended_at__gte=now - dt.timedelta(minutes=gap_minutes))


def agent_loads(*, shop: Shop, agent_ids, now: dt.datetime) -> dict[int, int]:
    rows = (Conversation.objects.filter(shop=shop, assignee_id__in=list(agent_ids))
            .filter(open_load_q(now, shop.conversation_gap_minutes))
            .values("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n"))
    return dict(rows)


def agent_caps(*, shop: Shop, agent_ids, default: int) -> dict[int, int]:
    caps = dict(AgentCap.objects.filter(shop=shop, agent_id__in=list(agent_ids)).values_list("agent_id", "cap"))
    return {a: caps.get(a, default) for a in agent_ids}


def online_on_shift(*, shop: Shop, now: dt.datetime, group: str | None = None) -> list[Agent]:
    """Agents on shift now whose status is online (two queries)."""
    on_shift = agents_on_shift(shop=shop, at=now, group=group)
    online = set(AgentPresence.objects.filter(agent_id__in=[a.id for a in on_shift], status=PresenceStatus.ONLINE)
                 .values_list("agent_id", flat=True))
    return [a for a in on_shift if a.id in online]


def group_for(*, shop: Shop, customer_id: int, texts: list[str], order_refs: list[str], now: dt.datetime,
              words: str) -> str:
    """Rule 1 of the module docstring."""
    from kefu.aftersales.models import Case
    from kefu.orders.models import Order

    if Case.objects.filter(shop=shop, order__customer_id=customer_id).exclude(state__in=CASE_DONE_STATES).exists():
        return Group.AFTERSALES
    since = now - dt.timedelta(days=shop.aftersales_lookback_days)
    paid = set(Order.objects.filter(shop=shop, customer_id=customer_id, paid_at__gte=since)
               .values_list("order_id", flat=True))
    if not paid:
        return Group.PRESALES
    if paid & {r for r in order_refs if r}:
        return Group.AFTERSALES
    keywords = [w.strip() for w in words.replace("，", ",").split(",") if w.strip()]
    if any(w in t for t in texts for w in keywords):
        return Group.AFTERSALES
    return Group.PRESALES


def last_agent_of(*, shop: Shop, customer_id: int, exclude_id: int | None = None) -> int | None:
    qs = Conversation.objects.filter(shop=shop, customer_id=customer_id).filter(
        Q(assignee__isnull=False) | Q(agent__isnull=False))
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    row = qs.order_by("-ended_at", "-id").values_list("assignee_id", "agent_id", "ended_at").first()
    if row is None:
        return None
    # A buyer handed over since then goes to the new owner (CONV-8).
    from kefu.people.handover import buyer_owner

    return buyer_owner(shop=shop, customer_id=customer_id, owner_id=row[0] or row[1], since=row[2])


@dataclass
class Pick:
    agent_id: int | None
    kind: str  # EK.ROUTED / EK.STICKY, or EK.QUEUED
    reason: str = ""  # QueueReason when queued


class Router:
    """One batch of routing decisions under the shop's routing lock."""

    def __init__(self, *, shop: Shop, now: dt.datetime):
        self.shop, self.now = shop, now
        self.settings = routing_lock(shop)
        self._candidates: dict[str, list[int]] = {}
        self.loads: dict[int, int] = {}
        self.caps: dict[int, int] = {}
        self.dirty = False
        self._has_group = set(Agent.objects.filter(shop=shop, active=True).exclude(group="")
                              .values_list("group", flat=True).distinct())

    def candidates(self, group: str) -> list[int]:
        if group not in self._candidates:
            g = group if group in self._has_group else None
            ids = sorted(a.id for a in online_on_shift(shop=self.shop, now=self.now, group=g))
            new = [a for a in ids if a not in self.loads]
            if new:
                self.loads.update({a: 0 for a in new})
                self.loads.update(agent_loads(shop=self.shop, agent_ids=new, now=self.now))
                self.caps.update(agent_caps(shop=self.shop, agent_ids=new, default=self.settings.default_cap))
            self._candidates[group] = ids
        return self._candidates[group]

    def has_room(self, agent_id: int) -> bool:
        return self.loads.get(agent_id, 0) < self.caps.get(agent_id, 0)

    def pick(self, *, group: str, customer_id: int, exclude_conversation: int | None = None) -> Pick:
        ids = self.candidates(group)
        if not ids:
            return Pick(None, EK.QUEUED, QueueReason.OFFLINE)
        if self.settings.sticky:
            last = last_agent_of(shop=self.shop, customer_id=customer_id, exclude_id=exclude_conversation)
            if last in ids and self.has_room(last):
                return self._take(last, EK.STICKY)
        field = "cursor_aftersales" if group == Group.AFTERSALES else "cursor_presales"
        cursor = getattr(self.settings, field)
        ordered = [a for a in ids if a > cursor] + [a for a in ids if a <= cursor]
        for a in ordered:
            if self.has_room(a):
                setattr(self.settings, field, a)
                self.dirty = True
                return self._take(a, EK.ROUTED)
        return Pick(None, EK.QUEUED, QueueReason.BUSY)

    def _take(self, agent_id: int, kind: str) -> Pick:
        self.loads[agent_id] = self.loads.get(agent_id, 0) + 1
        return Pick(agent_id, kind)

    def save(self) -> None:
        if self.dirty:
            self.settings.save(update_fields=["cursor_presales", "cursor_aftersales", "updated_at"])


# ---------------------------------------------------------------- live ingestion

@dataclass
class Plan:
    customer_id: int
    at: dt.datetime  # the first routed message: the conversation that holds it gets the decision
    agent_id: int | None
    kind: str  # EK.ROUTED/STICKY/QUEUED, or "continue" for a conversation that already has an owner
    group: str = ""
    reason: str = ""


CONTINUE = "continue"


def plan_messages(*, shop: Shop, messages: list, now: dt.datetime) -> list[Plan]:
    """Decide the agent of unrouted buyer messages (Message objects not yet saved) and set it on them.

    Must run inside the ingest transaction; takes the routing lock.
    """
    by_customer: dict[int, list] = defaultdict(list)
    for m in messages:
        by_customer[m.customer_id].append(m)
    router = Router(shop=shop, now=now)
    gap = dt.timedelta(minutes=shop.conversation_gap_minutes)
    plans = []
    for cid in sorted(by_customer):
        msgs = sorted(by_customer[cid], key=lambda m: m.sent_at)
        t0 = msgs[0].sent_at
        current = (Conversation.objects.filter(shop=shop, customer_id=cid, ended_at__gte=t0 - gap, started_at__lte=t0 + gap)
                   .order_by("-ended_at").first())
        if current is not None and (current.assignee_id or current.agent_id or current.queued_at):
            agent_id = current.assignee_id or (None if current.queued_at else current.agent_id)
            plan = Plan(cid, t0, agent_id, CONTINUE, current.group)
        else:
            group = group_for(shop=shop, customer_id=cid, texts=[m.text for m in msgs],
                              order_refs=[m.order_ref for m in msgs], now=now, words=router.settings.aftersales_words)
            pick = router.pick(group=group, customer_id=cid)
            plan = Plan(cid, t0, pick.agent_id, pick.kind, group, pick.reason)
        for m in msgs:
            m.agent_id = plan.agent_id
        plans.append(plan)
    router.save()
    return plans


def plans_apply(*, shop: Shop, plans: list[Plan], now: dt.datetime) -> None:
    """After the conversations were rebuilt: record each decision on the conversation holding it."""
    for p in plans:
        conv = (Conversation.objects
                .filter(shop=shop, customer_id=p.customer_id, started_at__lte=p.at, ended_at__gte=p.at).first())
        if conv is None:  # pragma: no cover - the rebuild always makes one
            continue
        fields: list[str] = []
        if conv.closed_at is not None:
            conv.closed_at = None
            fields.append("closed_at")
            event(conv, EK.REOPENED, now=now, to_agent_id=conv.assignee_id)
        if p.kind == CONTINUE:
            if p.agent_id and conv.assignee_id is None:
                conv.assignee_id, conv.assigned_at = p.agent_id, now
                fields += ["assignee", "assigned_at"]
        elif p.agent_id:
            conv.assignee_id, conv.assigned_at, conv.group = p.agent_id, now, p.group
            conv.queued_at, conv.queue_reason = None, ""
            fields += ["assignee", "assigned_at", "group", "queued_at", "queue_reason"]
            event(conv, p.kind, now=now, to_agent_id=p.agent_id)
        else:
            conv.group, conv.queued_at, conv.queue_reason = p.group, now, p.reason
            fields += ["group", "queued_at", "queue_reason"]
            event(conv, EK.QUEUED, now=now, reason=p.reason)
        if fields:
            conv.save(update_fields=fields)


def event(conv: Conversation, kind: str, *, now: dt.datetime, from_agent_id: int | None = None,
          to_agent_id: int | None = None, by: Agent | None = None, by_label: str = "", reason: str = "") -> ConversationEvent:
    from kefu.integrations import hooks
    from kefu.livechat.services import conversation_event_published

    row = ConversationEvent.objects.create(
        shop_id=conv.shop_id, conversation=conv, kind=kind, from_agent_id=from_agent_id, to_agent_id=to_agent_id,
        by=by, by_label=by_label or (by.name if by is not None else "system"), reason=reason, at=now)
    hooks.conversation_event(conv=conv, kind=kind, from_agent_id=from_agent_id, to_agent_id=to_agent_id, by=by,
                             reason=reason)
    conversation_event_published(row)  # the workspaces concerned see the step live (kefu.livechat)
    return row


# ---------------------------------------------------------------- offline queue

def queued_exists(*, shop: Shop) -> bool:
    return Conversation.objects.filter(shop=shop, queued_at__isnull=False, assignee__isnull=True,
                                       closed_at__isnull=True, merged_into__isnull=True).exists()


def greeting_text(*, shop: Shop, template: str, agent: Agent) -> str:
    return template.replace("{shop}", shop.name).replace("{agent}", agent.name)


def queue_hand_out(*, shop: Shop, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Hand queued conversations out, oldest first; greet the ones queued while nobody was on shift.

    Idempotent and restart-safe: a handed-out conversation is no longer queued, and the greeting's
    outbox key `offline-greeting:<conversation id>` is unique, so it is sent at most once.
    Returns the ids of the conversations handed out.
    """
    from kefu.metrics.services import facts_rebuild
    from kefu.outbound.enums import OutboundKind
    from kefu.outbound.services import send

    from .models import Message

    now = now or timezone.now()
    done: list[int] = []
    with transaction.atomic():
        router = Router(shop=shop, now=now)
        # The routing lock serialises every writer of queued/assignee. The buyers are locked before their
        # conversations are written: imports lock buyers first and then rewrite conversations.
        waiting = Conversation.objects.filter(shop=shop, queued_at__isnull=False, assignee__isnull=True,
                                              closed_at__isnull=True, merged_into__isnull=True)
        customers_lock(shop=shop, customer_ids=waiting.order_by("queued_at", "id").values_list("customer_id", flat=True)[:limit])
        queued = list(waiting.select_related("customer", "first_message").order_by("queued_at", "id")[:limit])
        full: set[str] = set()
        touched: set[int] = set()
        for conv in queued:
            group = conv.group or Group.PRESALES
            if group in full:
                continue
            pick = router.pick(group=group, customer_id=conv.customer_id, exclude_conversation=conv.id)
            if pick.agent_id is None:
                full.add(group)
                continue
            reason = conv.queue_reason
            conv.assignee_id, conv.assigned_at, conv.queued_at, conv.queue_reason = pick.agent_id, now, None, ""
            conv.save(update_fields=["assignee", "assigned_at", "queued_at", "queue_reason"])
            event(conv, EK.HANDED_OUT, now=now, to_agent_id=pick.agent_id, reason=reason)
            Message.objects.filter(shop=shop, customer_id=conv.customer_id, sender="buyer", agent__isnull=True,
                                   sent_at__gte=conv.started_at, sent_at__lte=conv.ended_at).update(agent_id=pick.agent_id)
            touched.add(conv.customer_id)
            if reason == QueueReason.OFFLINE:
                agent = Agent.objects.get(pk=pick.agent_id)
                _, created = send(shop=shop, channel=conv.first_message.channel, to_buyer=conv.customer,
                                  text=greeting_text(shop=shop, template=router.settings.offline_greeting, agent=agent),
                                  key=f"offline-greeting:{conv.id}", conversation=conv, agent=agent,
                                  kind=OutboundKind.OFFLINE_GREETING, now=now)
                if created:
                    event(conv, EK.GREETED, now=now, to_agent_id=agent.id)
            done.append(conv.id)
        router.save()
        if touched:
            facts_rebuild(shop=shop, customer_ids=touched)
    return done
