"""JD seller centre (京东商家后台 → 订单管理 → 订单导出): one line per SKU of an order.

The order's amounts (订单金额, 结算金额, 余额支付, 应付金额, 运费金额) repeat on each of its
lines; the SKU's own columns are 商品ID, 商品名称, 订购数量 and 京东价 (unit price). A line
of an order whose status begins with (删除) is a deleted order: it is read as closed.
"""

from collections.abc import Iterable, Iterator

from kefu.orders.enums import OrderStatus

from .base import OrderFormat, amount, group_lines, items_text, status_of, text

COLUMNS = {
    "订单号": "order_id (required; one line per SKU, grouped)",
    "商品ID": "items: sku (required)",
    "商品名称": "title (first line's)",
    "订购数量": "items: quantity (required)",
    "京东价": "items: unit price",
    "货号": "items: sku when 商品ID is empty",
    "下单时间": "created_at (required)",
    "付款确认时间": "paid_at",
    "订单完成时间": "completed_at",
    "订单金额": "total_amount (goods + shipping, before discounts)",
    "应付金额": "paid_amount = 应付金额 + 余额支付, when 付款确认时间 is set (else 0)",
    "余额支付": "the part paid from the JD balance (added to 应付金额)",
    "结算金额": "paid_amount when there is no 应付金额",
    "运费金额": "ignored (inside 订单金额)",
    "订单状态": "status",
    "下单帐号": "buyer_id (anonymous buyer per order when absent)",
    "客户地址": "address",
    "订单备注": "buyer_note",
    "商家备注": "seller_remark",
    "支付方式": "ignored", "订单类型": "ignored", "客户姓名": "ignored", "联系电话": "ignored",
    "发票类型": "ignored", "发票抬头": "ignored", "发票内容": "ignored", "商家备注等级（等级1-5为由高到低）": "ignored",
    "增值税发票": "ignored", "订单来源": "ignored", "订单渠道": "ignored",
}
STATUS = (
    ("删除", OrderStatus.CLOSED),
    ("取消", OrderStatus.CLOSED),
    ("等待付款", OrderStatus.UNPAID),
    ("等待出库", OrderStatus.PAID),
    ("等待打包", OrderStatus.PAID),
    ("暂停", OrderStatus.PAID),
    ("锁定", OrderStatus.PAID),
    ("等待发货", OrderStatus.PRINTED),
    ("等待确认收货", OrderStatus.SHIPPED),
    ("配送退货", OrderStatus.REFUNDING),
    ("完成", OrderStatus.COMPLETED),
)
ORDER_LEVEL = ("订单金额", "结算金额", "应付金额", "余额支付", "订单状态", "下单时间", "付款确认时间")


def convert(headers: list[str], rows: Iterable[dict], notes: list[str]) -> Iterator[dict]:
    anonymous = "下单帐号" not in headers
    if anonymous:
        notes.append("no 下单帐号 column: each order gets its own anonymous buyer and counts as a silent order")
    split = []
    for line, lines in group_lines(rows, "订单号"):
        first = lines[0]
        oid = text(first.get("订单号"))
        # the order's own columns must agree on every line of it
        if any(text(r.get(c)) != text(first.get(c)) for r in lines[1:] for c in ORDER_LEVEL if c in first):
            split.append(oid)
        paid_at = text(first.get("付款确认时间"))
        if text(first.get("应付金额")):
            due, balance = amount(first.get("应付金额")), amount(first.get("余额支付")) or 0
            settled = str(due + balance) if due is not None else first.get("应付金额")
        else:
            settled = first.get("结算金额")
        g = {
            "_line": line,
            "order_id": oid,
            "buyer_id": f"anon:{oid}" if anonymous or not text(first.get("下单帐号")) else text(first["下单帐号"]),
            "created_at": first.get("下单时间"),
            "paid_at": paid_at,
            "completed_at": first.get("订单完成时间", ""),
            "total_amount": first.get("订单金额"),
            "paid_amount": settled if paid_at else "0",
            "status": status_of(first.get("订单状态", ""), STATUS),
            "title": text(first.get("商品名称")),
            "address": text(first.get("客户地址")),
            "buyer_note": text(first.get("订单备注")),
            "seller_remark": text(first.get("商家备注")),
            "items": items_text([
                (text(r.get("商品ID")) or text(r.get("货号")), r.get("订购数量"), amount(r.get("京东价"))) for r in lines
            ]),
        }
        yield g
    if split:
        notes.append(
            f"{len(split)} order(s) whose lines disagree on the order's amounts, status or times; "
            f"the first line of each was used, e.g. 订单号 {', '.join(split[:5])}"
        )


JD = OrderFormat(
    name="jd", label="京东", columns=COLUMNS, required=("订单号", "商品ID", "订购数量", "下单时间", "订单金额"),
    convert=convert, group_key="订单号",
)
