"""Taobao/Tmall seller centre (卖家中心 → 已卖出的宝贝 → 批量导出) order export, one line per order.

Amounts: 买家实际支付金额 is what the buyer paid. Some exports (the public Tmall teaching set
among them) give it already net of refunds: for every refunded row 买家实际支付金额 + 退款金额
= 总金额, and a refund can then exceed the "paid" amount. Kefu's paid_amount is what was paid
before any refund, so in that reading paid_amount = 买家实际支付金额 + 退款金额. `amounts=auto`
(default) detects the net form, `net`/`gross` force a reading; the import summary says which.
"""

from collections.abc import Iterable, Iterator

from kefu.orders.enums import OrderStatus

from .base import OrderFormat, amount, status_of, text

COLUMNS = {
    "订单编号": "order_id (required)",
    "买家会员名": "buyer_id",
    "总金额": "total_amount",
    "买家应付货款": "total_amount (when 总金额 is absent)",
    "买家实际支付金额": "paid_amount (gross or net of refunds: see amounts)",
    "退款金额": "refund_amount",
    "订单状态": "status",
    "订单创建时间": "created_at (required)",
    "订单付款时间": "paid_at",
    "发货时间": "shipped_at",
    "确认收货时间": "completed_at",
    "宝贝标题": "title",
    "物流单号": "tracking_no",
    "物流公司": "courier",
    "收货地址": "address",
    "买家留言": "buyer_note",
    "订单备注": "seller_remark",
}
FIELDS = {
    "订单编号": "order_id", "买家会员名": "buyer_id", "买家实际支付金额": "paid_amount", "退款金额": "refund_amount",
    "订单创建时间": "created_at", "订单付款时间": "paid_at", "发货时间": "shipped_at", "确认收货时间": "completed_at",
    "宝贝标题": "title", "物流单号": "tracking_no", "物流公司": "courier", "收货地址": "address",
    "买家留言": "buyer_note", "订单备注": "seller_remark",
}
STATUS = (
    ("等待买家付款", OrderStatus.UNPAID),
    ("等待卖家发货", OrderStatus.PAID),
    ("买家已付款", OrderStatus.PAID),
    ("卖家已发货", OrderStatus.SHIPPED),
    ("等待买家确认", OrderStatus.SHIPPED),
    ("交易成功", OrderStatus.COMPLETED),
    ("退款中", OrderStatus.REFUNDING),
    ("交易关闭", OrderStatus.CLOSED),
)
AMOUNTS = ("auto", "net", "gross")


def amounts_reading(rows: Iterable[dict], total_col: str | None) -> tuple[str, str]:
    """('net'|'gross', why) from the refunded rows of the file."""
    refunded = consistent = over = 0
    for r in rows:
        paid, refund = amount(r.get("买家实际支付金额")), amount(r.get("退款金额"))
        if not refund or paid is None:
            continue
        refunded += 1
        total = amount(r.get(total_col)) if total_col else None
        consistent += total is not None and paid + refund == total
        over += refund > paid
    if refunded and over and consistent == refunded:
        return "net", (
            f"detected: in all {refunded} refunded orders 买家实际支付金额 + 退款金额 = {total_col}, "
            f"and {over} refund(s) exceed 买家实际支付金额"
        )
    if over:
        return "mixed", (
            f"{over} refund(s) exceed 买家实际支付金额 but only {consistent} of {refunded} refunded orders "
            f"have 买家实际支付金额 + 退款金额 = {total_col or '总金额'}"
        )
    return "gross", f"detected: no refund exceeds 买家实际支付金额 ({refunded} refunded orders)"


def _total_col(headers: list[str]) -> str | None:
    return "总金额" if "总金额" in headers else ("买家应付货款" if "买家应付货款" in headers else None)


def prepare(headers: list[str], rows: Iterable[dict], *, amounts: str = "auto") -> dict:
    """amounts=auto read from the whole file's refunded rows (a pass of its own, counting only)."""
    from kefu.core.errors import KefuError

    if amounts not in AMOUNTS:
        raise KefuError(f"amounts must be one of {', '.join(AMOUNTS)}, got {amounts!r}", field="amounts")
    if not ("退款金额" in headers and "买家实际支付金额" in headers):
        return {"amounts": "gross", "why": "no 退款金额 column"}
    if amounts != "auto":
        return {"amounts": amounts, "why": "as asked (--amounts)"}
    reading, why = amounts_reading(rows, _total_col(headers))
    if reading == "mixed":
        raise KefuError(
            f"cannot tell how 买家实际支付金额 is meant: {why}; import with --amounts net "
            "(paid is net of refunds) or --amounts gross (paid before refunds)", field="amounts")
    return {"amounts": reading, "why": why}


def convert(headers: list[str], rows: Iterable[dict], notes: list[str], *, amounts: str, why: str) -> Iterator[dict]:
    """File rows → generic rows; `amounts` is prepare's reading (net or gross)."""
    reading = amounts
    total_col = _total_col(headers)
    if "退款金额" in headers and "买家实际支付金额" in headers:
        notes.append(
            "reading: 买家实际支付金额 is "
            + ("net of refunds, so paid_amount = 买家实际支付金额 + 退款金额" if reading == "net"
               else "what was paid before refunds (paid_amount = 买家实际支付金额)")
            + f" ({why})"
        )
    anonymous = "买家会员名" not in headers
    if anonymous:
        notes.append("no 买家会员名 column: each order gets its own anonymous buyer and counts as a silent order")
    fields = [(h, f) for h, f in FIELDS.items() if h in headers]
    for i, r in enumerate(rows):
        g = {field: r[h] for h, field in fields}
        g["_line"] = r.get("_line", i + 2)
        oid = text(g.get("order_id"))
        if total_col:
            g["total_amount"] = r.get(total_col)
        if reading == "net":
            paid, refund = amount(g.get("paid_amount")), amount(g.get("refund_amount"))
            if paid is not None and refund:
                g["paid_amount"] = str(paid + refund)
        if anonymous:
            g["buyer_id"] = f"anon:{oid}"
        g["tracking_no"] = text(g.get("tracking_no")).replace("No:", "").strip()
        g["status"] = status_of(r.get("订单状态", ""), STATUS)
        yield g


TAOBAO = OrderFormat(
    name="taobao", label="淘宝/天猫", columns=COLUMNS, required=("订单编号", "订单创建时间"),
    convert=convert, options=("amounts",), prepare=prepare,
)
