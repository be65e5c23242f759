"""Order ingestion: upsert by the platform's order id; the buyers marked for the rebuild."""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from kefu.catalog.models import Sku
from kefu.core.db import bulk_update_rows, insert_new
from kefu.core.errors import KefuError, ValidationFailed, row_number
from kefu.core.inputs import IngestResult, cell_text
from kefu.core.models import Shop
from kefu.core.timeutil import parse_moment
from kefu.customers.services import customers_resolve
from kefu.followups.services import followups_close_for_orders
from kefu.metrics.queue import buyers_mark

from .enums import OrderStatus
from .models import Order, OrderItem

TIME_FIELDS = ("created_at", "paid_at", "printed_at", "shipped_at", "signed_at", "completed_at", "closed_at", "refunded_at")
MONEY_FIELDS = ("total_amount", "paid_amount", "refund_amount")
TEXT_FIELDS = {"title": 255, "courier": 40, "tracking_no": 64, "address": 255, "buyer_note": 500, "seller_remark": 500}
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1e10")
# One line of an order: far above any real order, far below the column's limit (2,147,483,647).
MAX_QUANTITY = 1_000_000


def parse_money(value, field: str) -> Decimal:
    if type(value) is str:  # most cells: no dict built for cell_text
        text = value.replace("\x00", "").strip()
    else:
        text = cell_text({"v": value}, "v")
    if "," in text or "¥" in text or "￥" in text:
        text = text.replace(",", "").replace("¥", "").replace("￥", "")
    if not text:
        return Decimal("0.00")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise KefuError(f"not an amount: {text!r}", field=field) from exc
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise KefuError(f"amount out of range: {text!r}", field=field)
    # "12.50" has two decimals as written (no Decimal tuple built for the common cell)
    if not (text[-3:-2] == "." and text[-2:].isdigit()) and amount.as_tuple().exponent != -2:
        if amount != amount.quantize(CENT):
            raise KefuError(f"more than 2 decimals: {text!r}", field=field)
        amount = amount.quantize(CENT)
    return amount


def parse_items(text: str) -> list[dict]:
    """`sku:qty:price;…` → item dicts."""
    items = []
    for n, part in enumerate(p for p in text.split(";") if p.strip()):
        bits = part.strip().split(":")
        if len(bits) != 3 or not bits[0]:
            raise KefuError(f"item {n + 1} must be sku:qty:price, got {part!r}", field="items")
        try:
            qty = int(bits[1])
        except ValueError as exc:
            raise KefuError(f"item {n + 1}: quantity {bits[1]!r} is not a whole number", field="items") from exc
        _check_quantity(qty, n)
        items.append({"sku": bits[0].strip(), "quantity": qty, "price": parse_money(bits[2], "items")})
    return items


def _check_quantity(qty, n: int) -> None:
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise KefuError(f"item {n + 1}: quantity must be a positive whole number", field="items")
    if qty > MAX_QUANTITY:
        raise KefuError(f"item {n + 1}: quantity {qty} is above {MAX_QUANTITY:,}", field="items")


def derive_status(row: dict) -> str:
    if row["refund_amount"] > 0 and row["refund_amount"] >= row["paid_amount"] and row["paid_at"]:
        return OrderStatus.REFUNDED
    for field, status in (
        ("closed_at", OrderStatus.CLOSED), ("completed_at", OrderStatus.COMPLETED),
        ("signed_at", OrderStatus.SIGNED), ("shipped_at", OrderStatus.SHIPPED),
        ("printed_at", OrderStatus.PRINTED), ("paid_at", OrderStatus.PAID),
    ):
        if row.get(field):
            return status
    return OrderStatus.UNPAID


def order_clean(raw: dict, *, tz) -> dict:
    row: dict = {"order_id": cell_text(raw, "order_id"), "buyer_id": cell_text(raw, "buyer_id"),
                 "buyer_nick": cell_text(raw, "buyer_nick")}
    if not row["order_id"]:
        raise KefuError("required", field="order_id")
    if len(row["order_id"]) > 64:
        raise KefuError("longer than 64 characters", field="order_id")
    if not row["buyer_id"]:
        raise KefuError("required", field="buyer_id")
    if len(row["buyer_id"]) > 120:
        raise KefuError("longer than 120 characters", field="buyer_id")
    for f in TIME_FIELDS:
        v = raw.get(f)
        if v is None or (isinstance(v, str) and not v.strip()):
            row[f] = None
            continue
        try:
            row[f] = parse_moment(v, tz)
        except ValueError as exc:
            raise KefuError(str(exc), field=f) from exc
    if row["created_at"] is None:
        raise KefuError("required", field="created_at")
    if row["paid_at"] and row["paid_at"] < row["created_at"]:
        raise KefuError("paid before it was created", field="paid_at")
    for f in MONEY_FIELDS:
        row[f] = parse_money(raw.get(f), f)
    if row["refund_amount"] > row["paid_amount"] and row["paid_amount"] > 0:
        raise KefuError("refund larger than the paid amount", field="refund_amount")
    for f, limit in TEXT_FIELDS.items():
        row[f] = cell_text(raw, f)[:limit]
    status = cell_text(raw, "status")
    if status and status not in OrderStatus.values:
        raise KefuError(f"must be one of {'|'.join(OrderStatus.values)}, got {status!r}", field="status")
    row["status"] = status or derive_status(row)
    items = raw.get("items")
    if isinstance(items, list):
        row["items"] = []
        for n, i in enumerate(items):
            if not isinstance(i, dict):
                raise KefuError(f"item {n + 1} must be an object", field="items")
            qty = i.get("quantity", 1)
            _check_quantity(qty, n)
            row["items"].append({"sku": cell_text(i, "sku"), "quantity": qty, "price": parse_money(i.get("price"), "items")})
    else:
        row["items"] = parse_items(cell_text(raw, "items")) if cell_text(raw, "items") else None
    return row


