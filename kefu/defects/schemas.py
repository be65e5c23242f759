import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class AlertOut(Schema):
    id: int
    sku: str
    batch: str
    reason: str
    state: str
    case_count: int
    buyer_count: int
    threshold: int
    window_days: int
    first_case_at: dt.datetime
    last_case_at: dt.datetime
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    closed_at: dt.datetime | None
    closed_by: str | None
    note: str


class OpinionOut(Schema):
    aspect: str
    label: str
    positive: int
    negative: int
    examples: list[dict]


class AlertCaseOut(Schema):
    case_id: int
    sku: str
    type: str
    reason: str
    state: str
    order_id: str | None
    created_at: dt.datetime


class AlertEventOut(Schema):
    action: str
    from_state: str
    to_state: str
    actor: str | None
    case_count: int
    note: str
    created_at: dt.datetime


class AlertBatchOut(Schema):
    code: str
    produced_on: dt.date | None
    expires_on: dt.date | None
    quantity: int | None = Field(None, description="the batch's quantity in stock (imported with the catalogue)")


class AlertDetailOut(AlertOut):
    cases: list[AlertCaseOut]
    events: list[AlertEventOut]
    opinions: list[OpinionOut]
    batch_info: AlertBatchOut | None = Field(None, description="the batch from the imported catalogue, if any")


class AlertActIn(Schema):
    note: str | None = Field(None, max_length=500, description="what was done, e.g. 已通知工厂 (required to acknowledge)")


class DefectRuleOut(Schema):
    reasons: list[str]
    threshold: int
    window_days: int
    updated_at: dt.datetime | None


class DefectRuleIn(Schema):
    reasons: list[str] | None = Field(None, description="reason codes counted as quality problems")
    threshold: int | None = Field(None, description="buyers reporting within the window (2..100)")
    window_days: int | None = Field(None, description="shop days, the first report's day counted (1..90)")


class BatchIn(Schema):
    case_id: int
    sku: str = Field(..., min_length=1, max_length=80)
    batch: str = Field("", max_length=60, description="production batch; blank removes it")


class BatchOut(Schema):
    case_id: int
    sku: str
    batch: str


class DefectScanOut(Schema):
    raised: list[int]
    bumped: list[int]
    attached: int


class ReportRowOut(Schema):
    period: dt.date
    sku: str
    reason: str
    responsible: str
    cases: int
    qty: int
    refund: Decimal
    shipping: Decimal
    cost: Decimal


class ReportTotalsOut(Schema):
    cases: int
    qty: int
    refund: Decimal
    shipping: Decimal
    cost: Decimal


class ReportOut(Schema):
    date_from: dt.date
    date_to: dt.date
    group_by: str
    rows: list[ReportRowOut]
    totals: ReportTotalsOut


class ReportQueryIn(Schema):
    shop: str | None = None
    date_from: dt.date | None = Field(None, alias="from")
    date_to: dt.date | None = Field(None, alias="to")
    group_by: str | None = Field(None, description="day, week or month (shop time)")
    responsible: str | None = Field(None, description="a party, or none (not set)")
    reason: str | None = None
    sku: str | None = None
