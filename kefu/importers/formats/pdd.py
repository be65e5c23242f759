"""拼多多 merchant backend (拼多多商家后台 → 订单查询 → 导出订单): one line per order.

Amounts in the file's own terms: 商品总价(元) + 邮费(元) is the order before discounts,
用户实付金额(元) what the buyer paid (Kefu's paid_amount), 商家实收金额(元) what the shop
receives (paid + platform-funded discounts; not Kefu's figure). The export has no refund amount:
a line whose 售后状态 says 退款成功 is a full refund of what was paid. It names no buyer, so
every order gets its own anonymous buyer.
"""

from collections.abc import Iterable, Iterator
from decimal import Decimal

from kefu.orders.enums import OrderStatus

from .base import OrderFormat, amount, items_text, status_of, text

COLUMNS = {
    "订单号": "order_id (required)",
    "订单状态": "status (with 售后状态)",
    "售后状态": "退款成功 → refund_amount = 用户实付金额(元), status refunded; 退款中/处理中 → refunding",
    "商品": "title",
    "商品总价(元)": "total_amount (with 邮费(元))",
    "邮费(元)": "total_amount (added)",
    "用户实付金额(元)": "paid_amount (required)",
    "商家实收金额(元)": "ignored (the shop's receipt, not what the buyer paid)",
    "店铺优惠折扣(元)": "ignored (inside the difference total − paid)",
    "平台优惠折扣(元)": "ignored", "多多支付立减金额(元)": "ignored",
    "商品数量(件)": "items: quantity (required)",
    "商品id": "items: sku when there is no 商家编码-规格维度",
    "商家编码-规格维度": "items: sku (the shop's own SKU code)",
    "商家编码-商品维度": "ignored", "商品规格": "ignored", "样式ID": "ignored",
    "订单成交时间": "created_at (else 支付时间 / 拼单成功时间)",
    "支付时间": "paid_at (else 订单成交时间 when the order is paid)",
    "拼单成功时间": "created_at when nothing earlier is given",
    "发货时间": "shipped_at",
    "确认收货时间": "completed_at",
    "快递单号": "tracking_no",
    "快递公司": "courier",
    "商家备注": "seller_remark",
    "买家留言": "buyer_note",
}
CENT = Decimal("0.01")
STATUS = (
    ("待支付", OrderStatus.UNPAID),
    ("未支付", OrderStatus.UNPAID),
    ("已取消", OrderStatus.CLOSED),
    ("待发货", OrderStatus.PAID),
    ("未发货", OrderStatus.PAID),
    ("待签收", OrderStatus.SHIPPED),
    ("已发货", OrderStatus.SHIPPED),
    ("已签收", OrderStatus.SIGNED),
    ("已收货", OrderStatus.COMPLETED),
)
AFTERSALE = (("退款成功", OrderStatus.REFUNDED), ("退款中", OrderStatus.REFUNDING), ("处理中", OrderStatus.REFUNDING))


def first_of(row: dict, *cols: str) -> str:
    return next((text(row[c]) for c in cols if text(row.get(c))), "")


def convert(headers: list[str], rows: Iterable[dict], notes: list[str]) -> Iterator[dict]:
    notes += ["no buyer column in 拼多多 exports: each order gets its own anonymous buyer and counts as a silent order"]
    refunded = 0
    for i, r in enumerate(rows):
        oid = text(r.get("订单号"))
        status = status_of(r.get("订单状态", ""), STATUS)
        after = text(r.get("售后状态"))
        after_status = next((code for needle, code in AFTERSALE if needle in after), "")
        paid_at = first_of(r, "支付时间") or ("" if status in ("", OrderStatus.UNPAID) else first_of(r, "订单成交时间", "拼单成功时间"))
        paid = r.get("用户实付金额(元)")
        goods, post = amount(r.get("商品总价(元)")), amount(r.get("邮费(元)")) or 0
        qty = r.get("商品数量(件)")
        q = amount(qty)
        unit = (goods / q).quantize(CENT) if goods is not None and q else goods  # the export has no unit price
        g = {
            "_line": r.get("_line", i + 2),
            "order_id": oid,
            "buyer_id": f"anon:{oid}",
            "created_at": first_of(r, "订单成交时间", "支付时间", "拼单成功时间"),
            "paid_at": paid_at,
            "shipped_at": r.get("发货时间", ""),
            "completed_at": r.get("确认收货时间", ""),
            "total_amount": str(goods + post) if goods is not None else r.get("商品总价(元)"),
            "paid_amount": paid if paid_at else "0",
            "refund_amount": paid if after_status == OrderStatus.REFUNDED and paid_at else "0",
            "status": after_status or status,
            "title": text(r.get("商品")),
            "tracking_no": text(r.get("快递单号")),
            "courier": text(r.get("快递公司")),
            "seller_remark": text(r.get("商家备注")),
            "buyer_note": text(r.get("买家留言")),
            "items": items_text([(first_of(r, "商家编码-规格维度", "商品id"), qty, unit)]),
        }
        refunded += after_status == OrderStatus.REFUNDED
        yield g
    if refunded:
        notes.append(f"reading: {refunded} order(s) with 售后状态 退款成功 are read as fully refunded (用户实付金额)")


PDD = OrderFormat(
    name="pdd", label="拼多多", columns=COLUMNS, required=("订单号", "用户实付金额(元)", "商品数量(件)"),
    convert=convert,
)