def orders_clean(raws: list[dict], *, tz, first_row: int = 1) -> list[dict]:
    rows, errors = [], []
    for i, raw in enumerate(raws):
        try:
            rows.append(order_clean(raw, tz=tz))
        except (KefuError, TypeError, ValueError) as exc:
            # a format that groups item lines into one order names the order's first line (`_line`)
            errors.append({"row": row_number(raw, first_row + i),
                           "field": getattr(exc, "field", "items"),
                           "message": getattr(exc, "message", str(exc))})
    if errors:
        raise ValidationFailed(errors)
    return rows


ORDER_COLUMNS = ("status", *TIME_FIELDS, *MONEY_FIELDS, *TEXT_FIELDS)


def orders_upsert(*, shop: Shop, rows: list[dict], events: bool = True) -> IngestResult:
    """Create or update orders by order id (a re-import updates, never duplicates); mark their buyers
    for the rebuild (kefu.metrics.queue).

    An order id repeated in one batch: the last row wins. Counts are true under concurrency: new
    orders are inserted with ON CONFLICT DO NOTHING, and an order another transaction created
    meanwhile is compared and updated like any stored order (after that transaction committed).
    """
    result = IngestResult()
    by_id = {r["order_id"]: r for r in rows}
    result.duplicates = len(rows) - len(by_id)
    with transaction.atomic():
        customers = customers_resolve(shop=shop, nicks={r["buyer_id"]: r["buyer_nick"] for r in by_id.values()})
        existing = {o.order_id: o for o in Order.objects.select_for_update().filter(shop=shop, order_id__in=by_id)}
        now = timezone.now()
        fresh = [Order(shop_id=shop.id, order_id=oid, customer_id=customers[r["buyer_id"]], updated_at=now,
                       **{f: r[f] for f in ORDER_COLUMNS})
                 for oid, r in sorted(by_id.items()) if oid not in existing]  # key order: no deadlock
        inserted = {oid for (oid,) in insert_new(Order, fresh, conflict=("shop", "order_id"),
                                                 returning=("order_id",))}
        raced = [o.order_id for o in fresh if o.order_id not in inserted]
        if raced:  # created by a concurrent request since the read above: now committed, so lock them
            existing.update({o.order_id: o for o in Order.objects.select_for_update()
                             .filter(shop=shop, order_id__in=raced)})
        touched_customers = {o.customer_id for o in fresh if o.order_id in inserted}
        update, changes = [], {}
        for oid, o in existing.items():
            r = by_id[oid]
            cid = customers[r["buyer_id"]]
            fields_changed = [f for f in ORDER_COLUMNS if getattr(o, f) != r[f]]
            if o.customer_id != cid or fields_changed:
                touched_customers |= {o.customer_id, cid}
                changes[oid] = fields_changed or ["buyer_id"]
                o.customer_id = cid
                for f in ORDER_COLUMNS:
                    setattr(o, f, r[f])
                o.updated_at = now
                update.append(o)
            else:
                result.duplicates += 1
        if update:
            bulk_update_rows(Order, update, ["customer", "updated_at", *ORDER_COLUMNS])
        result.created, result.updated = len(inserted), len(update)
        with_items = {oid: r["items"] for oid, r in by_id.items() if r["items"] is not None}
        if with_items:
            _items_replace(shop, with_items)
        if touched_customers:
            result.customer_ids = touched_customers
            buyers_mark(shop=shop, customer_ids=touched_customers)
            # 催付 tasks of paid or closed orders and leads turned into orders close with them.
            changed = [*inserted, *(o.order_id for o in update)]
            followups_close_for_orders(shop=shop, order_ids=changed)
            # Late-shipping rows of orders that shipped (or closed) close with them (SHIP-1).
            from kefu.shipping.services import issues_close_for_orders

            issues_close_for_orders(shop=shop, order_ids=changed)
            # order.created / order.updated for webhooks and rules; a file import of history (events=False)
            # emits nothing, as messages_ingest does for imported messages
            from kefu.integrations import hooks

            if events:
                hooks.orders_changed(shop=shop, created=sorted(inserted),
                                     updated={o.order_id: changes[o.order_id] for o in update})
    return result


def _items_replace(shop: Shop, items_by_order: dict[str, list[dict]]) -> None:
    ids = dict(Order.objects.filter(shop=shop, order_id__in=items_by_order).values_list("order_id", "id"))
    OrderItem.objects.filter(order_id__in=ids.values()).delete()
    OrderItem.objects.bulk_create(
        [
            OrderItem(order_id=ids[oid], sku_code=i["sku"], quantity=i["quantity"], price=i["price"])
            for oid, items in items_by_order.items()
            for i in items
        ],
        batch_size=1000,
    )
    codes = {i["sku"]: i["price"] for items in items_by_order.values() for i in items if i["sku"]}
    Sku.objects.bulk_create([Sku(shop=shop, code=c, price=p) for c, p in codes.items()], ignore_conflicts=True)
