"""The widget's public endpoints (/live/w/<key>/…): no login, no cookies of Kefu's own.

The shop key in the URL names the shop; a session token (header X-Kefu-Session, or ?t= where a
header cannot be set: the event stream and <img>) names the visitor. Each endpoint is rate-limited
per visitor and per address, and every error is JSON {code, field, message} with one status per
code (401 session, 403 identity/blocked, 404 key, 413/400 input, 429 rate).
"""

import json
from pathlib import Path

from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core.errors import KefuError, NotFound, http_status

from . import events, identity, ratelimit, selectors, services
from .enums import IdentityKind
from .events import Viewer
from .files import image_response, max_bytes
from .models import ChatAttachment, ReadMark
from .spam import buyer_blocked
from .stream import sse_response

STATIC = Path(__file__).resolve().parent / "static" / "livechat"
JSON_MAX = 16 * 1024


def _ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _error(exc: KefuError) -> JsonResponse:
    status = 401 if exc.code == "unauthorized" else http_status(exc)
    if exc.code == "file_size":
        status = 413
    return JsonResponse(exc.as_dict(), status=status)


def _json(request) -> dict:
    if len(request.body) > JSON_MAX:
        raise KefuError(f"the request is larger than {JSON_MAX // 1024} KB", field="body")
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise KefuError("not JSON", field="body") from None
    if not isinstance(data, dict):
        raise KefuError("must be a JSON object", field="body")
    return data


def endpoint(view):
    """Errors as JSON, never a 500 for bad input."""

    def wrapped(request, key, *args, **kwargs):
        try:
            widget = identity.widget_for_key(key)
            return view(request, widget, *args, **kwargs)
        except KefuError as exc:
            return _error(exc)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


def _visitor(request, widget):
    token = request.headers.get("X-Kefu-Session") or request.GET.get("t")
    return identity.visitor_for_session(widget=widget, token=token)


def _lang(request) -> str:
    lang = (request.GET.get("lang") or "").lower()
    return "en" if lang.startswith("en") else "zh-hans"


# ---------------------------------------------------------------- the loader and the frame

@require_GET
def loader_js(request):
    """The one <script> a shop pastes: a launcher button and an iframe (its own CSS and JS)."""
    resp = HttpResponse((STATIC / "widget.js").read_bytes(), content_type="text/javascript; charset=utf-8")
    resp["Cache-Control"] = "public, max-age=300"
    resp["Access-Control-Allow-Origin"] = "*"
    return resp


