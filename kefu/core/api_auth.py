"""API authentication: a per-integration bearer token, or a logged-in person's session."""

from dataclasses import dataclass

from django.http import Http404
from ninja.security import APIKeyCookie, HttpBearer

from .access import shop_for_user
from .models import Agent, Shop
from .services import token_authenticate


@dataclass
class Principal:
    shop: Shop | None  # fixed for a token; chosen per request for a person
    member: Agent | None = None
    user: object = None
    token: object = None

    def shop_for(self, code: str | None) -> tuple[Shop, Agent | None]:
        """The shop a request names, if this principal may use it; 404 otherwise."""
        if self.token is not None:
            if code and code != self.shop.code:
                raise Http404("shop")
            return self.shop, None
        if not code:
            raise Http404("shop")
        return shop_for_user(user=self.user, code=code)


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        tok = token_authenticate(token)
        if tok is None:
            return None
        return Principal(shop=tok.shop, token=tok)


class SessionAuth(APIKeyCookie):
    """Django's session cookie; CSRF is checked for unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return Principal(shop=None, user=user)


AUTH = [TokenAuth(), SessionAuth()]
