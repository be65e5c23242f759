"""Shopify admin (Orders → Export → CSV for Excel/plain CSV): one line per line item.

The order's own columns (Financial Status, Paid at, Total, Refunded Amount …) are filled on its
first line and left empty on the others (Shopify's help page on the orders CSV says so). Amounts:
Total is what the order costs after discounts, shipping and taxes included; paid_amount is Total
once the order is paid (less Outstanding Balance when partially paid), refund_amount is Refunded
Amount. Times such as `2024-01-15 10:23:45 +0800` carry their own offset.
"""

import re
from collections.abc import Iterable, Iterator

from kefu.orders.enums import OrderStatus

from .base import OrderFormat, amount, group_lines, items_text, text

COLUMNS = {
    "Name": "order_id (required; e.g. #1001; one line per line item, grouped)",
    "Email": "buyer_id (else Phone, else Billing Name; else an anonymous buyer per order)",
    "Phone": "buyer_id when there is no Email",
    "Billing Name": "buyer_nick (and buyer_id as the last resort)",
    "Financial Status": "status and whether it is paid (paid, partially_paid, partially_refunded, refunded → paid)",
    "Paid at": "paid_at",
    "Fulfillment Status": "status (fulfilled/partial → shipped)",
    "Fulfilled at": "shipped_at",
    "Created at": "created_at (required)",
    "Cancelled at": "closed_at",
    "Total": "total_amount; paid_amount once paid",
    "Outstanding Balance": "subtracted from paid_amount when partially paid",
    "Refunded Amount": "refund_amount",
    "Lineitem quantity": "items: quantity (required)",
    "Lineitem name": "title (first line's)",
    "Lineitem price": "items: unit price",
    "Lineitem sku": "items: sku (else Lineitem name)",
    "Notes": "buyer_note",
    "Tags": "seller_remark",
    "Shipping Address1": "address", "Shipping Address2": "address", "Shipping City": "address",
    "Shipping Province": "address", "Shipping Zip": "address", "Shipping Country": "address",
    "Shipping Method": "courier",
}
PAID = ("paid", "partially_paid", "partially_refunded", "refunded")
OFFSET = re.compile(r"\s+([+-]\d{2}):?(\d{2})$")


def moment(value) -> str:
    """`2024-01-15 10:23:45 +0800` → `2024-01-15 10:23:45+08:00` (what the shared parser reads)."""
    t = text(value)
    return OFFSET.sub(lambda m: f"{m.group(1)}:{m.group(2)}", t) if t else ""


def status(financial: str, fulfillment: str, cancelled: bool, shipped: bool) -> str:
    if cancelled:
        return OrderStatus.CLOSED
    if financial == "refunded":
        return OrderStatus.REFUNDED
    if financial not in PAID:
        return OrderStatus.UNPAID if financial in ("pending", "authorized", "expired", "voided", "") else "?" + financial
    if fulfillment in ("fulfilled", "partial") or shipped:
        return OrderStatus.SHIPPED
    return OrderStatus.PAID


def convert(headers: list[str], rows: Iterable[dict], notes: list[str]) -> Iterator[dict]:
    anonymous = 0
    for line, lines in group_lines(rows, "Name"):
        first = lines[0]
        oid = text(first.get("Name"))
        financial = text(first.get("Financial Status")).lower()
        cancelled = moment(first.get("Cancelled at"))
        shipped_at = moment(first.get("Fulfilled at"))
        paid_at = moment(first.get("Paid at"))
        if financial in PAID and not paid_at:
            paid_at = moment(first.get("Created at"))  # paid orders without a time paid at checkout
        total = amount(first.get("Total"))
        paid = total
        if financial == "partially_paid" and total is not None:
            paid = total - (amount(first.get("Outstanding Balance")) or 0)
        buyer = text(first.get("Email")) or text(first.get("Phone")) or text(first.get("Billing Name"))
        if not buyer:
            buyer, anonymous = f"anon:{oid}", anonymous + 1
        address = ", ".join(text(first.get(c)) for c in (
            "Shipping Address1", "Shipping Address2", "Shipping City", "Shipping Province", "Shipping Zip",
            "Shipping Country") if text(first.get(c)))
        yield {
            "_line": line,
            "order_id": oid,
            "buyer_id": buyer[:120],
            "buyer_nick": text(first.get("Billing Name"))[:60],
            "created_at": moment(first.get("Created at")),
            "paid_at": paid_at if financial in PAID else "",
            "shipped_at": shipped_at,
            "closed_at": cancelled,
            "total_amount": str(total) if total is not None else first.get("Total"),
            "paid_amount": (str(paid) if paid is not None else first.get("Total")) if financial in PAID else "0",
            "refund_amount": first.get("Refunded Amount", "0") if financial in PAID else "0",
            "status": status(financial, text(first.get("Fulfillment Status")).lower(), bool(cancelled), bool(shipped_at)),
            "title": text(first.get("Lineitem name")),
            "courier": text(first.get("Shipping Method")),
            "address": address,
            "buyer_note": text(first.get("Notes")),
            "seller_remark": text(first.get("Tags")),
            "items": items_text([
                (text(r.get("Lineitem sku")) or text(r.get("Lineitem name")), r.get("Lineitem quantity"),
                 amount(r.get("Lineitem price"))) for r in lines
            ]),
        }
    if anonymous:
        notes.append(f"{anonymous} order(s) name no buyer (Email, Phone, Billing Name): each gets its own anonymous buyer")


SHOPIFY = OrderFormat(
    name="shopify", label="Shopify", columns=COLUMNS, required=("Name", "Created at", "Lineitem quantity", "Total"),
    convert=convert, group_key="Name",
)
