from django.conf import settings
from ninja import Query, Router, Schema

from kefu.core.api_auth import AUTH
from kefu.core.inputs import json_body, openapi_body

from .schemas import ConversationDetailOut, ConversationOut, IngestOut, MessageBatchIn, MessageIn
from .selectors import conversation_get_for_user, conversation_list, conversation_messages
from .services import messages_clean, messages_ingest

router = Router(tags=["messages"], auth=AUTH)


@router.post("/messages", response=IngestOut, openapi_extra=openapi_body(MessageIn, MessageBatchIn))
def messages_post(request, shop: str | None = None):
    """One message, or `{"messages": [...]}` with up to 1,000. Idempotent by message_id.

    A bad message rejects the whole request (422) with every error as {index, field, message}.
    """
    shop_obj, _ = request.auth.shop_for(shop)
    raws = json_body(request, list_key="messages", limit=settings.KEFU_MAX_BATCH)
    rows = messages_clean(raws, tz=shop_obj.tz, first_row=0)
    result = messages_ingest(shop=shop_obj, rows=rows)
    return {"created": result.created, "duplicates": result.duplicates}


class ConversationFilter(Schema):
    shop: str | None = None
    agent_id: int | None = None
    waiting: bool | None = None
    q: str = ""
    limit: int = 50
    offset: int = 0


def _conv_out(c) -> dict:
    return {
        "id": c.id, "buyer_id": c.customer.buyer_id, "buyer_nick": c.customer.nick,
        "agent": c.agent.name if c.agent else None, "started_at": c.started_at, "ended_at": c.ended_at,
        "message_count": c.message_count, "waiting": c.waiting,
    }


@router.get("/conversations", response=list[ConversationOut])
def conversations_get(request, filters: Query[ConversationFilter]):
    shop, member = request.auth.shop_for(filters.shop)
    limit = max(1, min(filters.limit, 500))
    qs = conversation_list(shop=shop, member=member, agent_id=filters.agent_id, waiting=filters.waiting, q=filters.q)
    return [_conv_out(c) for c in qs[max(0, filters.offset) : max(0, filters.offset) + limit]]


@router.get("/conversations/{conversation_id}", response=ConversationDetailOut)
def conversation_get(request, conversation_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    msgs = [
        {"message_id": m.message_id, "channel": m.channel, "sender": m.sender,
         "agent": m.agent.name if m.agent else None, "sent_at": m.sent_at, "text": m.text, "order_id": m.order_ref}
        for m in conversation_messages(conversation=conv)
    ]
    return {**_conv_out(conv), "messages": msgs}

