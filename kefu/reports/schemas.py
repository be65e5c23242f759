"""Input and output schemas of the reports API (names prefixed so no other app's component clashes)."""

import datetime as dt

from ninja import Schema


class DailyReportOrderOut(Schema):
    order_id: int
    order_no: str
    buyer: str
    title: str
    paid_at: str
    items: list[list]  # [sku, quantity, price]
    paid: str
    refund: str
    taken_back: bool


class DailyReportChangesOut(Schema):
    figures: list[dict]  # {key, signed, now}
    added: list[DailyReportOrderOut]
    removed: list[DailyReportOrderOut]
    changed: list[dict]  # {order_no, field, signed, now}


class DailyReportOut(Schema):
    id: int
    agent_id: int
    agent: str
    group: str
    day: dt.date
    state: str
    changed: bool
    figures: dict
    computed_at: dt.datetime
    note: str
    signed_at: dt.datetime | None
    signed_figures: dict | None = None
    orders: list[DailyReportOrderOut] | None = None
    signed_orders: list[DailyReportOrderOut] | None = None
    changes: DailyReportChangesOut | None = None


class DailyReportSignIn(Schema):
    note: str = ""


class DailyReportGenerateIn(Schema):
    day: dt.date


class ReportsCountOut(Schema):
    count: int


class DeptReportOut(Schema):
    id: int
    period: str
    start: dt.date
    end: dt.date
    data: dict  # kpi [{key, now, prev, change}], groups, aftersales, complaints, attendance, points, commissions
    computed_at: dt.datetime
    problems: str
    measures: str
    written_by: str | None
    written_at: dt.datetime | None
    delivered_at: dt.datetime | None


class DeptReportWriteIn(Schema):
    problems: str = ""
    measures: str = ""


class DeptReportGenerateIn(Schema):
    period: str  # day | week | month
    start: dt.date  # any day of the period


class AgentMonthReportOut(Schema):
    id: int
    agent_id: int
    agent: str
    month: dt.date
    state: str
    data: dict
    computed_at: dt.datetime
    analysis: str
    submitted_at: dt.datetime | None
    reply: str
    replied_by: str | None
    replied_at: dt.datetime | None


class AgentMonthReportSubmitIn(Schema):
    analysis: str


class AgentMonthReportAnswerIn(Schema):
    reply: str


class AgentMonthReportPrepareIn(Schema):
    month: str  # YYYY-MM
