"""Customer care (grades, cross-sell) under /api/v1/. The buyer-grade routes live in
kefu/customers/api.py (/customers/grades, /customers/{buyer_id}/grade)."""

from django.http import Http404
from ninja import Router, Status

from kefu.conversations.selectors import conversation_get_for_user
from kefu.core.access import sees_whole_shop
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, PermissionDenied

from . import selectors as sel
from . import services
from .models import GradeRule, Promotion
from .schemas import (
    CrossSellOut,
    GradeRuleOut,
    PairIn,
    PairOut,
    PromotionIn,
    PromotionOut,
    PromotionPatch,
    RecomputeOut,
    RulesIn,
)

router = Router(tags=["crm"], auth=AUTH)


def _rule_out(r: GradeRule) -> dict:
    return {"position": r.position, "grade": r.grade, "min_spend": r.min_spend, "min_orders": r.min_orders,
            "match": r.match, "window_days": r.window_days}


def promotion_out(p: Promotion) -> dict:
    return {"id": p.pk, "name": p.name, "discount_text": p.discount_text, "category": p.category,
            "product_ids": sorted(x.pk for x in p.products.all()), "starts_on": p.starts_on, "ends_on": p.ends_on,
            "active": p.active}


@router.get("/grade-rules", response=list[GradeRuleOut])
def grade_rules_get(request, shop: str | None = None):
    """The shop's grading table (first matching row wins)."""
    shop_obj, _member = request.auth.shop_for(shop)
    return [_rule_out(r) for r in services.grade_rules_ensure(shop_obj)]


@router.post("/grade-rules", response=list[GradeRuleOut])
def grade_rules_post(request, payload: RulesIn, shop: str | None = None):
    """Replace the grading table and recompute every buyer's grade. Supervisors and up."""
    shop_obj, member = request.auth.shop_for(shop)
    rules = services.grade_rules_set(shop=shop_obj, rules=[r.dict() for r in payload.rules], actor=member)
    return [_rule_out(r) for r in rules]


@router.post("/grades/recompute", response=RecomputeOut)
def grades_recompute_post(request, shop: str | None = None):
    """Recompute every buyer's grade now (the scheduler does it nightly). Supervisors and up."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not sees_whole_shop(member):
        raise PermissionDenied("supervisors, managers and admins only")
    return {"changed": services.grades_recompute(shop=shop_obj)}


@router.get("/promotions", response=list[PromotionOut])
def promotions_get(request, shop: str | None = None, current: bool = False):
    """The shop's promotions; `current=true`: only those running today (shop day)."""
    shop_obj, _member = request.auth.shop_for(shop)
    qs = sel.promotions_current(shop=shop_obj) if current else Promotion.objects.filter(
        shop=shop_obj).prefetch_related("products")
    return [promotion_out(p) for p in qs[:500]]


@router.post("/promotions", response={201: PromotionOut})
def promotion_post(request, payload: PromotionIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    p = services.promotion_save(shop=shop_obj, actor=member, **payload.dict())
    return Status(201, promotion_out(p))


@router.post("/promotions/{promotion_id}", response=PromotionOut)
def promotion_patch(request, promotion_id: int, payload: PromotionPatch, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    if not Promotion.objects.filter(shop=shop_obj, pk=promotion_id).exists():
        raise Http404("promotion")
    changes = payload.dict(exclude_unset=True)
    for f in ("name", "discount_text", "active", "product_ids"):
        if f in changes and changes[f] is None:
            raise KefuError("must not be null", field=f)
    p = services.promotion_save(shop=shop_obj, actor=member, promotion_id=promotion_id, **changes)
    return promotion_out(p)


@router.post("/product-pairs", response={201: PairOut})
def product_pair_post(request, payload: PairIn, shop: str | None = None):
    """A hand-made cross-sell pair (works both ways). Supervisors and up."""
    shop_obj, member = request.auth.shop_for(shop)
    p = services.product_pair_add(shop=shop_obj, actor=member, **payload.dict())
    return Status(201, {"id": p.pk, "product_id": p.product_id, "related_id": p.related_id, "note": p.note})


@router.get("/conversations/{conversation_id}/cross-sell", response=CrossSellOut)
def cross_sell_get(request, conversation_id: int, shop: str | None = None):
    """PRE-8: related products and current promotions for the products of the conversation's
    order cards and the buyer's recent orders, and the buyer's grade."""
    shop_obj, member = request.auth.shop_for(shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    cs = sel.cross_sell_for_conversation(shop=shop_obj, conversation=conv)
    return {"product_ids": [p.pk for p in cs.products],
            "related": [{"product_id": r["product"].pk, "title": r["product"].title,
                         "category": r["product"].category, "price": r["price"], "why": str(r["why"])}
                        for r in cs.related],
            "promotions": [{"id": h["promotion"].pk, "name": h["promotion"].name,
                            "discount_text": h["promotion"].discount_text, "ends_on": h["promotion"].ends_on,
                            "why": str(h["why"])} for h in cs.promotions],
            "grade": cs.grade.grade if cs.grade else None}
