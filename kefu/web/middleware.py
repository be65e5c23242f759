"""Request-wide page behaviour: htmx messages as toasts, shop time for every rendering."""

import json

from django.contrib import messages
from django.utils import timezone

EVENT = "kefu:messages"


class HtmxMessagesMiddleware:
    """After an htmx request, the messages its view queued (and the response did not render) are
    moved into the `HX-Trigger` header; `web/kefu.js` shows them as toasts. Without this, a message
    from an htmx action would wait for the next full page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or 300 <= response.status_code < 400:
            return response  # a redirect's target shows them
        if "HX-Redirect" in response or "HX-Refresh" in response or "HX-Location" in response:
            return response
        items = [{"level": m.level_tag, "text": str(m)} for m in messages.get_messages(request)]
        if not items:
            return response
        trigger = response.get("HX-Trigger")
        events: dict = {}
        if trigger:
            try:
                events = json.loads(trigger)
            except ValueError:  # a comma-separated list of event names
                events = {name.strip(): None for name in trigger.split(",") if name.strip()}
        events[EVENT] = {"items": items}
        response["HX-Trigger"] = json.dumps(events, ensure_ascii=True)
        return response


class ShopTimezoneMiddleware:
    """Times render in the shop's time zone everywhere — full pages, htmx partials, forms — not only
    inside base.html's {% timezone %} block (an htmx approve showed 提交时间 in UTC)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        shop = getattr(request, "shop", None)
        if shop is None:
            return self.get_response(request)
        timezone.activate(shop.tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
