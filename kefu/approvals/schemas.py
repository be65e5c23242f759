import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from .enums import MoneyKind

Amount = Decimal


class MoneyActionIn(Schema):
    kind: MoneyKind
    amount: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2,
                                   description="yuan; may be left out for a free order of an order")
    reason: str = Field(..., min_length=1, max_length=500)
    order_id: str | None = Field(None, max_length=64, description="the platform's order number")
    buyer_id: str | None = Field(None, max_length=120)
    request_id: str | None = Field(None, max_length=64,
                                   description="idempotency key, unique per shop: a resend returns the first answer")


class DecideIn(Schema):
    reason: str | None = Field(None, max_length=500)


class RejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


class DecisionOut(Schema):
    allowed: bool
    kind: str
    amount: Decimal
    limit: Decimal | None = Field(None, description="the person's limit; null = unlimited")
    source: str
    approver_roles: list[str]


class MoneyActionOut(Schema):
    id: int
    kind: str
    amount: Decimal
    reason: str
    order_id: str | None
    buyer_id: str | None
    requested_by: str
    approved_by: str | None
    approval_id: int | None
    executed_at: dt.datetime


class ApprovalOut(Schema):
    id: int
    state: str
    kind: str
    amount: Decimal
    reason: str
    order_id: str | None
    buyer_id: str | None
    requested_by: str
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str
    created_at: dt.datetime


class ApprovalRequestOut(Schema):
    outcome: str
    replayed: bool
    decision: DecisionOut
    money_action: MoneyActionOut | None
    approval: ApprovalOut | None


class LimitIn(Schema):
    kind: MoneyKind
    role: str | None = Field(None, description="agent, supervisor, manager or warehouse")
    agent_id: int | None = Field(None, description="a person of the shop (an override)")
    limit: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    unlimited: bool = False
    reset: bool = Field(False, description="back to the default (role) or to the person's roles (override)")


class LimitsIn(Schema):
    limits: list[LimitIn] = Field(..., min_length=1, max_length=100)


class LimitCell(Schema):
    limit: str | None
    default: bool


class PersonLimitOut(Schema):
    agent_id: int
    name: str
    kind: str
    limit: str | None


class LimitsOut(Schema):
    roles: dict[str, dict[str, LimitCell]]
    people: list[PersonLimitOut]


class NotificationOut(Schema):
    id: int
    text: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None