@xframe_options_exempt
@require_GET
def frame(request, key):
    """The chat panel inside the iframe (Kefu's origin: the host page's CSS and JS cannot reach it)."""
    try:
        widget = identity.widget_for_key(key)
    except KefuError:
        raise Http404("widget") from None
    lang = _lang(request)
    with translation.override(lang):
        resp = render(request, "livechat/frame.html", {"widget": widget, "shop": widget.shop, "lang": lang,
                                                      "max_mb": max_bytes() // (1024 * 1024)})
    origins = " ".join(widget.origins) or "*"
    resp["Content-Security-Policy"] = (f"frame-ancestors 'self' {origins}; default-src 'self'; img-src 'self' data: blob:; "
                                       "style-src 'self'; script-src 'self'; connect-src 'self'")
    return resp


# ---------------------------------------------------------------- the session

def _order_card(widget, visitor, order_id: str) -> dict | None:
    """The order the page passed: details only when it is this verified buyer's own order."""
    if not order_id:
        return None
    card = {"order_id": order_id}
    if visitor.kind == IdentityKind.VERIFIED:
        from kefu.orders.models import Order

        order = Order.objects.filter(shop_id=widget.shop_id, order_id=order_id, customer_id=visitor.customer_id).first()
        if order is not None:
            card.update({"title": order.title, "status": order.get_status_display(),
                         "amount": str(order.paid_amount or order.total_amount),
                         "created_at": order.created_at.isoformat() if order.created_at else None})
    return card


def _online(widget) -> bool:
    from kefu.conversations.routing import online_on_shift

    return bool(online_on_shift(shop=widget.shop, now=timezone.now()))


@endpoint
@require_POST
def session(request, widget):
    """Open (or resume) the visitor's chat: {session, visitor_token?, history, greeting, online, …}."""
    ratelimit.check(name="session_ip", subject=_ip(request))
    data = _json(request)
    visitor, raw = identity.visitor_session(
        widget=widget, visitor_token=data.get("visitor_token"), user_id=data.get("user_id"),
        user_hash=data.get("user_hash"), user_name=data.get("user_name"), ip=_ip(request),
        user_agent=request.headers.get("User-Agent", ""), page=data.get("page") or "")
    order_id = str(data.get("order_id") or "")[:64]
    event_id = events.latest_id()
    marks = dict(ReadMark.objects.filter(customer_id=visitor.customer_id)
                 .exclude(reader="buyer").values_list("reader", "message_pk"))
    return JsonResponse({
        "session": identity.session_token(visitor), "visitor_token": raw, "kind": visitor.kind,
        "event_id": event_id, "history": selectors.visitor_history(visitor=visitor),
        "agent_read_pk": max(marks.values(), default=0), "title": widget.title or widget.shop.name,
        "greeting": widget.greeting, "offline_greeting": widget.offline_greeting, "online": _online(widget),
        "order": _order_card(widget, visitor, order_id), "blocked": buyer_blocked(visitor.customer_id),
        "pending_rating": _pending_rating(visitor),
    })


def _pending_rating(visitor) -> dict | None:
    from kefu.complaints.enums import InvitationState
    from kefu.complaints.models import RatingInvitation

    inv = (RatingInvitation.objects.filter(shop_id=visitor.shop_id, customer_id=visitor.customer_id,
                                           state=InvitationState.SENT).select_related("agent").order_by("-id").first())
    return {"invitation_id": inv.pk, "agent": inv.agent.name} if inv else None


# ---------------------------------------------------------------- messages, images, typing, read, rating

@endpoint
@require_http_methods(["GET", "POST"])
def messages(request, widget):
    """GET ?after=<pk>: the visitor's messages since; POST {client_id, text, order_id?}: send one."""
    visitor = _visitor(request, widget)
    if request.method == "GET":
        after = request.GET.get("after", "0")
        after_pk = int(after) if after.isdigit() else 0
        return JsonResponse({"messages": selectors.visitor_history(visitor=visitor, after_pk=after_pk)})
    ratelimit.check(name="message_visitor", subject=str(visitor.pk))
    ratelimit.check(name="message_ip", subject=_ip(request))
    data = _json(request)
    msg, created = services.buyer_message_send(visitor=visitor, client_id=data.get("client_id"),
                                               text=data.get("text"), order_id=str(data.get("order_id") or ""))
    return JsonResponse({"message": services.message_wire(msg, []), "created": created},
                        status=201 if created else 200)


@endpoint
@require_POST
def images(request, widget):
    """POST multipart `file` + `client_id`: a photo (jpg/png/gif/webp ≤ KEFU_LIVE_IMAGE_MAX_MB)."""
    visitor = _visitor(request, widget)
    ratelimit.check(name="upload_visitor", subject=str(visitor.pk))
    ratelimit.check(name="message_ip", subject=_ip(request))
    upload = request.FILES.get("file")
    if upload is None:
        raise KefuError("required", field="file")
    if upload.size and upload.size > max_bytes():
        raise KefuError(f"larger than {max_bytes() // (1024 * 1024)} MB", field="file", code="file_size")
    msg, created = services.buyer_image_send(visitor=visitor, client_id=request.POST.get("client_id", ""),
                                             name=upload.name or "", data=upload.read(max_bytes() + 1),
                                             order_id=request.POST.get("order_id", ""))
    return JsonResponse({"message": selectors.messages_with_images([msg])[0], "created": created},
                        status=201 if created else 200)


@endpoint
@require_GET
def image(request, widget, attachment_id: int):
    """One image of the visitor's own chat (?thumb=1 for the thumbnail)."""
    visitor = _visitor(request, widget)
    att = ChatAttachment.objects.filter(pk=attachment_id, shop_id=widget.shop_id, customer_id=visitor.customer_id).first()
    if att is None:
        raise NotFound("image not found", field="attachment_id")
    thumb = request.GET.get("thumb") == "1" and bool(att.thumbnail_name)
    return image_response(att, thumbnail=thumb)


@endpoint
@require_POST
def typing(request, widget):
    visitor = _visitor(request, widget)
    ratelimit.check(name="typing_visitor", subject=str(visitor.pk))
    data = _json(request)
    services.buyer_typing(visitor=visitor, typing=bool(data.get("typing", True)))
    return HttpResponse(status=204)


@endpoint
@require_POST
def read(request, widget):
    visitor = _visitor(request, widget)
    ratelimit.check(name="read_visitor", subject=str(visitor.pk))
    data = _json(request)
    services.buyer_read(visitor=visitor, message_pk=data.get("message_pk"))
    return HttpResponse(status=204)


@endpoint
@require_POST
def rating(request, widget):
    """POST {invitation_id, score 1–5, comment?}: the buyer's service rating (CSAT)."""
    visitor = _visitor(request, widget)
    ratelimit.check(name="rating_visitor", subject=str(visitor.pk))
    data = _json(request)
    rated, created = services.buyer_rating(visitor=visitor, invitation_id=data.get("invitation_id"),
                                           score=data.get("score"), comment=data.get("comment") or "")
    return JsonResponse({"invitation_id": rated.invitation_id, "score": rated.score, "created": created},
                        status=201 if created else 200)


@endpoint
@require_GET
def stream(request, widget):
    """The visitor's event stream (SSE): messages of their chat, agents typing, read marks, close, rating."""
    visitor = _visitor(request, widget)
    viewer = Viewer.of_buyer(shop_id=widget.shop_id, customer_id=visitor.customer_id)
    release_connection()
    return sse_response(request, viewer)


def release_connection() -> None:
    """A stream may stay open for hours: give its database connection back before streaming."""
    if not connection.in_atomic_block:
        connection.close()
