"""Shop settings and the scheduler's rules under /api/v1/."""

import datetime as dt

from ninja import Router, Schema

from .access import edits_settings, user_of
from .api_auth import AUTH
from .enums import AttributionBasis
from .errors import PermissionDenied
from .selectors import rules_status, tokens_of
from .services import shop_settings_update, token_create, token_revoke

router = Router(tags=["shop"], auth=AUTH)


class ShopSettingsIn(Schema):
    name: str | None = None
    timezone: str | None = None
    service_hours: dict | None = None
    attribution_window_days: int | None = None
    attribution_basis: AttributionBasis | None = None
    slow_turn_seconds: int | None = None
    aftersales_lookback_days: int | None = None
    takeback_days: int | None = None
    conversation_gap_minutes: int | None = None
    payment_reminder_minutes: int | None = None
    score_weights: dict[str, float] | None = None
    kpi_targets: dict[str, float] | None = None


class ShopSettingsOut(Schema):
    shop: str
    name: str
    timezone: str
    service_hours: dict
    attribution_window_days: int
    attribution_basis: str
    slow_turn_seconds: int
    aftersales_lookback_days: int
    takeback_days: int
    conversation_gap_minutes: int
    payment_reminder_minutes: int
    score_weights: dict
    kpi_targets: dict


class ScheduledRuleOut(Schema):
    name: str
    label: str
    schedule: str
    last_fired_at: dt.datetime | None
    fired_last_day: int


def _settings_out(shop) -> dict:
    return {"shop": shop.code, **{f: getattr(shop, f) for f in ShopSettingsOut.model_fields if f != "shop"}}


@router.get("/shop/settings", response=ShopSettingsOut)
def settings_get(request, shop: str | None = None):
    shop_obj, _member = request.auth.shop_for(shop)
    return _settings_out(shop_obj)


@router.post("/shop/settings", response=ShopSettingsOut)
def settings_post(request, payload: ShopSettingsIn, shop: str | None = None):
    """Managers and admins change settings; a change of a metric setting rebuilds the shop's figures."""
    shop_obj, member = request.auth.shop_for(shop)
    if not edits_settings(member):
        raise PermissionDenied("managers and admins only", field="shop")
    changes = payload.model_dump(exclude_none=True)
    shop_obj = shop_settings_update(shop=shop_obj, actor=user_of(member), **changes)
    return _settings_out(shop_obj)


@router.get("/rules", response=list[ScheduledRuleOut])
def rules_get(request, shop: str | None = None):
    """The time-based rules the scheduler runs (AUTO-2) and when each last fired for the shop."""
    shop_obj, _member = request.auth.shop_for(shop)
    return [r.__dict__ for r in rules_status(shop=shop_obj)]


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    token: str  # the only time the raw token is shown


def _token_admin(request, shop: str | None):
    """Managers and admins (logged in) manage tokens; a token cannot list or mint tokens."""
    shop_obj, member = request.auth.shop_for(shop)
    if not edits_settings(member):
        raise PermissionDenied("managers and admins only", field="shop")
    return shop_obj, member


@router.get("/tokens", response=list[TokenOut])
def tokens_get(request, shop: str | None = None):
    """The shop's API tokens: name, prefix, created, last used, revoked (never the token itself)."""
    shop_obj, _member = _token_admin(request, shop)
    return tokens_of(shop_obj)


@router.post("/tokens", response=TokenCreatedOut)
def tokens_post(request, payload: TokenIn, shop: str | None = None):
    """Create a token for an integration; the answer carries the token, shown this once."""
    shop_obj, member = _token_admin(request, shop)
    tok, raw = token_create(shop=shop_obj, name=payload.name, actor=user_of(member))
    return {**{f: getattr(tok, f) for f in TokenOut.model_fields}, "token": raw}


@router.post("/tokens/{token_id}/revoke", response=TokenOut)
def tokens_revoke(request, token_id: int, shop: str | None = None):
    """Revoke a token: it stops working at once."""
    shop_obj, member = _token_admin(request, shop)
    return token_revoke(shop=shop_obj, token_id=token_id, actor=user_of(member))
