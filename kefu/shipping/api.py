"""Shipping audit (SHIP-1, SHIP-2, SHIP-3) and the catalog's stock, listing and ratings under /api/v1/."""

from django.conf import settings
from ninja import Query, Router

from kefu.catalog import selectors as catalog_sel
from kefu.catalog import services as catalog
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.inputs import json_body, openapi_body

from . import selectors as sel
from . import services
from .enums import IssueKind, IssueState
from .models import ShippingIssue
from .schemas import (
    AuditOut,
    IssueDetailOut,
    IssueOut,
    IssueQuery,
    RatingsOut,
    ResolveIn,
    ShippingNoteIn,
    ShippingSettingsIn,
    ShippingSettingsOut,
    SkuOut,
    SkuRatingBatchIn,
    SkuRatingIn,
    StockIn,
)

router = Router(tags=["shipping"], auth=AUTH)


def issue_out(i: ShippingIssue) -> dict:
    return {"id": i.pk, "kind": i.kind, "state": i.state, "order_id": i.order.order_id,
            "buyer_id": i.order.customer.buyer_id, "paid_at": i.order.paid_at, "shipped_at": i.order.shipped_at,
            "due_at": i.due_at, "sku": i.sku_code, "detail": i.detail, "detected_day": i.detected_day,
            "detected_at": i.detected_at, "resolution": i.resolution,
            "resolved_by": i.resolved_by.name if i.resolved_by_id else None, "resolved_at": i.resolved_at,
            "note": i.note}


def sku_out(r: catalog_sel.SkuRow) -> dict:
    s = r.sku
    return {"code": s.code, "title": s.title, "product": s.product.title if s.product_id else None,
            "category": s.product.category if s.product_id else None, "stock": s.stock, "pending": r.pending,
            "available": r.available, "listed": s.listed, "delisted_at": s.delisted_at, "rating": s.rating,
            "rating_count": s.rating_count, "category_average": r.category_average,
            "below_average": r.below_average}


def _sku_row(shop, code: str) -> dict:
    sku = catalog_sel.sku_get(shop=shop, code=code)
    pending = catalog_sel.pending_quantities(shop=shop, codes=[code]).get(code, 0)
    avg = catalog_sel.average_for(sku, catalog_sel.category_averages(shop=shop))
    return sku_out(catalog_sel.SkuRow(sku=sku, pending=pending, category_average=avg))


# ---------------------------------------------------------------- issues

@router.get("/shipping/issues", response=list[IssueOut])
def issues_get(request, q: Query[IssueQuery]):
    """The shipping-audit list: orders past the promised ship time (late) or the hard limit
    (overdue_hard), out-of-stock and oversold orders, and after-care follow-ups. The warehouse sees the
    delayed orders only."""
    shop_obj, member = request.auth.shop_for(q.shop)
    if q.kind and q.kind not in IssueKind.values:
        raise KefuError(f"kind must be one of {', '.join(IssueKind.values)}", field="kind")
    if q.state and q.state not in IssueState.values:
        raise KefuError("state must be open or resolved", field="state")
    qs = sel.issues_for(shop=shop_obj, member=member, day=q.day, kind=q.kind, state=q.state)
    return [issue_out(i) for i in qs[: q.limit]]


@router.get("/shipping/issues/{issue_id}", response=IssueDetailOut)
def issue_get(request, issue_id: int, shop: str | None = None):
    """One issue with its timeline (listed, resolved by whom with which action, or closed by the system)."""
    shop_obj, member = request.auth.shop_for(shop)
    issue = sel.issue_get_for_user(shop=shop_obj, member=member, id=issue_id)
    events = [{"action": e.action, "from_state": e.from_state, "to_state": e.to_state,
               "actor": e.actor.name if e.actor_id else None, "note": e.note, "created_at": e.created_at}
              for e in issue.events.select_related("actor")]
    return {**issue_out(issue), "events": events}


