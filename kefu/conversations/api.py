from django.conf import settings
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status

from kefu.core.access import user_of
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.inputs import MAX_OFFSET, json_body, openapi_body
from kefu.core.models import Agent

from . import routing, services
from .enums import ConversationError
from .schemas import (
    CapIn,
    ConversationDetailOut,
    ConversationNoteIn,
    ConversationOut,
    Empty,
    IngestOut,
    MergeIn,
    MessageBatchIn,
    MessageIn,
    NoteOut,
    ReplyIn,
    ReplyOut,
    RoutingSettingsIn,
    RoutingSettingsOut,
    SavedViewIn,
    SavedViewOut,
    TransferIn,
)
from .selectors import (
    BUILTIN_VIEWS,
    clean_filters,
    conversation_events,
    conversation_get_for_user,
    conversation_list,
    conversation_messages,
    conversation_notes,
    conversation_outbound,
    saved_view_get,
    saved_views_of,
)
from .services import messages_clean, messages_ingest

router = Router(tags=["messages"], auth=AUTH)


@router.post("/messages", response=IngestOut, openapi_extra=openapi_body(MessageIn, MessageBatchIn))
def messages_post(request, shop: str | None = None):
    """One message, or `{"messages": [...]}` with up to 1,000. Idempotent by message_id.

    A buyer message without `agent_id` is routed (CONV-2): to an agent of the right group on shift
    and online under their cap, sticky to the buyer's last agent, else queued until shift start.

    A bad message rejects the whole request (422) with every error as {index, field, message}.
    """
    shop_obj, _ = request.auth.shop_for(shop)
    raws = json_body(request, list_key="messages", limit=settings.KEFU_MAX_BATCH)
    rows = messages_clean(raws, tz=shop_obj.tz, first_row=0, routed=True)
    result = messages_ingest(shop=shop_obj, rows=rows, route=True)
    return {"created": result.created, "duplicates": result.duplicates}


class ConversationFilter(Schema):
    shop: str | None = None
    view: str | None = None
    agent_id: int | None = None
    waiting: bool | None = None
    group: str | None = None
    status: str | None = None
    flag: str | None = None
    q: str = ""
    limit: int = 50
    offset: int = Field(0, le=MAX_OFFSET)


def _conv_out(c) -> dict:
    return {
        "id": c.id, "buyer_id": c.customer.buyer_id, "buyer_nick": c.customer.nick,
        "agent": c.agent.name if c.agent else None, "assignee_id": c.assignee_id,
        "assignee": c.assignee.name if c.assignee else None, "group": c.group,
        "queued": c.queued_at is not None and c.assignee_id is None, "queue_reason": c.queue_reason,
        "closed_at": c.closed_at, "merged_into_id": c.merged_into_id,
        "started_at": c.started_at, "ended_at": c.ended_at, "message_count": c.message_count, "waiting": c.waiting,
    }


@router.get("/conversations", response=list[ConversationOut])
def conversations_get(request, filters: Query[ConversationFilter]):
    """Conversations, newest first. `view`: all, unassigned, waiting, mine, group (CONV-6);
    `status`: open, closed, queued; `group`: presales, aftersales; `flag`: a QA-3 automatic flag
    (unanswered, slow_turn, anger, rude, banned, promise, after_hours)."""
    shop, member = request.auth.shop_for(filters.shop)
    limit = max(1, min(filters.limit, 500))
    f = clean_filters({"view": filters.view, "waiting": filters.waiting if filters.waiting is None else int(filters.waiting),
                       "agent": filters.agent_id, "q": filters.q, "group": filters.group, "status": filters.status,
                       "flag": filters.flag})
    qs = conversation_list(shop=shop, member=member, **f)
    return [_conv_out(c) for c in qs[max(0, filters.offset) : max(0, filters.offset) + limit]]


