"""Reads of customer care: the graded list, promotions, and cross-sell prompts of a conversation."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, F, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.catalog.models import Product, Sku
from kefu.core.models import Shop
from kefu.core.timeutil import shop_day

from .models import CustomerGrade, ProductPair, Promotion

RELATED_LIMIT = 6
RECENT_ORDERS = 5


def grades_list(*, shop: Shop, grade: str | None = None, q: str = "") -> QuerySet[CustomerGrade]:
    qs = CustomerGrade.objects.filter(shop=shop, customer__merged_into__isnull=True).select_related(
        "customer", "override_by")
    if grade:
        qs = qs.filter(grade=grade)
    if q:
        qs = qs.filter(Q(customer__buyer_id__icontains=q) | Q(customer__nick__icontains=q))
    return qs.order_by("-spend", "-orders", "id")


def grades_of(*, shop: Shop, customer_ids) -> dict[int, str]:
    """customer id → grade (the override or the rules' grade); buyers without one are absent."""
    return dict(CustomerGrade.objects.filter(shop=shop, customer_id__in=list(customer_ids))
                .values_list("customer_id", "grade"))


def grade_counts(*, shop: Shop) -> dict[str, int]:
    from django.db.models import Count

    return dict(CustomerGrade.objects.filter(shop=shop, customer__merged_into__isnull=True).values_list("grade")
                .annotate(n=Count("id")).order_by())


def promotions_current(*, shop: Shop, today: dt.date | None = None) -> QuerySet[Promotion]:
    today = today or shop_day(timezone.now(), shop.tz)
    return (Promotion.objects.filter(shop=shop, active=True)
            .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=today))
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
            .prefetch_related("products").order_by("ends_on", "id"))


@dataclass
class CrossSell:
    products: list[Product] = field(default_factory=list)  # what the conversation is about
    related: list[dict] = field(default_factory=list)  # {product, why, price}
    promotions: list[dict] = field(default_factory=list)  # {promotion, why}
    grade: CustomerGrade | None = None


def conversation_skus(*, conversation) -> set[str]:
    """SKU codes of the order cards in the conversation and of the buyer's recent orders."""
    from kefu.conversations.models import Message
    from kefu.orders.models import Order, OrderItem

    refs = set(Message.objects.filter(shop_id=conversation.shop_id, customer_id=conversation.customer_id,
                                      sent_at__gte=conversation.started_at, sent_at__lte=conversation.ended_at)
               .exclude(order_ref="").values_list("order_ref", flat=True))
    recent = list(Order.objects.filter(shop_id=conversation.shop_id, customer_id=conversation.customer_id)
                  .order_by("-created_at", "-id").values_list("id", flat=True)[:RECENT_ORDERS])
    return set(OrderItem.objects.filter(order__shop_id=conversation.shop_id).filter(
        Q(order__order_id__in=refs) | Q(order_id__in=recent)).values_list("sku_code", flat=True))


def cross_sell(*, shop: Shop, sku_codes: set[str], customer_id: int | None = None,
               today: dt.date | None = None) -> CrossSell:
    """PRE-8: for these SKUs' products, related products (hand-made pairs first, then the same
    category) and the current promotions that cover them or the whole shop; and the buyer's grade."""
    out = CrossSell()
    out.products = list(Product.objects.filter(shop=shop, skus__code__in=sku_codes).distinct().order_by("id"))
    ids = {p.pk for p in out.products}
    cats = {p.category for p in out.products if p.category}
    if ids:
        pairs = ProductPair.objects.filter(shop=shop).filter(Q(product_id__in=ids) | Q(related_id__in=ids))
        pair_why: dict[int, str] = {}
        for p in pairs.order_by("id"):
            other = p.related_id if p.product_id in ids else p.product_id
            if other not in ids:
                pair_why.setdefault(other, p.note or _("搭配推荐"))
        # Only products a buyer can order now (a listed SKU in stock or not stock-tracked); same
        # category ones best rated first (PRE-8: an in-stock, well-reviewed alternative).
        orderable = Sku.objects.filter(shop=shop, product_id=OuterRef("pk"), listed=True).filter(
            Q(stock__isnull=True) | Q(stock__gt=0))
        available = set(Product.objects.filter(shop=shop, pk__in=pair_why).filter(Exists(orderable))
                        .values_list("pk", flat=True))
        pair_why = {pid: why for pid, why in pair_why.items() if pid in available}
        same_cat = list(Product.objects.filter(shop=shop, category__in=cats).exclude(pk__in=ids)
                        .exclude(pk__in=pair_why).filter(Exists(orderable))
                        .annotate(best=Max("skus__rating")).order_by(F("best").desc(nulls_last=True), "id")
                        .values_list("pk", flat=True)[:RELATED_LIMIT])
        wanted = list(pair_why)[:RELATED_LIMIT] + same_cat
        wanted = wanted[:RELATED_LIMIT]
        prices = dict(Sku.objects.filter(shop=shop, product_id__in=wanted).values_list("product_id")
                      .annotate(p=Min("price")).order_by())
        products = Product.objects.in_bulk(wanted)
        for pid in wanted:
            price = prices.get(pid)
            # SQLite's MIN over a decimal column comes back with float noise (39.9000000000000).
            price = Decimal(price).quantize(Decimal("0.01")) if price is not None else None
            out.related.append({"product": products[pid], "price": price,
                                "why": pair_why.get(pid, _("同类目"))})
    for promo in promotions_current(shop=shop, today=today):
        promo_ids = {p.pk for p in promo.products.all()}
        if promo_ids & ids:
            why = _("相关商品")
        elif promo.category and promo.category in cats:
            why = _("同类目")
        elif not promo_ids and not promo.category:
            why = _("全店")
        else:
            continue
        out.promotions.append({"promotion": promo, "why": why})
    if customer_id is not None:
        out.grade = CustomerGrade.objects.filter(shop=shop, customer_id=customer_id).first()
    return out


def cross_sell_for_conversation(*, shop: Shop, conversation, today: dt.date | None = None) -> CrossSell:
    return cross_sell(shop=shop, sku_codes=conversation_skus(conversation=conversation),
                      customer_id=conversation.customer_id, today=today)
