"""The live workspace's JSON API (a person's session or, where it makes sense, a token).

Replies, transfers, notes and reopening use the conversation routes (/api/v1/conversations/…);
these add what only a live chat has. Every route answers 404 for another shop's conversation.
"""

from django.http import Http404
from ninja import Router, Schema, Status

from kefu.conversations.selectors import conversation_get_for_user
from kefu.core.access import edits_settings, sees_whole_shop, user_of
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, PermissionDenied

from . import events, selectors, services, spam
from .enums import LiveError
from .identity import widget_settings_of
from .models import SpamReport
from .settings_services import widget_secret_rotate, widget_settings_update

router = Router(tags=["live chat"], auth=AUTH)


class ReadIn(Schema):
    message_pk: int


class TypingIn(Schema):
    typing: bool = True


class LiveScriptIn(Schema):
    script_id: int


class Empty(Schema):
    pass


class WidgetIn(Schema):
    enabled: bool | None = None
    title: str | None = None
    greeting: str | None = None
    offline_greeting: str | None = None
    allowed_origins: str | None = None
    away_after_minutes: int | None = None


def _person(request, shop: str | None):
    shop_obj, member = request.auth.shop_for(shop)
    if member is None:
        raise PermissionDenied("the live workspace is a person's", code=LiveError.FORBIDDEN)
    return shop_obj, member


