import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from .enums import CaseReason, CaseState, CaseType, Direction, MoneyLineKind, Party


class CaseItemIn(Schema):
    sku: str = Field(..., min_length=1, max_length=80)
    qty: int = Field(1, ge=1, le=100000)


class MoneyLineIn(Schema):
    kind: MoneyLineKind
    direction: Direction
    amount: Decimal = Field(..., gt=0, max_digits=12, decimal_places=2)
    note: str = Field("", max_length=200)


class CaseOpenIn(Schema):
    order_id: str | None = Field(None, max_length=64, description="the platform's order number")
    type: CaseType
    reason: CaseReason
    responsible: Party | None = None
    items: list[CaseItemIn] = Field(default_factory=list, max_length=100)
    intercepted: bool = Field(False, description="拦截件")
    refused: bool = Field(False, description="拒收")
    owner_id: int | None = None
    note: str = Field("", max_length=500)
    money_lines: list[MoneyLineIn] = Field(default_factory=list, max_length=20)


class TransitionIn(Schema):
    to: CaseState
    expected_version: int = Field(..., ge=1, description="the version you read; a stale one answers 409")
    note: str = Field("", max_length=500)


class CaseItemOut(Schema):
    sku: str
    qty: int


class MoneyLineOut(Schema):
    id: int
    kind: str
    direction: str
    amount: Decimal
    state: str
    note: str


class CaseEventOut(Schema):
    from_state: str
    to_state: str
    actor: str | None
    note: str
    created_at: dt.datetime


class CaseOut(Schema):
    id: int
    type: str
    reason: str
    responsible: str
    state: str
    version: int
    order_id: str | None
    buyer_id: str | None
    intercepted: bool
    refused: bool
    owner: str | None
    note: str
    items: list[CaseItemOut]
    money_lines: list[MoneyLineOut]
    events: list[CaseEventOut]
    allowed_transitions: list[str]
    created_at: dt.datetime


class SuggestionOut(Schema):
    reason: str
    responsible: str
    handling: list[str]
    case_type: str | None
    return_shipping: str
    reship_shipping: str
    checks: list[str]
    within_window: bool
    escalate_if_refused: bool
    needs_escalation: bool
    price_difference: Decimal
    price_difference_direction: str
    overridden: bool
    override_reason: str
    notes: list[str]
    days_since_signed: int | None
    item_price: Decimal | None
