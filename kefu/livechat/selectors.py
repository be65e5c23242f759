"""Reads of the live channel: the workspace's chat list, a chat's messages, the supervisors' live
view, and a widget visitor's history. Each list is a fixed number of queries (pinned in tests)."""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q
from django.utils import timezone

from kefu.conversations.enums import Sender
from kefu.conversations.models import Conversation, ConversationNote, Message
from kefu.conversations.selectors import conversation_messages
from kefu.core.access import sees_whole_shop
from kefu.core.enums import Role
from kefu.core.models import Agent, Shop

from .enums import CHANNEL, SpamReportState
from .models import ChatAttachment, ReadMark, Visitor
from .services import message_wire

WORKSPACE_HOURS = 12  # a chat stays in the workspace this long after its last message unless closed
CHAT_LIMIT = 100
HISTORY_LIMIT = 200


def _workspace_q(member: Agent, now: dt.datetime) -> Q:
    mine = Q(assignee=member) | Q(assignee__isnull=True, agent=member, queued_at__isnull=True)
    queued = Q(queued_at__isnull=False, assignee__isnull=True)
    if not sees_whole_shop(member):
        queued &= Q(group=member.group) if member.group else Q(pk__in=[])
    # Flagged buyers, and buyers an agent reported as spam (kefu.livechat.spam), leave the workspace.
    return ((mine | queued) & Q(closed_at__isnull=True, merged_into__isnull=True, customer__is_spam=False,
                                ended_at__gte=now - dt.timedelta(hours=WORKSPACE_HOURS))
            & ~Q(customer__spam_reports__state=SpamReportState.PENDING))


def _summaries(convs: list[Conversation], msgs_by_customer: dict, marks: dict, buyer_marks: dict, now) -> list[dict]:
    out = []
    for c in convs:
        msgs = [m for m in msgs_by_customer.get(c.customer_id, ()) if c.started_at <= m["sent_at"] <= c.ended_at]
        waiting_since, last = None, msgs[-1] if msgs else None
        for m in msgs:
            if m["sender"] == Sender.AGENT:
                waiting_since = None
            elif m["sender"] == Sender.BUYER and waiting_since is None:
                waiting_since = m["sent_at"]
        mark = marks.get(c.customer_id, 0)
        unread = sum(1 for m in msgs if m["sender"] == Sender.BUYER and m["pk"] > mark)
        out.append({
            "conversation_id": c.pk, "customer_id": c.customer_id, "buyer_id": c.customer.buyer_id,
            "buyer_nick": c.customer.nick or c.customer.buyer_id, "channel": c.first_message.channel,
            "group": c.group, "assignee_id": c.assignee_id, "queued": c.queued_at is not None and not c.assignee_id,
            "started_at": c.started_at.isoformat(), "ended_at": c.ended_at.isoformat(),
            "last_text": last["text"][:80] if last else "", "last_sender": last["sender"] if last else "",
            "last_pk": last["pk"] if last else 0, "unread": unread, "read_pk": mark,
            "buyer_read_pk": buyer_marks.get(c.customer_id, 0),
            "waiting_since": waiting_since.isoformat() if waiting_since else None,
            "waiting_seconds": int((now - waiting_since).total_seconds()) if waiting_since else 0,
            "is_spam": c.customer.is_spam,
        })
    return out


def chats_for_member(*, shop: Shop, member: Agent, now: dt.datetime | None = None) -> list[dict]:
    """The workspace list: the person's open chats and the queue of their group, newest first,
    with unread counts and how long the buyer has waited (three queries)."""
    now = now or timezone.now()
    convs = list(Conversation.objects.filter(shop=shop).filter(_workspace_q(member, now))
                 .select_related("customer", "first_message").order_by("-ended_at", "-id")[:CHAT_LIMIT])
    if not convs:
        return []
    customers = {c.customer_id for c in convs}
    since = min(c.started_at for c in convs)
    msgs_by_customer: dict[int, list[dict]] = defaultdict(list)
    for m in (Message.objects.filter(shop=shop, customer_id__in=customers, sent_at__gte=since)
              .order_by("sent_at", "pk").values("pk", "customer_id", "sender", "sent_at", "text")):
        msgs_by_customer[m["customer_id"]].append(m)
    marks, buyer_marks = {}, {}
    for cid, reader, pk in ReadMark.objects.filter(customer_id__in=customers, reader__in=[f"agent:{member.pk}", "buyer"]
                                                   ).values_list("customer_id", "reader", "message_pk"):
        (buyer_marks if reader == "buyer" else marks)[cid] = pk
    return _summaries(convs, msgs_by_customer, marks, buyer_marks, now)


def chat_summary(*, shop: Shop, member: Agent, conversation: Conversation, now=None) -> dict:
    now = now or timezone.now()
    msgs = list(Message.objects.filter(shop=shop, customer_id=conversation.customer_id,
                                       sent_at__gte=conversation.started_at, sent_at__lte=conversation.ended_at)
                .order_by("sent_at", "pk").values("pk", "customer_id", "sender", "sent_at", "text"))
    marks = dict(ReadMark.objects.filter(customer_id=conversation.customer_id, reader=f"agent:{member.pk}")
                 .values_list("customer_id", "message_pk"))
    buyer = dict(ReadMark.objects.filter(customer_id=conversation.customer_id, reader="buyer")
                 .values_list("customer_id", "message_pk"))
    return _summaries([conversation], {conversation.customer_id: msgs}, marks, buyer, now)[0]


