"""Webhooks, automation rules, event schemas and tracking pushes under /api/v1/ (AUTO-2, AUTO-4, IN-4)."""

from django.http import Http404
from ninja import Query, Router, Status

from kefu.core.access import sees_whole_shop
from kefu.core.api_auth import AUTH
from kefu.core.errors import PermissionDenied

from . import rules as rules_mod
from . import selectors as sel
from . import webhooks
from .events import envelope_schema, event_types
from .schemas import (
    DeliveryOut,
    DryRunIn,
    DryRunOut,
    EventTypeOut,
    FiringOut,
    RuleIn,
    RuleOut,
    TrackingOut,
    WebhookIn,
    WebhookOut,
)
from .tracking import events_clean, push_parse, tracking_ingest

router = Router(tags=["integrations"], auth=AUTH)


def _shop_wide(request, shop):
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not sees_whole_shop(member):
        raise PermissionDenied("supervisors, managers and integrations only", field="shop")
    return shop_obj, member


def webhook_out(s) -> dict:
    return {"id": s.pk, "name": s.name, "url": s.url, "event_types": s.event_types, "active": s.active,
            "failures": s.failures, "failing_since": s.failing_since, "disabled_reason": s.disabled_reason,
            "secret": s.secret}


def delivery_out(d) -> dict:
    return {"id": d.pk, "event_id": str(d.event.event_id), "event_type": d.event.type, "state": d.state,
            "attempts": d.attempts, "status_code": d.status_code, "latency_ms": d.latency_ms, "response": d.response,
            "error": d.error, "next_attempt_at": d.next_attempt_at, "created_at": d.created_at,
            "delivered_at": d.delivered_at}


def type_out(et) -> dict:
    return {"name": et.name, "label": str(et.label), "subject": et.subject,
            "schema_url": f"/api/v1/webhooks/event-types/{et.name}/schema", "data_schema": et.schema,
            "example": et.example}


# ---------------------------------------------------------------- event types (public documentation)

@router.get("/webhooks/event-types", response=list[EventTypeOut])
def event_types_get(request, shop: str | None = None):
    """Every event type with the JSON Schema of its `data` (the whole body: `…/{name}/schema`).

    Each POST is `{"id", "type", "created_at", "shop", "subject", "data"}` with the headers
    X-Kefu-Event, X-Kefu-Event-Id (de-duplicate on it), X-Kefu-Delivery, X-Kefu-Timestamp and
    X-Kefu-Signature = "v1=" + hex HMAC-SHA256(secret, timestamp + "." + raw body)."""
    request.auth.shop_for(shop)
    return [type_out(et) for et in event_types().values()]


@router.get("/webhooks/event-types/{name}/schema", response=dict)
def event_type_schema(request, name: str, shop: str | None = None):
    """The JSON Schema (draft 2020-12) of the whole POST body of one event type."""
    request.auth.shop_for(shop)
    et = event_types().get(name)
    if et is None:
        raise Http404("event type")
    return envelope_schema(et)


# ---------------------------------------------------------------- webhooks

@router.get("/webhooks", response=list[WebhookOut])
def webhooks_get(request, shop: str | None = None):
    """The shop's webhook subscriptions (supervisors and up read; managers change)."""
    shop_obj, _m = _shop_wide(request, shop)
    return [webhook_out(s) for s in sel.subscriptions(shop=shop_obj)]


@router.post("/webhooks", response={201: WebhookOut})
def webhooks_post(request, payload: WebhookIn, shop: str | None = None):
    """Subscribe a URL to event types (managers, integrations); the answer shows the signing secret."""
    shop_obj, member = _shop_wide(request, shop)
    s = webhooks.subscription_save(shop=shop_obj, actor=member, name=payload.name, url=payload.url,
                                   event_types=payload.event_types, secret=payload.secret)
    return Status(201, webhook_out(s))


@router.get("/webhooks/{webhook_id}", response=WebhookOut)
def webhook_get(request, webhook_id: int, shop: str | None = None):
    shop_obj, _m = _shop_wide(request, shop)
    return webhook_out(sel.subscription_get(shop=shop_obj, id=webhook_id))


@router.post("/webhooks/{webhook_id}", response=WebhookOut)
def webhook_put(request, webhook_id: int, payload: WebhookIn, shop: str | None = None):
    """Change a subscription; `active: true` re-enables one that was disabled after failures."""
    shop_obj, member = _shop_wide(request, shop)
    s = sel.subscription_get(shop=shop_obj, id=webhook_id)
    s = webhooks.subscription_save(shop=shop_obj, actor=member, subscription=s, name=payload.name, url=payload.url,
                                   event_types=payload.event_types, active=payload.active, secret=payload.secret)
    return webhook_out(s)


@router.post("/webhooks/{webhook_id}/delete", response={204: None})
def webhook_delete(request, webhook_id: int, shop: str | None = None):
    shop_obj, member = _shop_wide(request, shop)
    webhooks.subscription_delete(shop=shop_obj, actor=member, subscription=sel.subscription_get(shop=shop_obj, id=webhook_id))
    return Status(204, None)


