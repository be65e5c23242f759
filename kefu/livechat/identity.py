"""Who is behind a widget: the shop (from its public key), the visitor and the buyer.

- Anonymous: the widget keeps a random visitor token in a cookie of the shop's own site; only its
  SHA-256 is stored. The token, not the shop key, is what opens a buyer's history.
- Verified (as Intercom and Chatwoot verify identity): the shop's page passes its user id and
  HMAC-SHA256(identity secret, user id) in hex, computed by the shop's server. A user id without
  a hash, or with a wrong one, is refused; the buyer is the shop's Customer with that buyer id, so
  orders imported from the shop's own store join the same buyer.
- Every later request carries a session token (Django signing, 7 days) naming shop, visitor and
  buyer; it is checked against the widget key of the URL, so a token of shop A is void at shop B.
"""

import hashlib
import hmac
import secrets

from django.core import signing
from django.db import transaction
from django.utils import timezone

from kefu.core.errors import KefuError, NotFound
from kefu.core.inputs import clean_text
from kefu.core.models import Shop
from kefu.customers.models import Customer
from kefu.customers.services import customers_resolve

from .enums import IdentityKind, LiveError
from .models import Visitor, WidgetSettings

SESSION_SALT = "kefu.livechat.session"
SESSION_MAX_AGE = 7 * 24 * 3600
ANON_PREFIX = "web-"


def widget_settings_of(shop: Shop) -> WidgetSettings:
    ws = WidgetSettings.objects.filter(shop=shop).first()
    if ws is None:
        ws, _ = WidgetSettings.objects.get_or_create(shop=shop)
    return ws


def widget_for_key(key: str) -> WidgetSettings:
    """The enabled widget with this public key (404 otherwise: no hint which keys exist)."""
    ws = (WidgetSettings.objects.select_related("shop").filter(key=str(key or "")[:40], enabled=True).first()
          if key else None)
    if ws is None:
        raise NotFound("widget not found", field="key")
    return ws


def identity_hash(secret: str, user_id: str) -> str:
    """What the shop's server computes for a logged-in buyer: hex HMAC-SHA256(secret, user id)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _visitor_by_token(shop: Shop, raw: str | None) -> Visitor | None:
    if not raw or not isinstance(raw, str) or len(raw) > 100:
        return None
    return Visitor.objects.filter(shop=shop, token_hash=token_hash(raw)).select_related("customer").first()


def visitor_session(*, widget: WidgetSettings, visitor_token: str | None = None, user_id: str | None = None,
                    user_hash: str | None = None, user_name: str | None = None, ip: str | None = None,
                    user_agent: str = "", page: str = "", now=None) -> tuple[Visitor, str | None]:
    """The visitor of this browser: returning (token) or new. Returns (visitor, new raw token or
    None when the browser's token stays valid)."""
    shop = widget.shop
    now = now or timezone.now()
    user_id = clean_text(user_id, field="user_id", max_len=120)
    user_name = clean_text(user_name, field="user_name", max_len=120)
    page = (page or "")[:300] if isinstance(page, str) else ""
    user_agent = (user_agent or "")[:200]
    if user_hash not in (None, "") and not user_id:
        raise KefuError("a user hash without a user id", field="user_id", code=LiveError.IDENTITY)
    if user_id:
        if not isinstance(user_hash, str) or not hmac.compare_digest(
                user_hash.strip().lower(), identity_hash(widget.identity_secret, user_id)):
            raise KefuError("the user id is not signed by the shop (user_hash missing or wrong)",
                            field="user_hash", code=LiveError.IDENTITY)
        if user_id.startswith(ANON_PREFIX):
            raise KefuError(f"user ids starting with {ANON_PREFIX!r} are reserved for anonymous visitors",
                            field="user_id", code=LiveError.IDENTITY)
    with transaction.atomic():
        known = _visitor_by_token(shop, visitor_token)
        if user_id:
            customer_id = customers_resolve(shop=shop, nicks={user_id: user_name})[user_id]
            if user_name:
                Customer.objects.filter(pk=customer_id, nick="").update(nick=user_name)
            if known is not None and known.kind == IdentityKind.VERIFIED and known.customer_id == customer_id:
                return _touch(known, ip, user_agent, page, now), None
            return _new_visitor(shop, customer_id, IdentityKind.VERIFIED, user_id, ip, user_agent, page, now)
        # No identity: the browser's own anonymous history, never a verified buyer's (who logged out).
        if known is not None and known.kind == IdentityKind.ANONYMOUS:
            return _touch(known, ip, user_agent, page, now), None
        buyer_id = ANON_PREFIX + secrets.token_urlsafe(12)
        # A readable name for the lists (访客 = visitor) until the buyer logs in on the shop's site.
        customer_id = customers_resolve(shop=shop, nicks={buyer_id: f"访客{buyer_id[-4:]}"})[buyer_id]
        return _new_visitor(shop, customer_id, IdentityKind.ANONYMOUS, "", ip, user_agent, page, now)


def _touch(v: Visitor, ip, user_agent, page, now) -> Visitor:
    v.ip, v.user_agent, v.page, v.last_seen_at = ip, user_agent, page, now
    v.save(update_fields=["ip", "user_agent", "page", "last_seen_at"])
    return v


def _new_visitor(shop, customer_id, kind, external_id, ip, user_agent, page, now) -> tuple[Visitor, str]:
    raw = secrets.token_urlsafe(32)
    v = Visitor.objects.create(shop=shop, customer_id=customer_id, token_hash=token_hash(raw), kind=kind,
                               external_id=external_id, ip=ip, user_agent=user_agent, page=page, last_seen_at=now)
    v = Visitor.objects.select_related("customer").get(pk=v.pk)
    return v, raw


def session_token(visitor: Visitor) -> str:
    return signing.dumps({"s": visitor.shop_id, "v": visitor.pk, "c": visitor.customer_id}, salt=SESSION_SALT,
                         compress=True)


def visitor_for_session(*, widget: WidgetSettings, token: str | None) -> Visitor:
    """The visitor a session token names, at this widget's shop; 401-like refusal otherwise."""
    try:
        data = signing.loads(token or "", salt=SESSION_SALT, max_age=SESSION_MAX_AGE)
    except signing.BadSignature:
        raise KefuError("the chat session expired; reload the page", field="session",
                        code="unauthorized") from None
    if data.get("s") != widget.shop_id:
        raise NotFound("widget not found", field="key")
    v = (Visitor.objects.select_related("customer", "shop")
         .filter(pk=data.get("v"), shop_id=widget.shop_id, customer_id=data.get("c")).first())
    if v is None:
        raise KefuError("the chat session is no longer valid; reload the page", field="session", code="unauthorized")
    return v