def messages_with_images(qs) -> list[dict]:
    msgs = list(qs)
    atts: dict[int, list] = defaultdict(list)
    for a in ChatAttachment.objects.filter(message_id__in=[m.pk for m in msgs]).order_by("pk"):
        atts[a.message_id].append(a)
    return [message_wire(m, atts.get(m.pk, [])) for m in msgs]


def chat_messages(*, conversation: Conversation, after_pk: int = 0) -> list[dict]:
    """The conversation's messages (and of those merged into it) with their images, in order."""
    qs = conversation_messages(conversation=conversation)
    if after_pk:
        qs = qs.filter(pk__gt=after_pk)
    return messages_with_images(qs)


def chat_notes(*, conversation: Conversation) -> list[dict]:
    return [{"id": n.pk, "author": n.author_label, "text": n.text, "created_at": n.created_at.isoformat()}
            for n in ConversationNote.objects.filter(conversation=conversation).order_by("created_at", "id")]


def visitor_history(*, visitor: Visitor, after_pk: int = 0, limit: int = HISTORY_LIMIT) -> list[dict]:
    """The buyer's own web-chat messages for the widget, oldest first (never a platform chat's)."""
    qs = (Message.objects.filter(shop_id=visitor.shop_id, customer_id=visitor.customer_id, channel=CHANNEL)
          .select_related("agent"))
    if after_pk:
        return messages_with_images(qs.filter(pk__gt=after_pk).order_by("sent_at", "pk")[:limit])
    recent = list(qs.order_by("-sent_at", "-pk")[:limit])
    recent.reverse()
    return messages_with_images(recent)


def live_overview(*, shop: Shop, now: dt.datetime | None = None) -> dict:
    """The supervisors' live view: each active person's status and how many open chats they hold,
    and the buyers waiting — queued or not yet answered — with how long (fixed query count)."""
    from kefu.workforce.models import AgentPresence

    now = now or timezone.now()
    gap = dt.timedelta(minutes=shop.conversation_gap_minutes)
    presence = dict(AgentPresence.objects.filter(shop=shop).values_list("agent_id", "status"))
    open_q = Q(closed_at__isnull=True, merged_into__isnull=True, ended_at__gte=now - gap)
    holding = dict(Conversation.objects.filter(shop=shop, assignee__isnull=False).filter(open_q)
                   .values("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n"))
    waiting_convs = list(Conversation.objects.filter(shop=shop, closed_at__isnull=True, merged_into__isnull=True,
                                                     ended_at__gte=now - dt.timedelta(hours=WORKSPACE_HOURS))
                         .filter(Q(waiting=True) | Q(queued_at__isnull=False, assignee__isnull=True))
                         .select_related("customer", "assignee").order_by("ended_at")[:200])
    waiting_by_agent: dict[int, int] = defaultdict(int)
    waiting = []
    since_by_customer = _waiting_since(shop, waiting_convs)
    for c in waiting_convs:
        since = since_by_customer.get(c.pk) or c.queued_at or c.ended_at
        if c.assignee_id:
            waiting_by_agent[c.assignee_id] += 1
        waiting.append({"conversation_id": c.pk, "buyer": c.customer.nick or c.customer.buyer_id,
                        "assignee_id": c.assignee_id, "assignee": c.assignee.name if c.assignee_id else None,
                        "group": c.group, "queued": c.queued_at is not None and not c.assignee_id,
                        "waiting_since": since.isoformat(), "waiting_seconds": max(0, int((now - since).total_seconds()))})
    waiting.sort(key=lambda w: -w["waiting_seconds"])
    agents = []
    for a in Agent.objects.filter(shop=shop, active=True).order_by("group", "name", "id"):
        status = presence.get(a.pk, "offline")
        if status == "offline" and not holding.get(a.pk) and not (a.user_id and a.has_role(Role.AGENT)):
            continue  # names met in imports only, and managers or warehouse staff who are not serving
        agents.append({"id": a.pk, "name": a.name, "group": a.group, "status": status,
                       "holding": holding.get(a.pk, 0), "waiting": waiting_by_agent.get(a.pk, 0)})
    return {"agents": agents, "waiting": waiting, "at": now.isoformat()}


def _waiting_since(shop: Shop, convs: list[Conversation]) -> dict[int, dt.datetime]:
    """conversation id → its oldest buyer message without a later agent reply (one query)."""
    if not convs:
        return {}
    since = min(c.started_at for c in convs)
    by_customer: dict[int, list] = defaultdict(list)
    for m in (Message.objects.filter(shop=shop, customer_id__in={c.customer_id for c in convs}, sent_at__gte=since)
              .order_by("sent_at", "pk").values_list("customer_id", "sender", "sent_at")):
        by_customer[m[0]].append(m)
    out = {}
    for c in convs:
        first = None
        for _, sender, at in by_customer.get(c.customer_id, ()):
            if not c.started_at <= at <= c.ended_at:
                continue
            if sender == Sender.AGENT:
                first = None
            elif sender == Sender.BUYER and first is None:
                first = at
        if first is not None:
            out[c.pk] = first
    return out
