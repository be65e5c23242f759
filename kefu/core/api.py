"""Shop settings and the scheduler's rules under /api/v1/."""

import datetime as dt

from ninja import Router, Schema

from .access import edits_settings, user_of
from .api_auth import AUTH
from .enums import AttributionBasis
from .errors import PermissionDenied
from .selectors import rules_status
from .services import shop_settings_update

router = Router(tags=["shop"], auth=AUTH)


class SettingsIn(Schema):
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


class SettingsOut(Schema):
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


class RuleOut(Schema):
    name: str
    label: str
    schedule: str
    last_fired_at: dt.datetime | None
    fired_last_day: int


def _settings_out(shop) -> dict:
    return {"shop": shop.code, **{f: getattr(shop, f) for f in SettingsOut.model_fields if f != "shop"}}


@router.get("/shop/settings", response=SettingsOut)
def settings_get(request, shop: str | None = None):
    shop_obj, _member = request.auth.shop_for(shop)
    return _settings_out(shop_obj)


@router.post("/shop/settings", response=SettingsOut)
def settings_post(request, payload: SettingsIn, shop: str | None = None):
    """Managers and admins change settings; a change of a metric setting rebuilds the shop's figures."""
    shop_obj, member = request.auth.shop_for(shop)
    if not edits_settings(member):
        raise PermissionDenied("managers and admins only", field="shop")
    changes = payload.model_dump(exclude_none=True)
    shop_obj = shop_settings_update(shop=shop_obj, actor=user_of(member), **changes)
    return _settings_out(shop_obj)


@router.get("/rules", response=list[RuleOut])
def rules_get(request, shop: str | None = None):
    """The time-based rules the scheduler runs (AUTO-2) and when each last fired for the shop."""
    shop_obj, _member = request.auth.shop_for(shop)
    return [r.__dict__ for r in rules_status(shop=shop_obj)]