def _detail(conv, member) -> dict:
    msgs = [
        {"message_id": m.message_id, "channel": m.channel, "sender": m.sender,
         "agent": m.agent.name if m.agent else None, "sent_at": m.sent_at, "text": m.text, "order_id": m.order_ref}
        for m in conversation_messages(conversation=conv)
    ]
    events = [{"kind": e.kind, "from_agent": e.from_agent.name if e.from_agent else None,
               "to_agent": e.to_agent.name if e.to_agent else None, "by": e.by_label, "reason": e.reason, "at": e.at}
              for e in conversation_events(conversation=conv)]
    notes = None
    if member is not None:
        notes = [_note_out(n) for n in conversation_notes(conversation=conv)]
    outbound = [{"id": o.id, "kind": o.kind, "text": o.text, "state": o.state, "created_at": o.created_at}
                for o in conversation_outbound(conversation=conv)]
    return {**_conv_out(conv), "messages": msgs, "events": events, "notes": notes, "outbound": outbound}


def _note_out(n) -> dict:
    return {"id": n.id, "author": n.author_label, "text": n.text, "created_at": n.created_at}


@router.get("/conversations/{conversation_id}", response=ConversationDetailOut)
def conversation_get(request, conversation_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    return _detail(conv, member)


def _agent(shop, agent_id: int) -> Agent:
    agent = Agent.objects.filter(shop=shop, pk=agent_id).first()
    if agent is None:
        raise Http404("agent")
    return agent


@router.post("/conversations/{conversation_id}/transfer", response=ConversationOut)
def conversation_transfer_post(request, conversation_id: int, payload: TransferIn, shop: str | None = None):
    """Transfer to another agent (or assign an unassigned one); the history stays. CONV-2."""
    shop_obj, member = request.auth.shop_for(shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    to_agent = Agent.objects.filter(shop=shop_obj, pk=payload.to_agent_id).first()
    if to_agent is None:
        raise KefuError("no such agent in this shop", field="to_agent_id", code=ConversationError.INVALID)
    conv = services.conversation_transfer(shop=shop_obj, conversation=conv, to_agent=to_agent, by=member,
                                          reason=payload.reason or "")
    return _conv_out(conv)


@router.post("/conversations/{conversation_id}/close", response=ConversationOut)
def conversation_close_post(request, conversation_id: int, payload: Empty, shop: str | None = None):
    """Close the conversation: it stops counting against the agent's concurrency cap."""
    shop_obj, member = request.auth.shop_for(shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    return _conv_out(services.conversation_close(shop=shop_obj, conversation=conv, by=member))


@router.post("/conversations/{conversation_id}/reopen", response=ConversationOut)
def conversation_reopen_post(request, conversation_id: int, payload: Empty, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    return _conv_out(services.conversation_close(shop=shop_obj, conversation=conv, by=member, reopen=True))


@router.get("/conversations/{conversation_id}/notes", response=list[NoteOut])
def conversation_notes_get(request, conversation_id: int, shop: str | None = None):
    """Internal notes (people of the shop only; an integration token is refused)."""
    shop_obj, member = request.auth.shop_for(shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    if member is None:
        raise PermissionDenied("internal notes are for the shop's people", code=ConversationError.FORBIDDEN)
    return [_note_out(n) for n in conversation_notes(conversation=conv)]


@router.post("/conversations/{conversation_id}/notes", response={201: NoteOut})
def conversation_note_post(request, conversation_id: int, payload: ConversationNoteIn, shop: str | None = None):
    """Add an internal note (never sent to the buyer)."""
    shop_obj, member = request.auth.shop_for(shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    if member is None:
        raise PermissionDenied("internal notes are written by the shop's people", code=ConversationError.FORBIDDEN)
    note = services.note_add(shop=shop_obj, conversation=conv, by=member, text=payload.text)
    return Status(201, _note_out(note))


@router.post("/conversations/{conversation_id}/merge", response=ConversationOut)
def conversation_merge_post(request, conversation_id: int, payload: MergeIn, shop: str | None = None):
    """Merge this conversation into `target_id` (same buyer); returns the target."""
    shop_obj, member = request.auth.shop_for(shop)
    src = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    try:
        dst = conversation_get_for_user(shop=shop_obj, member=member, id=payload.target_id)
    except Http404:
        raise KefuError("no such conversation", field="target_id", code=ConversationError.INVALID) from None
    dst = services.conversation_merge(shop=shop_obj, source=src, target=dst, by=member)
    return _conv_out(conversation_get_for_user(shop=shop_obj, member=member, id=dst.pk))


@router.post("/conversations/{conversation_id}/reply", response={201: ReplyOut, 200: ReplyOut})
def conversation_reply_post(request, conversation_id: int, payload: ReplyIn, shop: str | None = None):
    """Reply to the buyer through the outbound channel (queued in the outbox). `key` makes a resend
    of the same reply return the first one (200) instead of sending twice."""
    shop_obj, member = request.auth.shop_for(shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    msg, created = services.conversation_reply(shop=shop_obj, conversation=conv, by=member, text=payload.text,
                                               key=payload.key)
    return Status(201 if created else 200, {"id": msg.pk, "state": msg.state, "created": created})


# ---------------------------------------------------------------- saved views (CONV-6)

def _builtin_out() -> list[dict]:
    return [{"id": None, "key": v.key, "name": str(v.label), "params": {"view": v.key}, "builtin": True}
            for v in BUILTIN_VIEWS]


def _view_out(v) -> dict:
    return {"id": v.pk, "key": f"saved-{v.pk}", "name": v.name, "params": v.params, "builtin": False}


@router.get("/conversation-views", response=list[SavedViewOut])
def views_get(request, shop: str | None = None):
    """The built-in views, then the person's own saved filters."""
    shop_obj, member = request.auth.shop_for(shop)
    return _builtin_out() + [_view_out(v) for v in saved_views_of(shop=shop_obj, member=member)]


@router.post("/conversation-views", response={201: SavedViewOut})
def view_post(request, payload: SavedViewIn, shop: str | None = None):
    """Save a filter of the conversation list under a name (params: view, q, waiting, agent, group, status)."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is None:
        raise PermissionDenied("saved views belong to a person", code=ConversationError.FORBIDDEN)
    view = services.saved_view_create(shop=shop_obj, owner=member, name=payload.name, params=payload.params)
    return Status(201, _view_out(view))


@router.post("/conversation-views/{view_id}/delete", response={204: None})
def view_delete(request, view_id: int, payload: Empty, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    view = saved_view_get(shop=shop_obj, member=member, id=view_id)
    services.saved_view_delete(shop=shop_obj, view=view)
    return Status(204, None)


# ---------------------------------------------------------------- routing settings

def _settings_out(rs) -> dict:
    return {"default_cap": rs.default_cap, "sticky": rs.sticky, "offline_greeting": rs.offline_greeting,
            "aftersales_words": rs.aftersales_words}


@router.get("/routing/settings", response=RoutingSettingsOut)
def routing_settings_get(request, shop: str | None = None):
    shop_obj, _ = request.auth.shop_for(shop)
    return _settings_out(routing.routing_settings(shop_obj))


@router.post("/routing/settings", response=RoutingSettingsOut)
def routing_settings_post(request, payload: RoutingSettingsIn, shop: str | None = None):
    """Change the default per-agent cap, sticky routing, the offline greeting ({shop}, {agent}) or
    the after-sales words. Supervisors and up, or a token."""
    shop_obj, member = request.auth.shop_for(shop)
    changes = payload.dict(exclude_none=True)
    rs = services.routing_settings_update(shop=shop_obj, by=member, actor=user_of(member), **changes)
    return _settings_out(rs)


@router.post("/agents/{agent_id}/cap", response=CapIn)
def agent_cap_post(request, agent_id: int, payload: CapIn, shop: str | None = None):
    """Set an agent's concurrency cap (null = the shop default)."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = _agent(shop_obj, agent_id)
    services.agent_cap_set(shop=shop_obj, agent=agent, cap=payload.cap, by=member, actor=user_of(member))
    return {"cap": payload.cap}
