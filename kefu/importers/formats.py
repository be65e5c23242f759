"""Column mappings of the platforms' export files onto Kefu's generic rows."""

from kefu.core.errors import KefuError
from kefu.orders.enums import OrderStatus
from kefu.orders.services import parse_money

GENERIC_MESSAGE_COLUMNS = ("message_id", "channel", "buyer_id", "buyer_nick", "agent_id", "sender", "sent_at", "text", "order_id")
GENERIC_ORDER_COLUMNS = (
    "order_id", "buyer_id", "created_at", "paid_at", "status", "total_amount", "paid_amount",
    "refund_amount", "refunded_at", "shipped_at", "signed_at", "closed_at", "items",
)

# Taobao/Tmall seller centre (卖家中心 → 已卖出的宝贝 → 批量导出) order export.
TAOBAO_ORDER_COLUMNS = {
    "订单编号": "order_id",
    "买家会员名": "buyer_id",
    "买家应付货款": "total_amount",
    "总金额": "total_amount",
    "买家实际支付金额": "paid_amount",
    "退款金额": "refund_amount",
    "订单状态": "status",
    "订单创建时间": "created_at",
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
TAOBAO_STATUS = (
    ("等待买家付款", OrderStatus.UNPAID),
    ("等待卖家发货", OrderStatus.PAID),
    ("买家已付款", OrderStatus.PAID),
    ("卖家已发货", OrderStatus.SHIPPED),
    ("等待买家确认", OrderStatus.SHIPPED),
    ("交易成功", OrderStatus.COMPLETED),
    ("退款中", OrderStatus.REFUNDING),
    ("交易关闭", OrderStatus.CLOSED),
)
TAOBAO_REQUIRED = ("订单编号", "订单创建时间")


def _require(headers: list[str], required, fmt: str) -> None:
    missing = [c for c in required if c not in headers]
    if missing:
        raise KefuError(f"{fmt} file lacks the column(s): {', '.join(missing)}", field="header")


def map_rows(kind: str, fmt: str, headers: list[str], rows: list[dict]) -> tuple[list[dict], list[str]]:
    """Rows in the generic shape for `kind` (messages|orders), plus warnings for the user."""
    warnings: list[str] = []
    if fmt == "generic":
        required = ("message_id", "buyer_id", "sender", "sent_at") if kind == "messages" else ("order_id", "buyer_id", "created_at")
        _require(headers, required, "generic " + kind)
        known = GENERIC_MESSAGE_COLUMNS if kind == "messages" else GENERIC_ORDER_COLUMNS
        extra = [h for h in headers if h and h not in known and h not in ("buyer_nick", "title", "courier", "tracking_no", "address", "buyer_note", "seller_remark", "printed_at", "completed_at")]
        if extra:
            warnings.append(f"ignored unknown column(s): {', '.join(extra)}")
        return rows, warnings
    if fmt == "taobao" and kind == "orders":
        _require(headers, TAOBAO_REQUIRED, "taobao")
        ignored = [h for h in headers if h not in TAOBAO_COLUMNS_KNOWN]
        if ignored:
            warnings.append(f"ignored column(s): {', '.join(ignored)}")
        anonymous = "买家会员名" not in headers
        if anonymous:
            warnings.append("no 买家会员名 column: each order gets its own anonymous buyer and counts as a silent order")
        out, capped = [], []
        for r in rows:
            g = {TAOBAO_ORDER_COLUMNS[h]: v for h, v in r.items() if h in TAOBAO_ORDER_COLUMNS}
            oid = str(g.get("order_id", "")).strip()
            paid, refund = _amount(g.get("paid_amount")), _amount(g.get("refund_amount"))
            if paid is not None and refund is not None and refund > paid > 0:
                # Some exports give 买家实际支付金额 already net of refunds (tmall_order_report does:
                # paid + refund = 总金额); the refund recorded is then at most what was paid.
                g["refund_amount"] = g["paid_amount"]
                capped.append(oid)
            if anonymous:
                g["buyer_id"] = f"anon:{oid}"
            g["tracking_no"] = str(g.get("tracking_no", "")).replace("No:", "").strip()
            status = str(g.get("status", "")).strip()
            g["status"] = next((code for label, code in TAOBAO_STATUS if label in status), "") if status else ""
            if status and not g["status"]:
                g["status"] = "?" + status  # rejected by validation with the label named
            out.append(g)
        if capped:
            warnings.append(
                f"{len(capped)} order(s) have 退款金额 above 买家实际支付金额 (the paid amount is already net of "
                f"refunds in this export); their refund is recorded as the paid amount, e.g. 订单编号 "
                + ", ".join(capped[:5])
            )
        return out, warnings
    raise KefuError(f"unknown format {fmt!r} for {kind} (known: generic; taobao for orders)", field="format")


TAOBAO_COLUMNS_KNOWN = set(TAOBAO_ORDER_COLUMNS)



def _amount(value):
    try:
        return parse_money(value, "amount")
    except KefuError:
        return None  # validation names the bad cell later
