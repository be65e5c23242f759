"""Request middleware: the person's shop and membership, zh-hans first, and refusal of unstorable text."""

import json
import re

from django.http import HttpResponseBadRequest, JsonResponse

from .models import Agent


class ShopMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.shop = None
        request.member = None
        request.memberships = None  # None: not read (the API); else every shop the person works in
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/api/"):
            members = list(Agent.objects.select_related("shop")
                           .filter(user=user, active=True, shop__archived_at__isnull=True).order_by("shop__code"))
            request.memberships = members  # the shop switcher lists them (kefu.web.context)
            wanted = request.session.get("shop_id")
            member = next((m for m in members if m.shop_id == wanted), None) or next(iter(members), None)
            if member is not None:
                request.member = member
                request.shop = member.shop
        return self.get_response(request)


class ChineseFirstMiddleware:
    """zh-hans unless the person picked a language: the browser's Accept-Language is ignored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


_ESCAPES = re.compile(rb"\\u(0000|d[89a-f])", re.IGNORECASE)


def _bad_text(value) -> bool:
    """A NUL (PostgreSQL cannot store it) or a lone surrogate (not encodable as UTF-8)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _json_bad_field(data, path: str = "") -> str | None:
    if isinstance(data, str):
        return path or "body" if _bad_text(data) else None
    if isinstance(data, dict):
        for k, v in data.items():
            sub = f"{path}.{k}" if path else str(k)
            if _bad_text(str(k)):
                return sub
            found = _json_bad_field(v, sub)
            if found:
                return found
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found = _json_bad_field(v, f"{path}.{i}" if path else str(i))
            if found:
                return found
    return None


def bad_input_field(request) -> str | None:
    """The first path/query/form/JSON field holding text no database column may store, or None.

    One check for every route: a NUL byte reaches PostgreSQL as an error (a 500) wherever it is
    used in a query, so it is refused here, before any view or API parser runs.
    """
    if "\x00" in request.path_info:
        return "path"
    for key, values in request.GET.lists():
        if _bad_text(key) or any(_bad_text(v) for v in values):
            return key.replace("\x00", "") or "query"
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    ctype = request.content_type or ""
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, values in request.POST.lists():  # files are bytes and may hold anything
            if _bad_text(key) or any(_bad_text(v) for v in values):
                return key.replace("\x00", "") or "body"
    else:  # JSON (the API parses bodies as JSON whatever their declared type)
        body = request.body
        if b"\x00" in body:
            return "body"
        # Only a body that spells \u0000 or a \uD800–\uDFFF escape can hide bad text: parse just those.
        if _ESCAPES.search(body):
            try:
                data = json.loads(body)
            except ValueError:
                return None  # the API's parser answers malformed JSON itself
            return _json_bad_field(data)
    return None


class RejectBadTextMiddleware:
    """400 naming the field for a NUL byte (or unencodable text) anywhere in the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = bad_input_field(request)
        if field is None:
            return self.get_response(request)
        message = "contains a NUL character or text that cannot be stored"
        if request.path_info.startswith("/api/"):
            return JsonResponse({"code": "invalid", "field": field, "message": message}, status=400)
        return HttpResponseBadRequest(f"{field}: {message}", content_type="text/plain; charset=utf-8")
