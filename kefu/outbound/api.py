"""Outbound messages (outbox) under /api/v1/: what a platform connector drains and reports on."""

from datetime import datetime

from ninja import Query, Router, Schema

from kefu.core.access import sees_whole_shop
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.inputs import MAX_OFFSET

from . import services
from .enums import OutboundError, OutboundState
from .selectors import outbound_get_for_user, outbox_list

router = Router(tags=["outbound"], auth=AUTH)


class OutboundOut(Schema):
    id: int
    idempotency_key: str
    channel: str
    buyer_id: str
    recipient: str
    conversation_id: int | None
    agent_id: int | None
    kind: str
    text: str
    state: str
    error: str
    external_id: str
    created_at: datetime
    sent_at: datetime | None


class MarkIn(Schema):
    error: str | None = None
    external_id: str | None = None


def outbound_out(m) -> dict:
    return {"id": m.pk, "idempotency_key": m.idempotency_key, "channel": m.channel, "buyer_id": m.customer.buyer_id,
            "recipient": m.recipient, "conversation_id": m.conversation_id, "agent_id": m.agent_id, "kind": m.kind,
            "text": m.text,
            "state": m.state, "error": m.error, "external_id": m.external_id, "created_at": m.created_at,
            "sent_at": m.sent_at}


@router.get("/outbox", response=list[OutboundOut])
def outbox_get(request, shop: str | None = None, state: str | None = None, conversation_id: int | None = None,
               limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """The outbox, newest first; `state=queued` is what a connector still has to deliver."""
    shop_obj, member = request.auth.shop_for(shop)
    if state and state not in OutboundState.values:
        raise KefuError(f"must be one of {'|'.join(OutboundState.values)}", field="state", code=OutboundError.INVALID)
    qs = outbox_list(shop=shop_obj, member=member, state=state or None, conversation_id=conversation_id)
    return [outbound_out(m) for m in qs[offset:offset + limit]]


def _mark(request, outbound_id: int, shop: str | None, state: str, payload: MarkIn):
    shop_obj, member = request.auth.shop_for(shop)
    msg = outbound_get_for_user(shop=shop_obj, member=member, id=outbound_id)
    if member is not None and not sees_whole_shop(member):
        raise PermissionDenied("only a connector token or a supervisor reports delivery", code=OutboundError.FORBIDDEN)
    msg = services.outbound_mark(shop=shop_obj, message=msg, state=state, error=payload.error or "",
                                 external_id=payload.external_id or "",
                                 actor=member.user if member is not None else None)
    return outbound_out(msg)


@router.post("/outbox/{outbound_id}/sent", response=OutboundOut)
def outbox_sent(request, outbound_id: int, payload: MarkIn, shop: str | None = None):
    """The connector delivered the message (optionally with the platform's message id)."""
    return _mark(request, outbound_id, shop, OutboundState.SENT, payload)


@router.post("/outbox/{outbound_id}/failed", response=OutboundOut)
def outbox_failed(request, outbound_id: int, payload: MarkIn, shop: str | None = None):
    """The connector could not deliver it; `error` says why."""
    return _mark(request, outbound_id, shop, OutboundState.FAILED, payload)


@router.post("/outbox/{outbound_id}/requeue", response=OutboundOut)
def outbox_requeue(request, outbound_id: int, payload: MarkIn, shop: str | None = None):
    """Queue a failed message again (written to the outbox file once more)."""
    return _mark(request, outbound_id, shop, OutboundState.QUEUED, payload)
