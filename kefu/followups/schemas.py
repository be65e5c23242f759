import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class FollowUpIn(Schema):
    kind: str = Field(..., description="lead (咨询未拍) or promised_answer (待查问题)")
    buyer_id: str = Field(..., min_length=1, max_length=120)
    order_id: str | None = Field(None, max_length=64)
    owner_id: int | None = Field(None, description="supervisors and integrations only; default: yourself")
    reason: str | None = Field(None, max_length=30, description="a reason code of the kind")
    note: str | None = Field(None, max_length=500)
    next_contact_at: dt.datetime | None = None
    due_at: dt.datetime | None = Field(None, description="required for promised_answer, at most 24 h ahead")


class FollowUpTransitionIn(Schema):
    action: str = Field(..., description="contact, win, lose or cancel")
    reason: str | None = Field(None, max_length=30)
    outcome: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=500)
    next_contact_at: dt.datetime | None = Field(None, description="with contact: when to get back to the buyer")


class FollowUpOut(Schema):
    id: int
    kind: str
    state: str
    reason: str
    owner_id: int
    owner: str
    buyer_id: str
    order_id: str | None
    next_contact_at: dt.datetime | None
    due_at: dt.datetime | None
    outcome: str
    note: str
    contact_count: int
    created_at: dt.datetime
    closed_at: dt.datetime | None


class FiguresOut(Schema):
    agent_id: int
    name: str
    closed: int
    won: int
    lost: int
    success_rate: float | None
    recovered_sales: Decimal


class FiguresQuery(Schema):
    shop: str | None = None
    date_from: dt.date | None = Field(None, alias="from")
    date_to: dt.date | None = Field(None, alias="to")
