"""The outbound channel: the one way Kefu sends text to a buyer.

    from kefu.outbound.services import send
    msg, created = send(shop=shop, channel="qianniu", to_buyer=customer, text="...",
                        key="followup:42:contact:1", conversation=conv, agent=agent, kind="reply")

`send` writes a queued OutboundMessage (unique key per shop: a repeat returns the first row and
`created=False`) and, after commit, hands it to the configured backend (default: a JSONL file a
platform connector drains). The connector reports the result with `outbound_mark` (API:
POST /api/v1/outbox/{id}/sent|failed). Kefu never pretends a message was delivered.
"""

import re
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import KefuError
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.customers.models import Customer
from kefu.replies.variables import variables_unfilled

from .backends import backend_path, channel_delivery, get_backend
from .enums import OUTBOUND_TRANSITIONS, SMS_CHANNEL, OutboundError, OutboundKind, OutboundState
from .models import OutboundMessage

TEXT_MAX = 2000
PHONE = re.compile(r"\+?[0-9][0-9 -]{5,38}")


def send(*, shop: Shop, channel: str, to_buyer: Customer, text: str, key: str | None = None,
         conversation=None, agent: Agent | None = None, kind: str = OutboundKind.OTHER,
         recipient: str = "", now=None) -> tuple[OutboundMessage, bool]:
    """Queue `text` for the buyer. Returns (message, created); a known key changes nothing.
    An SMS (channel "sms") needs the `recipient` phone number."""
    text = clean_text(text, field="text", max_len=TEXT_MAX, required=True)
    unfilled = variables_unfilled(text)
    if unfilled:  # a script's {订单号} left as written must never reach a buyer, whoever sends it
        raise KefuError(_("还有没填的变量 {%(name)s}：请填好或删掉后再发送") % {"name": unfilled[0]}, field="text",
                        code=OutboundError.UNFILLED)
    channel = clean_text(channel or "generic", field="channel", max_len=40) or "generic"
    recipient = clean_text(recipient, field="recipient", max_len=40)
    if channel == SMS_CHANNEL and not PHONE.fullmatch(recipient):
        raise KefuError("an SMS needs a phone number", field="recipient", code=OutboundError.INVALID)
    key = clean_text(key, field="key", max_len=120) if key is not None else f"auto:{uuid.uuid4().hex}"
    if not key:
        raise KefuError("required", field="key", code=OutboundError.INVALID)
    if kind not in OutboundKind.values:
        raise KefuError(f"must be one of {'|'.join(OutboundKind.values)}", field="kind", code=OutboundError.INVALID)
    if to_buyer.shop_id != shop.id or (conversation is not None and conversation.shop_id != shop.id):
        raise KefuError("buyer of another shop", field="to_buyer", code=OutboundError.INVALID)
    existing = OutboundMessage.objects.filter(shop=shop, idempotency_key=key).first()
    if existing is not None:
        return existing, False
    deliver = channel_delivery(channel)
    try:
        with transaction.atomic():
            msg = OutboundMessage.objects.create(
                shop=shop, idempotency_key=key, channel=channel, customer=to_buyer, conversation=conversation,
                agent=agent, kind=kind, text=text, recipient=recipient, backend=backend_path(),
                created_at=now or timezone.now(),
            )
            if deliver is not None:  # Kefu's own channel: stored and pushed to the buyer now
                deliver(msg)
    except IntegrityError:  # a concurrent send with the same key won
        return OutboundMessage.objects.get(shop=shop, idempotency_key=key), False
    if deliver is None:
        transaction.on_commit(lambda: get_backend().enqueue(msg))
    return msg, True


def outbound_mark(*, shop: Shop, message: OutboundMessage, state: str, error: str = "", external_id: str = "",
                  actor=None, now=None) -> OutboundMessage:
    """A connector reports a delivery result (sent, failed) or re-queues a failed message."""
    if state not in OutboundState.values:
        raise KefuError(f"must be one of {'|'.join(OutboundState.values)}", field="state", code=OutboundError.INVALID)
    error = clean_text(error, field="error", max_len=500)
    external_id = clean_text(external_id, field="external_id", max_len=120)
    with transaction.atomic():
        msg = OutboundMessage.objects.select_for_update().get(shop=shop, pk=message.pk)
        if state not in OUTBOUND_TRANSITIONS[msg.state]:
            raise KefuError(f"a {msg.state} message cannot become {state}", field="state", code=OutboundError.STATE)
        before = {"state": msg.state}
        msg.state = state
        msg.error = error if state == OutboundState.FAILED else ""
        if external_id:
            msg.external_id = external_id
        if state == OutboundState.SENT:
            msg.sent_at = now or timezone.now()
        msg.save(update_fields=["state", "error", "external_id", "sent_at", "updated_at"])
        audit_record(shop=shop, actor=actor, action=f"outbound.{state}", entity=msg, before=before,
                     after={"state": state, "error": msg.error})
        if state == OutboundState.QUEUED:
            transaction.on_commit(lambda: get_backend().enqueue(msg))
    return msg
