"""`kefu kpi --format csv|xlsx`: the KPI report as one sheet of the shared writer (kefu.core.exports)."""

import datetime as dt

from kefu.core.exports import COUNT, MONEY, RATE, SECONDS, Sheet, csv_bytes, period_text, xlsx_bytes

from .kpi import figure_sets

COLUMN_LABELS = {
    "agent": "客服", "group": "组", "shop": "店铺", "receptions": "接待人数", "replied_receptions": "已回复接待",
    "reply_rate": "回复率", "first_response_seconds": "首次响应(秒)", "first_response_seconds_median": "首次响应中位数",
    "first_response_business_seconds": "首次响应(工作时间秒)", "response_seconds": "平均响应(秒)",
    "response_seconds_median": "响应中位数", "response_business_seconds": "平均响应(工作时间秒)",
    "response_business_seconds_median": "响应中位数(工作时间)", "answered_turns": "已回复轮次",
    "unanswered_turns": "未回复", "slow_turns": "慢响应", "inquiries": "询单人数",
    "inquiries_paid_same_day": "当日付款人数", "inquiries_paid_next_day": "次日付款人数",
    "inquiries_paid": "最终付款人数", "conversion_rate": "询单转化率", "orders": "订单数", "sales": "客服销售额",
    "net_sales": "净销售额", "paying_buyers": "客服销售人数", "avg_order_value": "客单价", "refunds": "退款金额",
    "refund_rate": "退款率", "score": "绩效分", "rank": "排名", "silent_orders": "静默订单数", "silent_sales": "静默销售额",
}


def report_rows(report: dict) -> tuple[list[str], list[dict]]:
    key = next(k for k in ("agents", "groups", "shops") if k in report)
    rows = [{k: v for k, v in r.items() if k != "agent_id"} for r in report[key]]
    columns = list(rows[0].keys()) if rows else ["agent"]
    return columns, rows


def report_kinds(columns: list[str]) -> dict:
    """rate/money/seconds of the report's own figures and of the figure sets other apps add."""
    kinds = {"reply_rate": RATE, "conversion_rate": RATE, "refund_rate": RATE, "sales": MONEY, "net_sales": MONEY,
             "avg_order_value": MONEY, "refunds": MONEY, "silent_sales": MONEY}
    for fs in figure_sets():
        for key, (_label, kind) in fs.fields.items():
            if kind in (RATE, MONEY, SECONDS):
                kinds[key] = kind
    for c in columns:
        if "seconds" in c:
            kinds.setdefault(c, SECONDS)
        elif c in ("receptions", "replied_receptions", "answered_turns", "unanswered_turns", "slow_turns", "orders",
                   "inquiries", "inquiries_paid", "inquiries_paid_same_day", "inquiries_paid_next_day",
                   "paying_buyers", "silent_orders", "rank"):
            kinds.setdefault(c, COUNT)
    return {c: kinds[c] for c in columns if c in kinds}


def report_file(report: dict, fmt: str) -> bytes:
    """The report's rows (agents, groups or shops) with the 全店 row under them in the XLSX."""
    from django.conf import settings
    from django.utils import translation

    from kefu.core.enums import Group

    columns, rows = report_rows(report)
    with translation.override(settings.LANGUAGE_CODE):  # the CLI's headers are Chinese: so are its group names
        rows = [{**r, "group": str(Group(r["group"]).label) if r["group"] else "—"}
                if r.get("group") in Group.values else r for r in rows]
    by_agent = "agents" in report
    total = {k: v for k, v in (report.get("shop_totals") or {}).items() if k in columns} if by_agent else None
    sheet = Sheet(title="客服绩效", columns=columns, rows=rows, labels=COLUMN_LABELS, kinds=report_kinds(columns),
                  period=period_text(*(dt.date.fromisoformat(report[k]) for k in ("from", "to"))), total=total,
                  total_label="全店")
    return csv_bytes(sheet) if fmt == "csv" else xlsx_bytes([sheet])
