"""The JSON API under /api/v1/ (OpenAPI docs at /api/v1/docs)."""

from django.db import OperationalError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from kefu.aftersales.api import router as aftersales_router
from kefu.approvals.api import router as approvals_router
from kefu.care.api import router as care_router
from kefu.catalog.api import router as catalog_router
from kefu.complaints.api import router as complaints_router
from kefu.conversations.api import router as conversations_router
from kefu.core.api import router as core_router
from kefu.core.busy import busy_response, is_busy
from kefu.core.errors import KefuError, ValidationFailed, http_status
from kefu.crm.api import router as crm_router
from kefu.customers.api import router as customers_router
from kefu.defects.api import router as defects_router
from kefu.followups.api import router as followups_router
from kefu.integrations.api import router as integrations_router
from kefu.livechat.api import router as livechat_router
from kefu.metrics.api import router as metrics_router
from kefu.orders.api import router as orders_router
from kefu.outbound.api import router as outbound_router
from kefu.people.api import router as people_router
from kefu.quality.api import router as quality_router
from kefu.replies.api import router as replies_router
from kefu.reports.api import router as reports_router
from kefu.shipping.api import router as shipping_router
from kefu.sla.api import router as sla_router
from kefu.workforce.api import router as workforce_router

api = NinjaAPI(
    title="Kefu API", version="1", urls_namespace="api", docs_url="/docs",
    description="Webhook payloads: every event type with its JSON Schema at "
                "[/api/v1/webhooks/event-types](/api/v1/webhooks/event-types) and on the page "
                "[/integrations/events/](/integrations/events/); signatures and a receiver example in the README.",
)
api.add_router("", core_router)
api.add_router("", conversations_router)
api.add_router("", orders_router)
api.add_router("", metrics_router)
api.add_router("", customers_router)
api.add_router("", workforce_router)
api.add_router("", approvals_router)
api.add_router("", followups_router)
api.add_router("", aftersales_router)
api.add_router("", outbound_router)
api.add_router("", shipping_router)
api.add_router("", replies_router)
api.add_router("", crm_router)
api.add_router("", sla_router)
api.add_router("", defects_router)
api.add_router("", complaints_router)
api.add_router("", quality_router)
api.add_router("", integrations_router)
api.add_router("", care_router)
api.add_router("", people_router)
api.add_router("", reports_router)
api.add_router("", livechat_router)
api.add_router("", catalog_router)


def _loc(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "filters", "q")]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def on_validation(request, exc: ValidationError):
    errors = [{"field": _loc(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in exc.errors]
    # A union body (one item or a batch) reports both branches; keep the distinct messages.
    seen, unique = set(), []
    for e in errors:
        key = (e["field"], e["message"])
        if key not in seen:
            seen.add(key)
            unique.append(e)
    return api.create_response(request, {"code": "validation_failed", "errors": unique}, status=422)


@api.exception_handler(ValidationFailed)
def on_failed(request, exc: ValidationFailed):
    errors = [{**e, "index": e.pop("row")} if "row" in e else e for e in (dict(x) for x in exc.errors)]
    return api.create_response(request, {"code": exc.code, "message": exc.message, "errors": errors}, status=422)


@api.exception_handler(KefuError)
def on_kefu_error(request, exc: KefuError):
    return api.create_response(request, exc.as_dict(), status=http_status(exc))


@api.exception_handler(OperationalError)
def on_database_busy(request, exc: OperationalError):
    """A locked or unreachable database answers 503 with Retry-After; any other error stays a 500."""
    if is_busy(exc):
        return busy_response(request)
    raise exc


@api.exception_handler(Http404)
def on_404(request, exc):
    return api.create_response(request, {"code": "not_found", "message": "not found"}, status=404)


@api.exception_handler(AuthenticationError)
def on_auth(request, exc):
    return api.create_response(request, {"code": "unauthorized", "message": "a valid token or login is required"}, status=401)
