"""Writes of the live channel. Every chat message goes through the one ingestion service
(kefu.conversations.services.messages_ingest), so a chat held in the widget counts in facts, KPIs,
routing, SLA clocks and flags exactly as the same messages imported would; this module adds what
only a live channel has: the push events, images, typing, read marks, CSAT at close, spam blocking.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.conversations.enums import Sender
from kefu.conversations.models import Conversation, ConversationEvent, Message
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, AgentAccount, Shop

from . import events
from .enums import CHANNEL, Audience, EventKind, LiveError
from .files import image_check, image_delete, image_store
from .models import ChatAttachment, ReadMark, Visitor

IMAGE_TEXT = "[图片]"


def text_max() -> int:
    return int(getattr(settings, "KEFU_LIVE_TEXT_MAX", 1000))


# ---------------------------------------------------------------- wire shapes

def message_wire(m: Message, attachments: list[ChatAttachment] | None = None) -> dict:
    """A message as the widget and the workspace receive it (stream and API alike)."""
    atts = attachments if attachments is not None else list(m.attachments.all())
    return {"pk": m.pk, "message_id": m.message_id, "sender": m.sender, "text": m.text,
            "sent_at": m.sent_at.isoformat(), "agent": m.agent.name if m.agent_id and m.agent else None,
            "agent_id": m.agent_id, "order_id": m.order_ref, "channel": m.channel,
            "images": [{"id": a.pk, "w": a.width, "h": a.height, "thumb": bool(a.thumbnail_name)} for a in atts]}


def current_conversation(*, shop: Shop | int, customer_id: int, at: dt.datetime | None = None) -> Conversation | None:
    """The conversation holding the moment `at` (default: the buyer's latest one)."""
    shop_id = shop if isinstance(shop, int) else shop.pk
    qs = Conversation.objects.filter(shop_id=shop_id, customer_id=customer_id, merged_into__isnull=True)
    if at is not None:
        conv = qs.filter(started_at__lte=at, ended_at__gte=at).order_by("-ended_at").first()
        if conv is not None:
            return conv
    return qs.order_by("-ended_at", "-id").first()


def owner_of(conv: Conversation | None) -> int | None:
    if conv is None:
        return None
    return conv.assignee_id or (None if conv.queued_at else conv.agent_id)


def message_published(*, shop: Shop, message: Message, attachments: list[ChatAttachment] | None = None,
                      now=None) -> None:
    """Push a stored message to the buyer's widget and to whoever holds the conversation."""
    conv = current_conversation(shop=shop, customer_id=message.customer_id, at=message.sent_at)
    owner = owner_of(conv) or (message.agent_id if message.sender == Sender.BUYER else None)
    customer = message.customer
    events.publish(shop=shop, kind=EventKind.MESSAGE, audience=Audience.BOTH, customer_id=message.customer_id,
                   conversation_id=conv.pk if conv else None, agent_id=owner, group=conv.group if conv else "",
                   data={"message": message_wire(message, attachments), "buyer": customer.nick or customer.buyer_id,
                         "queued": bool(conv and conv.queued_at and not conv.assignee_id)}, now=now)


# ---------------------------------------------------------------- buyer side

def _buyer_row(visitor: Visitor, client_id: str, text: str, order_id: str, now: dt.datetime) -> dict:
    client_id = clean_text(client_id, field="client_id", max_len=64, required=True)
    return messages_clean([{
        "message_id": f"web-{visitor.pk}-{client_id}", "channel": CHANNEL, "buyer_id": visitor.customer.buyer_id,
        "buyer_nick": visitor.customer.nick, "sender": Sender.BUYER, "sent_at": now.isoformat(), "text": text,
        "order_id": order_id,
    }], tz=visitor.shop.tz, routed=True)[0]


def _refuse_blocked(visitor: Visitor) -> None:
    from .spam import buyer_blocked

    if buyer_blocked(visitor.customer_id):
        raise KefuError("this chat was closed by the shop", field="session", code=LiveError.BLOCKED)


def buyer_message_send(*, visitor: Visitor, client_id: str, text: str, order_id: str = "",
                       now=None) -> tuple[Message, bool]:
    """A buyer's message from the widget: stored (routed to an agent on shift, or queued) and
    pushed. A resend with the same client_id changes nothing and returns the first message."""
    now = now or timezone.now()
    text = clean_text(text, field="text", max_len=text_max(), required=True)
    order_id = clean_text(order_id, field="order_id", max_len=64)
    _refuse_blocked(visitor)
    row = _buyer_row(visitor, client_id, text, order_id, now)
    with transaction.atomic():
        result = messages_ingest(shop=visitor.shop, rows=[row], route=True, regroup=True, now=now)
        msg = Message.objects.select_related("agent", "customer").get(shop=visitor.shop, message_id=row["message_id"])
        if result.created:
            message_published(shop=visitor.shop, message=msg, attachments=[], now=now)
    return msg, bool(result.created)


def _image_message(*, shop: Shop, row: dict, data: bytes, name: str, uploaded_by: Agent | None, now,
                   route: bool) -> tuple[Message, bool]:
    checked = image_check(data)
    stored, thumb = image_store(shop_code=shop.code, data=data, checked=checked)
    try:
        with transaction.atomic():
            result = messages_ingest(shop=shop, rows=[row], route=route, regroup=True, now=now)
            msg = Message.objects.select_related("agent", "customer").get(shop=shop, message_id=row["message_id"])
            if not result.created:  # a resend of an upload already stored
                image_delete(stored, thumb)
                return msg, False
            att = ChatAttachment.objects.create(
                shop=shop, message=msg, customer_id=msg.customer_id, uploaded_by=uploaded_by,
                name=clean_text(name, field="name", max_len=120) or f"image.{checked.extension}",
                content_type=checked.content_type, size=len(data), sha256=checked.sha256, width=checked.width,
                height=checked.height, file_name=stored, thumbnail_name=thumb)
            message_published(shop=shop, message=msg, attachments=[att], now=now)
    except Exception:
        image_delete(stored, thumb)
        raise
    return msg, True


def buyer_image_send(*, visitor: Visitor, client_id: str, name: str, data: bytes, order_id: str = "",
                     now=None) -> tuple[Message, bool]:
    """A photo from the buyer: a message "[图片]" with the image attached (same ingestion)."""
    now = now or timezone.now()
    _refuse_blocked(visitor)
    row = _buyer_row(visitor, client_id, IMAGE_TEXT, clean_text(order_id, field="order_id", max_len=64), now)
    return _image_message(shop=visitor.shop, row=row, data=data, name=name, uploaded_by=None, now=now, route=True)


def buyer_typing(*, visitor: Visitor, typing: bool = True, now=None) -> None:
    conv = current_conversation(shop=visitor.shop_id, customer_id=visitor.customer_id)
    with transaction.atomic():
        events.publish(shop=visitor.shop_id, kind=EventKind.TYPING, audience=Audience.STAFF,
                       customer_id=visitor.customer_id, conversation_id=conv.pk if conv else None,
                       agent_id=owner_of(conv), group=conv.group if conv else "", ephemeral=True,
                       data={"who": "buyer", "typing": bool(typing)}, now=now)


def _mark(*, shop_id: int, customer_id: int, reader: str, message_pk: int, now) -> bool:
    """Move a read mark forward (never back). Returns whether it moved."""
    updated = (ReadMark.objects.filter(customer_id=customer_id, reader=reader, message_pk__lt=message_pk)
               .update(message_pk=message_pk, at=now))
    if updated:
        return True
    if ReadMark.objects.filter(customer_id=customer_id, reader=reader).exists():
        return False
    try:
        with transaction.atomic():
            ReadMark.objects.create(shop_id=shop_id, customer_id=customer_id, reader=reader, message_pk=message_pk,
                                    at=now)
    except IntegrityError:  # a concurrent first mark
        return _mark(shop_id=shop_id, customer_id=customer_id, reader=reader, message_pk=message_pk, now=now)
    return True


def _read_upto(shop_id: int, customer_id: int, message_pk) -> int:
    if isinstance(message_pk, bool) or not isinstance(message_pk, int) or message_pk <= 0:
        raise KefuError("must be a message id", field="message_pk", code=LiveError.INVALID)
    # Never past the buyer's own newest message (a mark is a position in this buyer's chat).
    last = (Message.objects.filter(shop_id=shop_id, customer_id=customer_id, pk__lte=message_pk)
            .order_by("-pk").values_list("pk", flat=True).first())
    if last is None:
        raise NotFound("message not found", field="message_pk")
    return last


def buyer_read(*, visitor: Visitor, message_pk: int, now=None) -> None:
    """The buyer has seen the chat up to this message (the workspace shows 已读)."""
    now = now or timezone.now()
    upto = _read_upto(visitor.shop_id, visitor.customer_id, message_pk)
    with transaction.atomic():
        if _mark(shop_id=visitor.shop_id, customer_id=visitor.customer_id, reader="buyer", message_pk=upto, now=now):
            conv = current_conversation(shop=visitor.shop_id, customer_id=visitor.customer_id)
            events.publish(shop=visitor.shop_id, kind=EventKind.READ, audience=Audience.STAFF,
                           customer_id=visitor.customer_id, conversation_id=conv.pk if conv else None,
                           agent_id=owner_of(conv), group=conv.group if conv else "",
                           data={"who": "buyer", "message_pk": upto}, now=now)


def buyer_rating(*, visitor: Visitor, invitation_id, score, comment: str = "") -> tuple[object, bool]:
    """The buyer rates the service from the widget: only an invitation of this very buyer."""
    from kefu.complaints.models import RatingInvitation
    from kefu.complaints.ratings import rating_record

    if isinstance(invitation_id, bool) or not isinstance(invitation_id, int) or not RatingInvitation.objects.filter(
            shop_id=visitor.shop_id, pk=invitation_id, customer_id=visitor.customer_id).exists():
        raise NotFound("invitation not found", field="invitation_id")
    return rating_record(shop=visitor.shop, invitation_id=invitation_id, score=score, comment=comment)


# ---------------------------------------------------------------- agent side

def webchat_account(agent: Agent) -> str:
    """The agent's account on Kefu's own channel: how ingested messages name them."""
    platform_id = f"{CHANNEL}:{agent.pk}"
    AgentAccount.objects.get_or_create(shop_id=agent.shop_id, platform_id=platform_id, defaults={"agent": agent})
    return platform_id


def agent_may_act(member: Agent, conv: Conversation) -> bool:
    return sees_whole_shop(member) or member.pk in (conv.assignee_id, conv.agent_id)


def agent_image_send(*, shop: Shop, conversation: Conversation, by: Agent, client_id: str, name: str,
                     data: bytes, now=None) -> tuple[Message, bool]:
    """A photo an agent sends into a live chat (a human reply, like text)."""
    if not agent_may_act(by, conversation):
        raise PermissionDenied("only the conversation's agent or a supervisor may send", code=LiveError.FORBIDDEN)
    if conversation_channel(conversation) != CHANNEL:
        raise KefuError("images can be sent in web chats only", field="conversation", code=LiveError.INVALID)
    now = now or timezone.now()
    client_id = clean_text(client_id, field="client_id", max_len=64, required=True)
    row = messages_clean([{
        "message_id": f"kf-{conversation.pk}-{client_id}", "channel": CHANNEL,
        "buyer_id": conversation.customer.buyer_id, "agent_id": webchat_account(by), "sender": Sender.AGENT,
        "sent_at": now.isoformat(), "text": IMAGE_TEXT}], tz=shop.tz)[0]
    return _image_message(shop=shop, row=row, data=data, name=name, uploaded_by=by, now=now, route=False)


def agent_typing(*, shop: Shop, conversation: Conversation, by: Agent, typing: bool = True, now=None) -> None:
    with transaction.atomic():
        events.publish(shop=shop, kind=EventKind.TYPING, audience=Audience.BUYER, customer_id=conversation.customer_id,
                       conversation_id=conversation.pk, agent_id=by.pk, ephemeral=True,
                       data={"who": "agent", "typing": bool(typing), "agent": by.name}, now=now)


def agent_read(*, shop: Shop, conversation: Conversation, by: Agent, message_pk: int, now=None) -> None:
    """The agent has read the chat up to this message: their unread count drops, the buyer sees 已读."""
    now = now or timezone.now()
    upto = _read_upto(shop.pk, conversation.customer_id, message_pk)
    with transaction.atomic():
        if _mark(shop_id=shop.pk, customer_id=conversation.customer_id, reader=f"agent:{by.pk}", message_pk=upto,
                 now=now):
            events.publish(shop=shop, kind=EventKind.READ, audience=Audience.BOTH, customer_id=conversation.customer_id,
                           conversation_id=conversation.pk, agent_id=by.pk,
                           data={"who": "agent", "reader_id": by.pk, "message_pk": upto}, now=now)


def conversation_channel(conv: Conversation) -> str:
    return Message.objects.filter(pk=conv.first_message_id).values_list("channel", flat=True).first() or ""


def chat_close(*, shop: Shop, conversation: Conversation, by: Agent, now=None):
    """Close the conversation and, for a web chat, invite the buyer to rate the service at once
    (one invitation per reception, AUTO-3); the widget shows the stars."""
    from kefu.complaints.ratings import rating_invite
    from kefu.conversations.services import conversation_close
    from kefu.customers.services import customers_lock

    now = now or timezone.now()
    with transaction.atomic():
        # The buyer before the conversation (the lock order of every writer): the invitation below
        # is stored as a message, which rebuilds the buyer's conversations under the buyer's lock.
        customers_lock(shop=shop, customer_ids=[conversation.customer_id])
        conv = conversation_close(shop=shop, conversation=conversation, by=by, now=now)
        owner_id = conv.assignee_id or conv.agent_id
        if owner_id and conversation_channel(conv) == CHANNEL:
            from kefu.core.timeutil import shop_day

            owner = Agent.objects.get(pk=owner_id)
            rating_invite(shop=shop, agent=owner, customer=conv.customer, day=shop_day(now, shop.tz), actor=by,
                          now=now)
    return conv


# ---------------------------------------------------------------- conversation events (routing hook)

PUSHED_TO_BUYER = {"closed", "reopened"}


def conversation_event_published(ev: ConversationEvent) -> None:
    """Called by kefu.conversations.routing.event for every routing step (routed, queued, handed out,
    transferred, closed …): the workspaces concerned see it live."""
    conv = ev.conversation
    owner = conv.assignee_id or (None if conv.queued_at else conv.agent_id)
    kind = EventKind.CLOSED if ev.kind in PUSHED_TO_BUYER else EventKind.ASSIGNED
    events.publish(shop=conv.shop_id, kind=kind,
                   audience=Audience.BOTH if ev.kind in PUSHED_TO_BUYER else Audience.STAFF,
                   customer_id=conv.customer_id, conversation_id=conv.pk, agent_id=owner,
                   prev_agent_id=ev.from_agent_id if ev.from_agent_id != owner else None, group=conv.group,
                   data={"event": ev.kind, "to_agent_id": ev.to_agent_id, "from_agent_id": ev.from_agent_id,
                         "by": ev.by_label, "closed": conv.closed_at is not None}, now=ev.at)


def presence_published(*, shop: Shop, agent: Agent, status: str, now=None) -> None:
    with transaction.atomic():
        events.publish(shop=shop, kind=EventKind.PRESENCE, audience=Audience.STAFF, agent_id=agent.pk,
                       data={"status": status, "agent": agent.name}, now=now)


def note_published(*, shop: Shop, conversation: Conversation, note) -> None:
    events.publish(shop=shop, kind=EventKind.NOTE, audience=Audience.STAFF, customer_id=conversation.customer_id,
                   conversation_id=conversation.pk, agent_id=owner_of(conversation), group=conversation.group,
                   data={"note": {"id": note.pk, "author": note.author_label, "text": note.text,
                                  "created_at": note.created_at.isoformat()}})


def client_id_new() -> str:
    return uuid.uuid4().hex

