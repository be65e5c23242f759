import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class IssueOut(Schema):
    id: int
    kind: str
    state: str
    order_id: str
    buyer_id: str
    paid_at: dt.datetime | None
    shipped_at: dt.datetime | None
    due_at: dt.datetime | None
    sku: str
    detail: dict
    detected_day: dt.date
    detected_at: dt.datetime
    resolution: str
    resolved_by: str | None
    resolved_at: dt.datetime | None
    note: str


class IssueEventOut(Schema):
    action: str
    from_state: str
    to_state: str
    actor: str | None
    note: str
    created_at: dt.datetime


class IssueDetailOut(IssueOut):
    events: list[IssueEventOut]


class IssueQuery(Schema):
    shop: str | None = None
    day: dt.date | None = Field(None, description="shop day of the audit that listed the issue")
    kind: str | None = Field(None, description="late, overdue_hard, out_of_stock, oversold or after_care")
    state: str | None = Field(None, description="open or resolved")
    limit: int = Field(200, ge=1, le=1000)


class ResolveIn(Schema):
    action: str = Field(..., description="an action of the issue's kind (see the guide); there is no dismiss")
    note: str | None = Field(None, max_length=500)
    delist: bool = Field(False, description="stock issues: also take the SKU off sale")


class AuditOut(Schema):
    day: dt.date
    created: dict[str, int]
    closed: dict[str, int]
    delisted: list[str]


class ShippingSettingsIn(Schema):
    promise_hours: int | None = None
    hard_limit_hours: int | None = None
    audit_hour: int | None = None
    lookback_days: int | None = None
    after_care_days: int | None = None
    auto_delist: bool | None = None


class ShippingSettingsOut(Schema):
    promise_hours: int
    hard_limit_hours: int
    audit_hour: int
    lookback_days: int
    after_care_days: int
    auto_delist: bool


class SkuOut(Schema):
    code: str
    title: str
    product: str | None
    category: str | None
    stock: int | None
    pending: int
    available: int | None
    listed: bool
    delisted_at: dt.datetime | None
    rating: Decimal | None
    rating_count: int
    category_average: Decimal | None
    below_average: bool


class StockIn(Schema):
    quantity: int | None = Field(None, description="set the stock on hand")
    delta: int | None = Field(None, description="or add to it (negative takes away)")
    note: str | None = Field(None, max_length=500)


class ShippingNoteIn(Schema):
    note: str | None = Field(None, max_length=500)


class SkuRatingIn(Schema):
    sku: str
    rating: Decimal | str | float | int
    count: int | None = None
    category_average: Decimal | str | float | int | None = Field(
        None, description="the platform's average of the item's category (default: the shop's own mean)")


class SkuRatingBatchIn(Schema):
    ratings: list[SkuRatingIn]


class RatingsOut(Schema):
    updated: int
