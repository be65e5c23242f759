"""抖店 (抖音电商 merchant backend → 订单管理 → 导出查询订单), 商品维度: one line per 子订单.

Lines of one order share 主订单编号. Each line's 订单应付金额 is what the buyer pays for that
sub-order (after discounts, shipping included); the order's paid_amount is their sum, its
total_amount that sum plus the lines' 优惠总金额. A sub-order whose 售后状态 says 退款成功 (or
售后完成 with a refund) is refunded in full: refund_amount is the sum of those lines.
"""

import re
from collections.abc import Iterable, Iterator

from kefu.orders.enums import OrderStatus

from .base import OrderFormat, amount, group_lines, items_text, status_of, sum_amounts, text

COLUMNS = {
    "主订单编号": "order_id (required; one line per 子订单, grouped)",
    "子订单编号": "ignored (the item line's own id)",
    "选购商品": "title (first line's)",
    "商品规格": "ignored",
    "商品数量": "items: quantity (required)",
    "商品ID": "items: sku when there is no 商家编码",
    "商家编码": "items: sku (the shop's own code)",
    "商品单价": "items: unit price",
    "商品金额": "items: unit price (older exports)",
    "订单应付金额": "paid_amount (sum of the lines, when 支付完成时间 is set; required)",
    "优惠总金额": "total_amount = paid + 优惠总金额 (summed over the lines)",
    "运费": "ignored (inside 订单应付金额)",
    "平台优惠": "ignored", "商家优惠": "ignored", "达人优惠": "ignored", "支付方式": "ignored",
    "订单提交时间": "created_at (required)",
    "支付完成时间": "paid_at",
    "发货时间": "shipped_at",
    "订单完成时间": "completed_at",
    "订单状态": "status (with 售后状态)",
    "售后状态": "退款成功 → that line refunded in full; 退款中/售后中 → refunding",
    "取消原因": "ignored",
    "快递信息": "courier and tracking_no (`中通快递 7512345678`)",
    "买家昵称": "buyer_id (anonymous buyer per order when absent)",
    "买家留言": "buyer_note",
    "商家备注": "seller_remark",
    "收件人": "ignored", "收件人手机号": "ignored",
    "省": "address", "市": "address", "区": "address", "街道": "address", "详细地址": "address",
    "订单类型": "ignored", "达人ID": "ignored", "达人昵称": "ignored", "流量来源": "ignored",
}
STATUS = (
    ("待支付", OrderStatus.UNPAID),
    ("待付款", OrderStatus.UNPAID),
    ("已关闭", OrderStatus.CLOSED),
    ("已取消", OrderStatus.CLOSED),
    ("备货中", OrderStatus.PAID),
    ("待发货", OrderStatus.PAID),
    ("部分发货", OrderStatus.SHIPPED),
    ("已发货", OrderStatus.SHIPPED),
    ("已签收", OrderStatus.SIGNED),
    ("已完成", OrderStatus.COMPLETED),
)
REFUNDED = ("退款成功", "已退款")
REFUNDING = ("退款中", "售后中", "待商家处理", "待买家退货", "待商家收货")


def courier_split(value: str) -> tuple[str, str]:
    """`中通快递 7512345678` / `中通快递:7512345678` → (courier, tracking_no)."""
    parts = [p for p in re.split(r"[\s:：,，]+", text(value)) if p]
    if not parts:
        return "", ""
    if len(parts) == 1:
        return ("", parts[0]) if re.search(r"\d{6,}", parts[0]) else (parts[0], "")
    return parts[0][:40], parts[-1][:64]


def convert(headers: list[str], rows: Iterable[dict], notes: list[str]) -> Iterator[dict]:
    anonymous = "买家昵称" not in headers
    if anonymous:
        notes.append("no 买家昵称 column: each order gets its own anonymous buyer and counts as a silent order")
    for line, lines in group_lines(rows, "主订单编号"):
        first = lines[0]
        oid = text(first.get("主订单编号"))
        paid_at = text(first.get("支付完成时间"))
        pays = [r.get("订单应付金额") for r in lines]
        paid = sum_amounts(pays)
        discount = sum_amounts(r.get("优惠总金额") for r in lines)
        refunded = [r.get("订单应付金额") for r in lines if any(k in text(r.get("售后状态")) for k in REFUNDED)]
        refunding = any(any(k in text(r.get("售后状态")) for k in REFUNDING) for r in lines)
        refund = sum_amounts(refunded)
        status = status_of(first.get("订单状态", ""), STATUS)
        if refunded and len(refunded) == len(lines) and paid_at:
            status = OrderStatus.REFUNDED
        elif refunding and paid_at:
            status = OrderStatus.REFUNDING
        courier, tracking = courier_split(first.get("快递信息", ""))
        address = "".join(text(first.get(c)) for c in ("省", "市", "区", "街道", "详细地址"))
        g = {
            "_line": line,
            "order_id": oid,
            "buyer_id": f"anon:{oid}" if anonymous or not text(first.get("买家昵称")) else text(first["买家昵称"]),
            "created_at": first.get("订单提交时间"),
            "paid_at": paid_at,
            "shipped_at": first.get("发货时间", ""),
            "completed_at": first.get("订单完成时间", ""),
            "paid_amount": paid if paid_at else "0",
            "total_amount": (paid + discount) if not isinstance(paid, str) and not isinstance(discount, str) else paid,
            "refund_amount": refund if paid_at else "0",
            "status": status,
            "title": text(first.get("选购商品")),
            "courier": courier,
            "tracking_no": tracking,
            "address": address,
            "buyer_note": text(first.get("买家留言")),
            "seller_remark": text(first.get("商家备注")),
            "items": items_text([
                (text(r.get("商家编码")) or text(r.get("商品ID")), r.get("商品数量"),
                 amount(r.get("商品单价", r.get("商品金额")))) for r in lines
            ]),
        }
        for k in ("paid_amount", "total_amount", "refund_amount"):
            g[k] = str(g[k])
        yield g


DOUYIN = OrderFormat(
    name="douyin", label="抖店", columns=COLUMNS, required=("主订单编号", "商品数量", "订单应付金额", "订单提交时间"),
    convert=convert, group_key="主订单编号",
)
