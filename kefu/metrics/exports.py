"""Turning KPI reports (or any table) into CSV / XLSX bytes; used by the CLI and the web exports."""

import csv
import io

from openpyxl import Workbook

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


def safe_cell(value):
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading quote.

    Agent names, buyer nicks and notes come from buyers and platforms; every CSV/XLSX Kefu writes
    (web exports, `kefu kpi`) passes through to_csv/to_xlsx, which apply this to each cell.
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def report_rows(report: dict) -> tuple[list[str], list[dict]]:
    key = next(k for k in ("agents", "groups", "shops") if k in report)
    rows = [{k: v for k, v in r.items() if k != "agent_id"} for r in report[key]]
    columns = list(rows[0].keys()) if rows else ["agent"]
    return columns, rows


def to_csv(columns: list[str], rows: list[dict], labels: dict | None = None) -> bytes:
    labels = COLUMN_LABELS if labels is None else labels
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([labels.get(c, c) for c in columns])
    for r in rows:
        w.writerow(["" if r.get(c) is None else safe_cell(r.get(c)) for c in columns])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(columns: list[str], rows: list[dict], labels: dict | None = None, title: str = "Kefu") -> bytes:
    from decimal import Decimal

    labels = COLUMN_LABELS if labels is None else labels
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append([labels.get(c, c) for c in columns])
    for r in rows:
        line = []
        for c in columns:
            v = r.get(c)
            if isinstance(v, str) and c in ("sales", "net_sales", "avg_order_value", "refunds", "silent_sales"):
                v = Decimal(v)
            line.append(safe_cell(v))
        ws.append(line)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
