import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class TagOut(Schema):
    id: int
    name: str
    color: str


class TagIn(Schema):
    name: str = Field(..., max_length=20)
    color: str = Field("blue", max_length=10)


class TagCountOut(TagOut):
    buyers: int


class BuyerOut(Schema):
    buyer_id: str
    nick: str
    phone: str = Field(description="masked")
    grade: str | None
    tags: list[str]
    spend: Decimal = Field(description="Σ paid − refunded of the buyer's paid orders")
    paid_orders: int
    first_paid_at: dt.datetime | None
    last_paid_at: dt.datetime | None
    at_risk: bool
    is_spam: bool


class PlatformIdOut(Schema):
    buyer_id: str
    channels: list[str]
    alias: bool


class OrderRowOut(Schema):
    order_id: str
    status: str
    paid_amount: Decimal
    refund_amount: Decimal
    created_at: dt.datetime
    paid_at: dt.datetime | None


class RowOut(Schema):
    """One row of a 360 section: its id, what it is, its state and when."""

    id: int
    kind: str = ""
    state: str = ""
    text: str = ""
    at: dt.datetime | dt.date | None = None


class ProfileOut(BuyerOut):
    platform_ids: list[PlatformIdOut]
    address: str = Field(description="masked")
    reorder_interval_days: float | None
    orders: list[OrderRowOut]
    order_count: int
    cases: list[RowOut]
    complaints: list[RowOut]
    reviews: list[RowOut]
    review_counts: dict[str, int]
    conversations: list[RowOut]
    notes: list[RowOut]
    followups: list[RowOut]
    revisits: list[RowOut]
    surprises: list[RowOut]
    care_messages: list[RowOut]
    opted_out: bool
    churn_reasons: list[RowOut]


class RevealIn(Schema):
    reason: str = Field("", max_length=200)


class ContactsOut(Schema):
    phone: str
    address: str


class TagChangeIn(Schema):
    tag: str | int = Field(..., description="the tag's name or id")


class BulkTagIn(Schema):
    tag: str | int = Field(..., description="the tag's name or id")
    buyer_ids: list[str] = Field(..., min_length=1, max_length=1000)
    action: str = Field("add", description="add or remove")


class BulkTagOut(Schema):
    changed: int


class NoteIn(Schema):
    text: str = Field(..., max_length=1000)
    kind: str = Field("note", description="note, or phone for a phone note (电话记录)")


class BuyerNoteOut(Schema):
    id: int
    kind: str
    text: str
    author: str | None
    created_at: dt.datetime


class BuyerMergeIn(Schema):
    into: str = Field(..., max_length=120, description="the buyer id of the record to keep")
    reason: str = Field("", max_length=300)


class MergeOut(Schema):
    id: int
    source: str
    target: str
    moved: dict[str, int]
    created_at: dt.datetime
    undone_at: dt.datetime | None