def _chat(request, shop, conversation_id):
    shop_obj, member = _person(request, shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    return shop_obj, member, conv


@router.get("/live/chats")
def live_chats(request, shop: str | None = None):
    """The workspace list: my open chats and my group's queue, with unread counts and waiting time.
    `event_id`: open the stream (/live/stream?after=) from there so nothing falls between."""
    shop_obj, member = _person(request, shop)
    event_id = events.latest_id()
    return {"event_id": event_id, "chats": selectors.chats_for_member(shop=shop_obj, member=member)}


@router.get("/live/chats/{conversation_id}")
def live_chat(request, conversation_id: int, shop: str | None = None, after_pk: int = 0):
    """One chat: its summary, messages (with images) and internal notes."""
    shop_obj, member, conv = _chat(request, shop, conversation_id)
    event_id = events.latest_id()
    return {"event_id": event_id, "chat": selectors.chat_summary(shop=shop_obj, member=member, conversation=conv),
            "messages": selectors.chat_messages(conversation=conv, after_pk=max(0, after_pk)),
            "notes": selectors.chat_notes(conversation=conv),
            "may_act": services.agent_may_act(member, conv)}


@router.post("/live/chats/{conversation_id}/read", response={204: None})
def live_read(request, conversation_id: int, payload: ReadIn, shop: str | None = None):
    """I have read the chat up to this message (my unread count drops; the buyer sees 已读)."""
    shop_obj, member, conv = _chat(request, shop, conversation_id)
    services.agent_read(shop=shop_obj, conversation=conv, by=member, message_pk=payload.message_pk)
    return Status(204, None)


@router.post("/live/chats/{conversation_id}/typing", response={204: None})
def live_typing(request, conversation_id: int, payload: TypingIn, shop: str | None = None):
    shop_obj, member, conv = _chat(request, shop, conversation_id)
    if not services.agent_may_act(member, conv):
        raise PermissionDenied("not your chat", code=LiveError.FORBIDDEN)
    services.agent_typing(shop=shop_obj, conversation=conv, by=member, typing=payload.typing)
    return Status(204, None)


@router.post("/live/chats/{conversation_id}/images", response={201: dict, 200: dict}, openapi_extra={
    "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}, "client_id": {"type": "string"}}}}}}})
def live_image(request, conversation_id: int, shop: str | None = None):
    """Send a photo into a web chat as multipart `file` + `client_id` (jpg/png/gif/webp, checked by
    content, ≤ KEFU_LIVE_IMAGE_MAX_MB); a resend with the same client_id returns the first (200)."""
    from .files import max_bytes

    shop_obj, member, conv = _chat(request, shop, conversation_id)
    upload = request.FILES.get("file")
    if upload is None:
        raise KefuError("a multipart file field named file", field="file", code=LiveError.INVALID)
    if upload.size and upload.size > max_bytes():
        raise KefuError(f"larger than {max_bytes() // (1024 * 1024)} MB", field="file", code=LiveError.FILE_SIZE)
    msg, created = services.agent_image_send(shop=shop_obj, conversation=conv, by=member,
                                             client_id=request.POST.get("client_id", ""), name=upload.name or "",
                                             data=upload.read(max_bytes() + 1))
    return Status(201 if created else 200, selectors.messages_with_images([msg])[0])


@router.post("/live/chats/{conversation_id}/script")
def live_script(request, conversation_id: int, payload: LiveScriptIn, shop: str | None = None):
    """A script's text with its variables filled from this chat; refused (400 unfilled_variable)
    when a variable has no value here, naming it, so a half-filled script is never sent."""
    from kefu.replies.selectors import script_context, script_get_for_user
    from kefu.replies.services import script_fill
    from kefu.replies.variables import variables_unfilled

    shop_obj, member, conv = _chat(request, shop, conversation_id)
    script = script_get_for_user(shop=shop_obj, member=member, id=payload.script_id)
    text = script_fill(script_body=script.body, values=script_context(shop=shop_obj, member=member, conversation=conv))
    missing = variables_unfilled(text)
    if missing:
        raise KefuError(f"this chat has no value for {'、'.join('{' + n + '}' for n in missing)}", field="script_id",
                        code=LiveError.UNFILLED)
    return {"script_id": script.pk, "text": text}


@router.post("/live/chats/{conversation_id}/close")
def live_close(request, conversation_id: int, payload: Empty, shop: str | None = None):
    """Close the chat; a web chat's buyer is invited to rate the service in the widget at once."""
    shop_obj, member, conv = _chat(request, shop, conversation_id)
    conv = services.chat_close(shop=shop_obj, conversation=conv, by=member)
    return {"conversation_id": conv.pk, "closed_at": conv.closed_at}


@router.post("/live/chats/{conversation_id}/spam")
def live_spam(request, conversation_id: int, payload: Empty, shop: str | None = None):
    """Flag the chat's buyer as spam. A supervisor's flag takes the buyer out of every figure at
    once; an agent's flag is a report (`report_id`): the buyer is blocked in the widget and the chat
    leaves the workspace, but stays in the figures until a supervisor confirms
    (POST /live/spam-reports/{id}/confirm). Supervisors clear a flag with POST /customers/{buyer_id}/spam."""
    shop_obj, member, conv = _chat(request, shop, conversation_id)
    customer, report = spam.chat_spam_flag(shop=shop_obj, conversation=conv, by=member)
    return {"buyer_id": customer.buyer_id, "is_spam": customer.is_spam, "report_id": report.pk if report else None,
            "pending": report is not None}


def _supervisor(request, shop):
    shop_obj, member = _person(request, shop)
    if not sees_whole_shop(member):
        raise Http404("spam reports")
    return shop_obj, member


def _report(shop_obj, report_id: int):
    report = SpamReport.objects.filter(shop=shop_obj, pk=report_id).first()
    if report is None:
        raise Http404("spam report")
    return report


@router.get("/live/spam-reports")
def spam_reports(request, shop: str | None = None):
    """Agents' spam reports waiting for a supervisor, oldest first (supervisors and up)."""
    shop_obj, _member = _supervisor(request, shop)
    return {"reports": spam.spam_reports_pending(shop=shop_obj)}


@router.post("/live/spam-reports/{report_id}/confirm")
def spam_report_confirm(request, report_id: int, payload: Empty, shop: str | None = None):
    """Confirm: the buyer is flagged as spam and leaves every figure."""
    shop_obj, member = _supervisor(request, shop)
    r = spam.spam_report_decide(shop=shop_obj, report=_report(shop_obj, report_id), by=member, confirm=True)
    return {"id": r.pk, "state": r.state}


@router.post("/live/spam-reports/{report_id}/reject")
def spam_report_reject(request, report_id: int, payload: Empty, shop: str | None = None):
    """Reject: the buyer may chat again and stays in the figures."""
    shop_obj, member = _supervisor(request, shop)
    r = spam.spam_report_decide(shop=shop_obj, report=_report(shop_obj, report_id), by=member, confirm=False)
    return {"id": r.pk, "state": r.state}


@router.get("/live/overview")
def live_overview_get(request, shop: str | None = None):
    """The supervisors' live view: who is online, chats each holds, buyers waiting and since when."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not sees_whole_shop(member):
        raise PermissionDenied("supervisors, managers and admins only", code=LiveError.FORBIDDEN)
    return {"event_id": events.latest_id(), **selectors.live_overview(shop=shop_obj),
            "spam_reports": spam.spam_reports_pending(shop=shop_obj)}


def _widget_out(ws, *, secret: bool) -> dict:
    return {"key": ws.key, "enabled": ws.enabled, "title": ws.title, "greeting": ws.greeting,
            "offline_greeting": ws.offline_greeting, "allowed_origins": ws.allowed_origins,
            "away_after_minutes": ws.away_after_minutes,
            "identity_secret": ws.identity_secret if secret else None}


@router.get("/live/widget")
def widget_get(request, shop: str | None = None):
    """The shop's widget settings (supervisors and up; the identity secret to managers and tokens)."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not sees_whole_shop(member):
        raise Http404("widget")
    return _widget_out(widget_settings_of(shop_obj), secret=member is None or edits_settings(member))


@router.post("/live/widget")
def widget_post(request, payload: WidgetIn, shop: str | None = None):
    """Change the widget (managers and admins, or a token)."""
    shop_obj, member = request.auth.shop_for(shop)
    ws = widget_settings_update(shop=shop_obj, by=member, actor=user_of(member), **payload.dict(exclude_none=True))
    return _widget_out(ws, secret=True)


@router.post("/live/widget/rotate-secret")
def widget_rotate(request, payload: Empty, shop: str | None = None):
    """A new identity secret: identities signed with the old one are refused from now on."""
    shop_obj, member = request.auth.shop_for(shop)
    ws = widget_secret_rotate(shop=shop_obj, by=member, actor=user_of(member))
    return _widget_out(ws, secret=True)
