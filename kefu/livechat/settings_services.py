"""Changes of a shop's widget settings (managers and admins, or the shop's integration token),
each with an audit row."""

from django.db import transaction

from kefu.core.access import edits_settings
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .enums import LiveError
from .identity import widget_settings_of
from .models import WidgetSettings, new_identity_secret

TEXT_FIELDS = {"title": 60, "greeting": 500, "offline_greeting": 500, "allowed_origins": 2000}
AWAY_MAX = 240


def _require_manager(by: Agent | None) -> None:
    if by is not None and not edits_settings(by):
        raise PermissionDenied("managers and admins change the widget", code=LiveError.FORBIDDEN)


def _check_origins(text: str) -> str:
    lines = [line.strip().rstrip("/") for line in text.splitlines() if line.strip()]
    for line in lines:
        if not (line.startswith("https://") or line.startswith("http://")) or " " in line or "/" in line[8:]:
            raise KefuError(f"not an origin like https://shop.example.com: {line!r}", field="allowed_origins",
                            code=LiveError.INVALID)
    return "\n".join(lines)


def widget_settings_update(*, shop: Shop, by: Agent | None = None, actor=None, **changes) -> WidgetSettings:
    _require_manager(by)
    with transaction.atomic():
        ws = WidgetSettings.objects.select_for_update().get(pk=widget_settings_of(shop).pk)
        before = {k: getattr(ws, k) for k in changes if hasattr(ws, k)}
        for key, value in changes.items():
            if key == "enabled":
                if not isinstance(value, bool):
                    raise KefuError("must be true or false", field=key, code=LiveError.INVALID)
            elif key == "away_after_minutes":
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= AWAY_MAX:
                    raise KefuError(f"must be a whole number of minutes from 0 (never) to {AWAY_MAX}", field=key,
                                    code=LiveError.INVALID)
            elif key in TEXT_FIELDS:
                value = clean_text(value, field=key, max_len=TEXT_FIELDS[key],
                                   required=key in ("greeting", "offline_greeting"))
                if key == "allowed_origins":
                    value = _check_origins(value)
            else:
                raise KefuError("unknown setting", field=key, code=LiveError.INVALID)
            setattr(ws, key, value)
        ws.save()
        audit_record(shop=shop, actor=actor, action="livechat.widget", entity=ws, before=before,
                     after={k: getattr(ws, k) for k in changes})
    return ws


def widget_secret_rotate(*, shop: Shop, by: Agent | None = None, actor=None) -> WidgetSettings:
    _require_manager(by)
    with transaction.atomic():
        ws = WidgetSettings.objects.select_for_update().get(pk=widget_settings_of(shop).pk)
        ws.identity_secret = new_identity_secret()
        ws.save(update_fields=["identity_secret", "updated_at"])
        audit_record(shop=shop, actor=actor, action="livechat.secret_rotate", entity=ws, after={"rotated": True})
    return ws
