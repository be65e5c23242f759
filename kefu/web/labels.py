"""Column labels of the web tables and exports (translated; Chinese is the source language)."""

from django.utils.translation import gettext_lazy as _

from kefu.metrics.kpi import figure_sets

KPI_LABELS = {
    "rank": _("排名"), "agent": _("客服"), "group": _("组"), "shop": _("店铺"), "score": _("绩效分"),
    "day": _("日期"),
    "receptions": _("接待人数"), "replied_receptions": _("已回复接待"), "reply_rate": _("回复率"),
    "first_response_seconds": _("首次响应(秒)"), "first_response_seconds_median": _("首次响应中位数(秒)"),
    "first_response_business_seconds": _("首次响应(工作时间秒)"),
    "response_seconds": _("平均响应(秒)"), "response_seconds_median": _("响应中位数(秒)"),
    "response_business_seconds": _("平均响应(工作时间秒)"),
    "response_business_seconds_median": _("响应中位数(工作时间秒)"),
    "answered_turns": _("已回复轮次"), "unanswered_turns": _("未回复"), "slow_turns": _("慢响应"),
    "inquiries": _("询单人数"), "inquiries_paid_same_day": _("当日付款人数"),
    "inquiries_paid_next_day": _("次日付款人数"), "inquiries_paid": _("最终付款人数"),
    "conversion_rate": _("询单转化率"), "orders": _("订单数"), "sales": _("客服销售额"),
    "net_sales": _("净销售额"), "paying_buyers": _("客服销售人数"), "avg_order_value": _("客单价"),
    "refunds": _("退款金额"), "refund_rate": _("退款率"), "silent_orders": _("静默订单数"),
    "silent_sales": _("静默销售额"),
}

# On pages durations are shown as m:ss / h:mm:ss, so their headers drop the "(秒)".
PAGE_TIME_LABELS = {
    "first_response_seconds": _("首次响应"), "first_response_seconds_median": _("首次响应中位数"),
    "first_response_business_seconds": _("首次响应(工作时间)"), "response_seconds": _("平均响应"),
    "response_seconds_median": _("响应中位数"), "response_business_seconds": _("平均响应(工作时间)"),
    "response_business_seconds_median": _("响应中位数(工作时间)"),
}

CONVERSATION_LABELS = {
    "id": _("会话"), "buyer_id": _("买家ID"), "nick": _("昵称"), "agent": _("客服"),
    "started_at": _("开始"), "ended_at": _("最后消息"), "message_count": _("消息数"),
    "buyer_message_count": _("买家消息数"), "waiting": _("待回复"),
}

RATE_KEYS = {"reply_rate", "conversion_rate", "refund_rate"}
SECONDS_KEYS = {k for k in KPI_LABELS if "seconds" in k}
MONEY_KEYS = {"sales", "net_sales", "avg_order_value", "refunds", "silent_sales"}
# The figure sets other apps add to the report (催付, SLA, CSAT …) bring their own labels and kinds.
for _fs in figure_sets():
    for _key, (_label, _kind) in _fs.fields.items():
        KPI_LABELS[_key] = _label
        {"rate": RATE_KEYS, "seconds": SECONDS_KEYS, "money": MONEY_KEYS}.get(_kind, set()).add(_key)

# What each page table shows; the exports carry every figure.
TODAY_COLUMNS = ("agent", "receptions", "reply_rate", "first_response_seconds", "response_seconds",
                 "unanswered_turns", "slow_turns", "inquiries", "conversion_rate", "orders", "sales",
                 "avg_order_value")
DAILY_COLUMNS = ("day", "receptions", "reply_rate", "first_response_seconds", "response_seconds",
                 "unanswered_turns", "slow_turns", "inquiries", "conversion_rate", "orders", "sales",
                 "avg_order_value", "refund_rate")
AGENT_FIGURES = ("rank", "score", "receptions", "reply_rate", "first_response_seconds",
                 "first_response_seconds_median", "response_seconds", "response_seconds_median",
                 "slow_turns", "unanswered_turns", "inquiries", "inquiries_paid", "conversion_rate",
                 "orders", "sales", "net_sales", "paying_buyers", "avg_order_value", "refunds", "refund_rate")


def column_kinds(columns, rows, extra: dict | None = None) -> dict:
    """How each export column is written (kefu.core.exports): rates as %, money with two decimals,
    seconds and whole-number columns as numbers; `extra` names the kinds of an app's own columns."""
    from kefu.core.exports import COUNT, MONEY, RATE, SECONDS

    kinds = {}
    for c in columns:
        if c in RATE_KEYS:
            kinds[c] = RATE
        elif c in MONEY_KEYS:
            kinds[c] = MONEY
        elif c in SECONDS_KEYS:
            kinds[c] = SECONDS
        else:
            values = [r.get(c) for r in rows if r.get(c) is not None]
            if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                kinds[c] = COUNT
    return kinds | (extra or {})
