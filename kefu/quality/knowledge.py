"""Product knowledge search (SCR-4), the same Chinese search as the scripts': SQLite FTS5 with the
trigram tokenizer, PostgreSQL pg_trgm (GIN index on search_text); 1–2 character terms use LIKE."""

from django.db import connection

from kefu.core.models import Shop

from .models import ProductKnowledge

FTS_TABLE = "quality_knowledge_fts"
TRIGRAM = 3
LIMIT = 50


def fts_sync(ids: list[int]) -> None:
    """Keep the FTS5 table equal to search_text (SQLite only; PostgreSQL indexes the column itself)."""
    if connection.vendor != "sqlite" or not ids:
        return
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({marks})", list(ids))
        cur.execute(f"INSERT INTO {FTS_TABLE}(rowid, body) SELECT id, search_text FROM quality_productknowledge "
                    f"WHERE id IN ({marks})", list(ids))


def knowledge_search(*, shop: Shop, q: str, limit: int = LIMIT) -> list[ProductKnowledge]:
    """Knowledge cards matching every term of q (product title, keywords, sizes, fabric, care, fit)."""
    base = ProductKnowledge.objects.filter(shop=shop).select_related("product")
    terms = [t for t in (q or "").replace("\x00", "").split() if t][:5]
    if not terms:
        return list(base.order_by("product__title", "id")[:limit])
    if any(len(t) < TRIGRAM for t in terms) or connection.vendor != "sqlite":
        # PostgreSQL: ILIKE is served by the gin_trgm_ops index of migration 0002.
        qs = base
        for t in terms:
            qs = qs.filter(search_text__icontains=t)
        return list(qs.order_by("product__title", "id")[:limit])
    match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
    with connection.cursor() as cur:
        cur.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s ORDER BY bm25({FTS_TABLE}) LIMIT 500",
                    [match])
        ranked = [r[0] for r in cur.fetchall()]
    by_id = {k.pk: k for k in base.filter(pk__in=ranked)}
    return [by_id[i] for i in ranked if i in by_id][:limit]


def knowledge_for_conversation(*, shop: Shop, customer_id: int, texts: list[str], limit: int = 5) -> list:
    """Cards of the products the buyer ordered and of those the buyer's messages name (a keyword
    or the product title), ordered products first."""
    from kefu.catalog.models import Sku
    from kefu.orders.models import OrderItem

    skus = OrderItem.objects.filter(order__shop=shop, order__customer_id=customer_id).values("sku_code")
    ordered = list(ProductKnowledge.objects.filter(
        shop=shop, product_id__in=Sku.objects.filter(shop=shop, code__in=skus).values("product_id"))
        .select_related("product")[:limit])
    seen = {k.pk for k in ordered}
    text = "".join(texts)
    asked = []
    if text:
        for k in ProductKnowledge.objects.filter(shop=shop).exclude(pk__in=seen).select_related("product")[:500]:
            names = [w for w in k.keywords.replace("，", ",").split(",") if w.strip()] + [k.product.title]
            if any(len(n.strip()) >= 2 and n.strip() in text for n in names):
                asked.append(k)
    return (ordered + asked)[:limit]