@router.get("/webhooks/{webhook_id}/deliveries", response=list[DeliveryOut])
def deliveries_get(request, webhook_id: int, shop: str | None = None, state: str | None = None,
                   limit: int = Query(100, ge=1, le=1000)):
    """The delivery log of a subscription, newest first: state, attempts, last status, latency, answer."""
    shop_obj, _m = _shop_wide(request, shop)
    s = sel.subscription_get(shop=shop_obj, id=webhook_id)
    return [delivery_out(d) for d in sel.deliveries(subscription=s, state=state)[:limit]]


@router.post("/webhooks/deliveries/{delivery_id}/redeliver", response=DeliveryOut)
def delivery_redeliver(request, delivery_id: int, shop: str | None = None):
    """Send a delivery again now (same event id); the attempt joins its log."""
    shop_obj, member = _shop_wide(request, shop)
    d = sel.delivery_get(shop=shop_obj, id=delivery_id)
    return delivery_out(webhooks.delivery_redeliver(shop=shop_obj, actor=member, delivery=d))


# ---------------------------------------------------------------- automation rules

@router.get("/automation-rules", response=list[RuleOut])
def rules_get(request, shop: str | None = None):
    """The shop's automation rules in the order they run."""
    shop_obj, _m = _shop_wide(request, shop)
    return [rules_mod.rule_dict(r) for r in sel.rules(shop=shop_obj)]


@router.post("/automation-rules", response={201: RuleOut})
def rules_post(request, payload: RuleIn, shop: str | None = None):
    """Add a rule (managers, integrations)."""
    shop_obj, member = _shop_wide(request, shop)
    r = rules_mod.rule_save(shop=shop_obj, actor=member, **payload.dict())
    return Status(201, rules_mod.rule_dict(r))


@router.post("/automation-rules/dry-run", response=DryRunOut)
def rules_dry_run(request, payload: DryRunIn, shop: str | None = None):
    """Which past events an unsaved rule (event_type + conditions) would have matched."""
    shop_obj, _m = _shop_wide(request, shop)
    return rules_mod.rule_dry_run(shop=shop_obj, event_type=payload.event_type or "", conditions=payload.conditions or [],
                                  days=payload.days, limit=payload.limit)


@router.get("/automation-rules/{rule_id}", response=RuleOut)
def rule_get(request, rule_id: int, shop: str | None = None):
    shop_obj, _m = _shop_wide(request, shop)
    return rules_mod.rule_dict(sel.rule_get(shop=shop_obj, id=rule_id))


@router.post("/automation-rules/{rule_id}", response=RuleOut)
def rule_put(request, rule_id: int, payload: RuleIn, shop: str | None = None):
    shop_obj, member = _shop_wide(request, shop)
    r = rules_mod.rule_save(shop=shop_obj, actor=member, rule=sel.rule_get(shop=shop_obj, id=rule_id), **payload.dict())
    return rules_mod.rule_dict(r)


@router.post("/automation-rules/{rule_id}/delete", response={204: None})
def rule_delete(request, rule_id: int, shop: str | None = None):
    shop_obj, member = _shop_wide(request, shop)
    rules_mod.rule_delete(shop=shop_obj, actor=member, rule=sel.rule_get(shop=shop_obj, id=rule_id))
    return Status(204, None)


@router.post("/automation-rules/{rule_id}/dry-run", response=DryRunOut)
def rule_dry_run(request, rule_id: int, payload: DryRunIn, shop: str | None = None):
    """Which past events of the last `days` this rule would have matched; no action runs."""
    shop_obj, _m = _shop_wide(request, shop)
    r = sel.rule_get(shop=shop_obj, id=rule_id)
    return rules_mod.rule_dry_run(shop=shop_obj, event_type=r.event_type, conditions=r.conditions, days=payload.days,
                                  limit=payload.limit)


@router.get("/automation-rules/{rule_id}/firings", response=list[FiringOut])
def rule_firings(request, rule_id: int, shop: str | None = None, limit: int = Query(100, ge=1, le=1000)):
    shop_obj, _m = _shop_wide(request, shop)
    r = sel.rule_get(shop=shop_obj, id=rule_id)
    return [{"id": f.pk, "rule_id": f.rule_id, "event_type": f.event_type,
             "event_id": str(f.event_id) if f.event_id else None, "subject": f.subject, "subject_id": f.subject_id,
             "results": f.results, "at": f.at} for f in r.firings.all()[:limit]]


# ---------------------------------------------------------------- tracking (IN-4)

@router.post("/tracking/push", response=TrackingOut)
def tracking_push(request, shop: str | None = None):
    """A kuaidi100-style push (JSON, or form field `param` holding it), or
    `{"events": [{"number", "courier", "state", "time", "context"}]}`. Answers as kuaidi100 expects."""
    import json

    shop_obj, member = _shop_wide(request, shop)
    if request.content_type == "application/x-www-form-urlencoded" or request.content_type == "multipart/form-data":
        body = {"param": request.POST.get("param", "")}
    else:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            from kefu.core.errors import KefuError

            raise KefuError("the body must be a JSON object", field="body")
    raws = body["events"] if isinstance(body.get("events"), list) else push_parse(body)
    result = tracking_ingest(shop=shop_obj, rows=events_clean(raws, tz=shop_obj.tz, first_row=0))
    return {"result": True, "returnCode": "200", "message": "成功", "created": result.created,
            "duplicates": result.duplicates}