@router.post("/shipping/issues/{issue_id}/resolve", response=IssueOut)
def issue_resolve(request, issue_id: int, payload: ResolveIn, shop: str | None = None):
    """Resolve with an action of the issue's kind (late/overdue_hard: urge_warehouse, buyer_wait, buyer_refund,
    reissue, cancel, shipped; out_of_stock/oversold: buyer_wait, buyer_swap, buyer_refund, cancel, shipped, with
    `delist` to take the SKU off sale; after_care: aftercare_done, buyer_unreachable)."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.issue_get_for_user(shop=shop_obj, member=member, id=issue_id)  # 404 if not visible
    services.issue_resolve(shop=shop_obj, issue_id=issue_id, action=payload.action, actor=member,
                           note=payload.note, delist=payload.delist)
    return issue_out(sel.issue_get_for_user(shop=shop_obj, member=member, id=issue_id))


@router.post("/shipping/audit", response=AuditOut)
def audit_post(request, shop: str | None = None):
    """Recompute the list now (the scheduler does it once a shop day). Never duplicates an issue."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not sel.visible_kinds(member):
        raise PermissionDenied("your role does not use the shipping audit", field="shop")
    r = services.shipping_audit_run(shop=shop_obj, actor=member)
    return {"day": r.day, "created": dict(r.created), "closed": dict(r.closed), "delisted": r.delisted}


@router.get("/shipping/settings", response=ShippingSettingsOut)
def settings_get(request, shop: str | None = None):
    shop_obj, _ = request.auth.shop_for(shop)
    return services.settings_for(shop_obj)


@router.post("/shipping/settings", response=ShippingSettingsOut)
def settings_post(request, payload: ShippingSettingsIn, shop: str | None = None):
    """Promised ship time (default 24 h), hard limit (48 h), the daily audit hour, look-back days, after-care
    days, auto-delist."""
    shop_obj, member = request.auth.shop_for(shop)
    changes = {k: v for k, v in payload.dict().items() if v is not None}
    if not changes:
        raise KefuError("nothing to change", field="body")
    return services.settings_update(shop=shop_obj, actor=member, **changes)


# ---------------------------------------------------------------- SKUs: stock, listing, ratings

@router.get("/skus", response=list[SkuOut])
def skus_get(request, shop: str | None = None, q: str = "", only: str = ""):
    """SKUs with stock on hand, paid-not-shipped quantity, what is left (available; below zero = oversold),
    listing, rating and the category average. `only`: short, listed_short or below."""
    shop_obj, _ = request.auth.shop_for(shop)
    if only not in ("", "short", "listed_short", "below"):
        raise KefuError("only must be short, listed_short or below", field="only")
    return [sku_out(r) for r in catalog_sel.sku_rows(shop=shop_obj, q=q[:80], only=only)]


@router.get("/skus/{code}", response=SkuOut)
def sku_get(request, code: str, shop: str | None = None):
    shop_obj, _ = request.auth.shop_for(shop)
    return _sku_row(shop_obj, code)


@router.post("/skus/{code}/stock", response=SkuOut)
def sku_stock_post(request, code: str, payload: StockIn, shop: str | None = None):
    """Set the stock on hand (`quantity`) or adjust it (`delta`). Warehouse, supervisors and up."""
    shop_obj, member = request.auth.shop_for(shop)
    catalog_sel.sku_get(shop=shop_obj, code=code)
    catalog.sku_stock_set(shop=shop_obj, code=code, actor=member, quantity=payload.quantity, delta=payload.delta,
                          note=payload.note)
    return _sku_row(shop_obj, code)


@router.post("/skus/{code}/delist", response=SkuOut)
def sku_delist_post(request, code: str, payload: ShippingNoteIn, shop: str | None = None):
    """Take the SKU off sale (stock gone)."""
    shop_obj, member = request.auth.shop_for(shop)
    catalog_sel.sku_get(shop=shop_obj, code=code)
    catalog.sku_delist(shop=shop_obj, code=code, actor=member, note=payload.note)
    return _sku_row(shop_obj, code)


@router.post("/skus/{code}/relist", response=SkuOut)
def sku_relist_post(request, code: str, payload: ShippingNoteIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    catalog_sel.sku_get(shop=shop_obj, code=code)
    catalog.sku_relist(shop=shop_obj, code=code, actor=member, note=payload.note)
    return _sku_row(shop_obj, code)


@router.post("/sku-ratings", response=RatingsOut, openapi_extra=openapi_body(SkuRatingIn, SkuRatingBatchIn))
def ratings_post(request, shop: str | None = None):
    """One rating or `{"ratings": [...]}`: the shop's rating of each SKU (1–5, 2 decimals) and its review
    count. A bad row is named by index and field and nothing is stored."""
    shop_obj, member = request.auth.shop_for(shop)
    raws = json_body(request, list_key="ratings", limit=settings.KEFU_MAX_BATCH)
    rows = catalog.ratings_clean(raws, first_row=0)
    return {"updated": catalog.ratings_import(shop=shop_obj, rows=rows, actor=member)}
