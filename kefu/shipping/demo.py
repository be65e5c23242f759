"""Demo data of the shipping audit: stock (some SKUs oversold or gone), item ratings, a few orders stuck in
the warehouse, and the daily list built from them — all through the services."""

import datetime as dt
import random
import time
from decimal import Decimal

from django.utils import timezone

from kefu.catalog.models import Sku
from kefu.catalog.selectors import pending_quantities
from kefu.catalog.services import ratings_import, sku_stock_set
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from .services import issue_resolve, shipping_audit_run

# Orders the warehouse missed: hours since payment (past the promise, past the hard limit).
STUCK_HOURS = (26, 31, 39, 53)


def _stuck_orders(*, shop: Shop, rnd: random.Random, now: dt.datetime, skus: list[Sku]) -> None:
    from kefu.orders.services import orders_clean, orders_upsert

    buyers = list(Customer.objects.filter(shop=shop, is_spam=False).order_by("buyer_id")
                  .values_list("buyer_id", flat=True)[:200])
    if not buyers or not skus:
        return
    rows = []
    for n, hours in enumerate(STUCK_HOURS, start=1):
        s = rnd.choice(skus)
        paid = now - dt.timedelta(hours=hours)
        rows.append({"order_id": f"{shop.code.upper()}-WH{n:03d}", "buyer_id": rnd.choice(buyers), "status": "paid",
                     "title": s.product.title if s.product_id else s.code,
                     "created_at": (paid - dt.timedelta(minutes=rnd.randint(2, 30))).isoformat(),
                     "paid_at": paid.isoformat(), "total_amount": str(s.price), "paid_amount": str(s.price),
                     "items": [{"sku": s.code, "quantity": 1, "price": str(s.price)}]})
    orders_upsert(shop=shop, rows=orders_clean(rows, tz=shop.tz))


def _rarely_sold(*, shop: Shop, now: dt.datetime, n: int) -> set[str]:
    """The n SKUs shipped least often (at least once) in the last week: rated low, they make a short list."""
    from django.db.models import Count

    from kefu.orders.models import OrderItem

    counts = (OrderItem.objects.filter(order__shop=shop, order__shipped_at__gte=now - dt.timedelta(days=7))
              .values("sku_code").annotate(n=Count("id")).order_by("n", "sku_code"))
    return {r["sku_code"] for r in counts[:n]}


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    started = time.monotonic()
    rnd = random.Random(f"shipping-{seed}")
    now = timezone.now().replace(second=0, microsecond=0)
    skus = list(Sku.objects.filter(shop=shop).select_related("product").order_by("code"))
    _stuck_orders(shop=shop, rnd=rnd, now=now, skus=skus)
    # Ratings against the platform's category average (4.75 here): two items clearly below it (SHIP-3).
    low = _rarely_sold(shop=shop, now=now, n=2)
    ratings = [{"sku": s.code, "rating": Decimal(rnd.randint(380, 440) if s.code in low else rnd.randint(476, 498))
                / 100, "count": rnd.randint(20, 900), "category_average": Decimal("4.75")} for s in skus]
    ratings_import(shop=shop, rows=ratings, actor=None)
    # Stock: plenty for most; the two SKUs most waited for are short (one oversold, one gone) (SHIP-2).
    pending = pending_quantities(shop=shop)
    busiest = sorted((c for c in pending if pending[c] > 0), key=lambda c: (-pending[c], c))
    for s in skus:
        if busiest and s.code == busiest[0]:
            qty = max(pending[s.code] - 2, 1) if pending[s.code] >= 2 else 0
        elif len(busiest) > 1 and s.code == busiest[1]:
            qty = 0
        else:
            qty = rnd.randint(15, 300)
        sku_stock_set(shop=shop, code=s.code, actor=None, quantity=qty, note="期初盘点")
    result = shipping_audit_run(shop=shop, now=now)
    # Some of the list already handled, so the page shows both sides.
    agent = Agent.objects.filter(shop=shop, roles__contains="agent", active=True).order_by("name").first()
    from .models import ShippingIssue

    done = 0
    for issue in ShippingIssue.objects.filter(shop=shop, kind="after_care").order_by("id")[:1]:
        issue_resolve(shop=shop, issue_id=issue.pk, action="aftercare_done", actor=agent, note="已电话回访，买家满意",
                      now=now)
        done += 1
    listed = ", ".join(f"{k} {n}" for k, n in sorted(result.created.items()))
    say(f"shipping audit: {listed} listed, {done} after-care follow-ups done ({time.monotonic() - started:.1f} s)")
