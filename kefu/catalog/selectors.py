"""Reads of the catalog: SKUs with their stock position, and the category rating averages."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from kefu.core.models import Shop
from kefu.orders.enums import OrderStatus
from kefu.orders.models import OrderItem

from .models import Sku

# Orders that still wait for the warehouse: paid, not shipped, not closed or refunded.
PENDING_STATUSES = (OrderStatus.PAID, OrderStatus.PRINTED)
CENT = Decimal("0.01")


def pending_order_filter(prefix: str = "") -> Q:
    """Q over Order (or OrderItem with prefix 'order__') for orders waiting to ship."""
    p = prefix
    return Q(**{f"{p}status__in": PENDING_STATUSES, f"{p}paid_at__isnull": False, f"{p}shipped_at__isnull": True,
                f"{p}closed_at__isnull": True, f"{p}refunded_at__isnull": True})


def sku_get(*, shop: Shop, code: str) -> Sku:
    sku = Sku.objects.filter(shop=shop, code=code).select_related("product").first()
    if sku is None:
        raise Http404("sku")
    return sku


def pending_quantities(*, shop: Shop, codes=None) -> dict[str, int]:
    """Paid-not-shipped quantity per SKU code, in one query."""
    qs = OrderItem.objects.filter(pending_order_filter("order__"), order__shop=shop)
    if codes is not None:
        qs = qs.filter(sku_code__in=codes)
    return {r["sku_code"]: r["n"] for r in qs.values("sku_code").annotate(n=Sum("quantity")).order_by()}


def category_averages(*, shop: Shop) -> dict[str, Decimal]:
    """Mean rating of the rated SKUs of each product category (plain mean over SKUs, 2 decimals)."""
    sums: dict[str, list] = defaultdict(lambda: [Decimal("0"), 0])
    for category, rating in (Sku.objects.filter(shop=shop, rating__isnull=False).exclude(product__category="")
                             .exclude(product__isnull=True).values_list("product__category", "rating")):
        sums[category][0] += rating
        sums[category][1] += 1
    return {c: (total / n).quantize(CENT) for c, (total, n) in sums.items()}


def average_for(sku: Sku, averages: dict[str, Decimal]) -> Decimal | None:
    """The platform's category average when imported, else the shop's own mean of the category."""
    if sku.category_average is not None:
        return sku.category_average
    return averages.get(sku.product.category) if sku.product_id else None


def below_average_codes(*, shop: Shop) -> dict[str, tuple[Decimal, Decimal]]:
    """{code: (rating, category average)} of the SKUs rated below their category average."""
    averages = category_averages(shop=shop)
    out = {}
    for code, rating, category, platform in (Sku.objects.filter(shop=shop, rating__isnull=False)
                                             .values_list("code", "rating", "product__category", "category_average")):
        avg = platform if platform is not None else averages.get(category) if category else None
        if avg is not None and rating < avg:
            out[code] = (rating, avg)
    return out


@dataclass
class SkuRow:
    sku: Sku
    pending: int  # paid, not shipped
    category_average: Decimal | None

    @property
    def available(self) -> int | None:
        return None if self.sku.stock is None else self.sku.stock - self.pending

    @property
    def oversold(self) -> bool:
        return self.available is not None and self.available < 0

    @property
    def stock_gone(self) -> bool:
        return self.available is not None and self.available <= 0

    @property
    def below_average(self) -> bool:
        return (self.sku.rating is not None and self.category_average is not None
                and self.sku.rating < self.category_average)


def sku_rows(*, shop: Shop, q: str = "", only: str = "") -> list[SkuRow]:
    """SKUs with stock position and rating against the category average, in three queries.

    only: "" all, "short" (stock gone: available ≤ 0), "listed_short" (gone and still on sale),
    "below" (rated below the category average)."""
    qs: QuerySet[Sku] = Sku.objects.filter(shop=shop).select_related("product").order_by("code")
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(title__icontains=q) | Q(product__title__icontains=q))
    skus = list(qs)
    pending = pending_quantities(shop=shop, codes=[s.code for s in skus] if q else None)
    averages = category_averages(shop=shop)
    rows = [SkuRow(sku=s, pending=pending.get(s.code, 0), category_average=average_for(s, averages)) for s in skus]
    if only == "short":
        rows = [r for r in rows if r.stock_gone]
    elif only == "listed_short":
        rows = [r for r in rows if r.stock_gone and r.sku.listed]
    elif only == "below":
        rows = [r for r in rows if r.below_average]
    return rows


# ---------------------------------------------------------------- the catalogue (IN-5)

def catalog_products(*, shop: Shop, q: str = "", category: str = "", limit: int = 100, offset: int = 0) -> list[dict]:
    """Products with their SKUs and batches, in three queries."""
    from django.db.models import Prefetch

    from .models import Batch, Category, Product

    qs = Product.objects.filter(shop=shop).order_by("title", "id")
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(external_id__icontains=q) | Q(skus__code__icontains=q)).distinct()
    if category:
        qs = qs.filter(category=category)
    qs = qs.prefetch_related(Prefetch("skus", Sku.objects.order_by("code").prefetch_related(
        Prefetch("batches", Batch.objects.order_by("code")))))
    products = list(qs[offset: offset + limit])
    paths = {}
    for path in Category.objects.filter(shop=shop, name__in={p.category for p in products if p.category}) \
            .values_list("path", flat=True):
        paths.setdefault(path.rpartition("/")[2], path)
    return [{"product_id": p.external_id, "title": p.title, "category": p.category,
             "category_path": paths.get(p.category, p.category),
             "skus": [{"code": s.code, "title": s.title, "price": s.price, "stock": s.stock, "listed": s.listed,
                       "batches": [{"code": b.code, "produced_on": b.produced_on, "expires_on": b.expires_on,
                                    "quantity": b.quantity} for b in s.batches.all()]} for s in p.skus.all()]}
            for p in products]


def catalog_categories(*, shop: Shop) -> list[dict]:
    from django.db.models import Count

    from .models import Category, Product

    counts = dict(Product.objects.filter(shop=shop).exclude(category="").values("category")
                  .annotate(n=Count("id")).values_list("category", "n").order_by())
    return [{"path": c.path, "name": c.name, "products": counts.get(c.name, 0)}
            for c in Category.objects.filter(shop=shop).order_by("path")]


def catalog_counts(*, shop: Shop) -> dict:
    from .models import Batch, Category, Product

    return {"categories": Category.objects.filter(shop=shop).count(),
            "products": Product.objects.filter(shop=shop).count(),
            "skus": Sku.objects.filter(shop=shop).count(),
            "skus_unplaced": Sku.objects.filter(shop=shop, product__isnull=True).count(),
            "batches": Batch.objects.filter(shop=shop).count()}
