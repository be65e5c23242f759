"""Kefu delivers its own channel: what kefu.outbound.send queues for a web-chat buyer is stored as
a chat message (through the one ingestion service) and pushed to the widget at once, inside the
send's transaction, and the outbox row is marked sent with the message id — no connector needed.

Sender of the stored message: the agent for a reply or an agent's message (a human reply: it
answers the turn and the conversation leaves 待回复); "bot" for the offline greeting (never an
agent's reply, CONV-5); "system" for a rating invitation (its widget card shows the stars).
"""

from django.utils import timezone

from kefu.conversations.enums import Sender
from kefu.conversations.models import Message
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.errors import KefuError
from kefu.outbound.enums import OutboundKind, OutboundState
from kefu.outbound.models import OutboundMessage

from . import events
from .enums import CHANNEL, Audience, EventKind
from .services import message_published, owner_of, webchat_account

RATING_KEY = "rating-invite:"  # kefu.complaints.ratings keys its sends by the invitation


def _sender(out: OutboundMessage) -> str:
    if out.kind == OutboundKind.OFFLINE_GREETING:
        return Sender.BOT
    if out.kind == OutboundKind.RATING_INVITE or out.agent_id is None:
        return Sender.SYSTEM
    return Sender.AGENT


def deliver(out: OutboundMessage) -> None:
    """Called by kefu.outbound.services.send inside its transaction for channel "webchat"."""
    now = out.created_at or timezone.now()
    shop = out.shop
    sender = _sender(out)
    row = {"message_id": f"out-{out.pk}", "channel": CHANNEL, "buyer_id": out.customer.buyer_id,
           "sender": sender, "sent_at": now.isoformat(), "text": out.text}
    if sender == Sender.AGENT:
        row["agent_id"] = webchat_account(out.agent)
    elif out.agent_id is not None:
        row["agent_id"] = webchat_account(out.agent)
    clean = messages_clean([row], tz=shop.tz)[0]
    messages_ingest(shop=shop, rows=[clean], regroup=True, now=now)
    msg = Message.objects.select_related("agent", "customer").get(shop=shop, message_id=row["message_id"])
    OutboundMessage.objects.filter(pk=out.pk).update(state=OutboundState.SENT, sent_at=now, external_id=msg.message_id,
                                                     backend="kefu.livechat.delivery")
    out.state, out.sent_at, out.external_id = OutboundState.SENT, now, msg.message_id
    message_published(shop=shop, message=msg, attachments=[], now=now)
    if sender == Sender.SYSTEM:
        _close_if_opened(shop, msg, now)
    if out.kind == OutboundKind.RATING_INVITE and out.idempotency_key.startswith(RATING_KEY):
        raw = out.idempotency_key[len(RATING_KEY):]
        if not raw.isdigit():
            raise KefuError("rating invitation key without an id", field="key")
        conv = out.conversation
        events.publish(shop=shop, kind=EventKind.RATING, audience=Audience.BOTH, customer_id=out.customer_id,
                       conversation_id=out.conversation_id, agent_id=owner_of(conv) if conv else out.agent_id,
                       data={"invitation_id": int(raw), "agent": out.agent.name if out.agent_id else "",
                             "message_pk": msg.pk}, now=now)


def _close_if_opened(shop, msg: Message, now) -> None:
    """A system message sent after the chat went idle (the nightly rating invitation) starts a
    conversation of its own; nobody has to answer it, so it is closed at once rather than sitting in
    the agent's workspace. A buyer who writes back reopens it (routing)."""
    from kefu.conversations.models import Conversation
    from kefu.conversations.services import conversation_close

    conv = Conversation.objects.filter(shop=shop, first_message_id=msg.pk, closed_at__isnull=True).first()
    if conv is not None and conv.buyer_message_count == 0:
        conversation_close(shop=shop, conversation=conv, now=now)
