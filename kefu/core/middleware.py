"""Resolves the person's current shop and membership once per request."""

from .models import Agent


class ShopMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.shop = None
        request.member = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/api/"):
            members = Agent.objects.select_related("shop").filter(user=user, active=True).order_by("shop__code")
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
