import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from .enums import CaseReason, CaseState, CaseType, ClaimState, Direction, MoneyLineKind, Party


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


class CaseTransitionIn(Schema):
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
    early: bool = False
    pending_approval: bool = False


class CaseEventOut(Schema):
    action: str = ""
    from_state: str
    to_state: str
    actor: str | None
    note: str
    created_at: dt.datetime


class CaseOut(Schema):
    """A case with everything on its page (the extras are empty lists/None when not used)."""

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
    return_courier: str = ""
    return_tracking_no: str = ""
    return_received_at: dt.datetime | None = None
    return_due_at: dt.datetime | None = None
    override_reason: str = ""
    pending_approval_id: int | None = None
    claims: list[dict] = []
    retentions: list[dict] = []
    evidence_count: int = 0
    second_service: dict | None = None
    money_outcome: dict = {}


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
    windows: dict = {}  # the category's windows, extended by holidays (AFT-12)


# ---------------------------------------------------------------- edits, refunds, evidence, claims (AFT-5..12)

VersionField = Field(..., ge=1, description="the case version you read; a stale one answers 409")


class VersionIn(Schema):
    expected_version: int = VersionField


class RefundIn(Schema):
    to: CaseState = CaseState.REFUNDED
    expected_version: int = VersionField
    note: str = Field("", max_length=500)
    request_id: str = Field("", max_length=64, description="idempotency key of the approval request")


class EarlyRefundIn(Schema):
    expected_version: int = VersionField
    note: str = Field("", max_length=500)


class ReturnShippedIn(Schema):
    expected_version: int = VersionField
    courier: str = Field("", max_length=40)
    tracking_no: str = Field(..., min_length=1, max_length=64)


class LineAddIn(MoneyLineIn):
    expected_version: int = VersionField


class LineChangeIn(Schema):
    expected_version: int = VersionField
    kind: MoneyLineKind | None = None
    direction: Direction | None = None
    amount: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2)
    note: str | None = Field(None, max_length=200)


class ItemAddIn(Schema):
    expected_version: int = VersionField
    sku: str = Field(..., min_length=1, max_length=80)
    qty: int = Field(1, ge=1, le=100000)


class ItemChangeIn(Schema):
    expected_version: int = VersionField
    qty: int = Field(..., ge=1, le=100000)


class OverrideIn(Schema):
    expected_version: int = VersionField
    reason: str = Field(..., max_length=500, description="empty clears the override")


class ClaimIn(Schema):
    expected_version: int = VersionField
    amount_claimed: Decimal = Field(..., gt=0, max_digits=12, decimal_places=2)
    courier: str = Field("", max_length=40, description="default: the order's courier")
    tracking_no: str = Field("", max_length=64, description="default: the order's tracking number")
    note: str = Field("", max_length=500)


class ClaimTransitionIn(Schema):
    to: ClaimState
    expected_version: int = Field(..., ge=1, description="the claim's version")
    amount_recovered: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2)
    note: str = Field("", max_length=500)


class RetentionIn(Schema):
    expected_version: int = VersionField
    offer: str = Field(..., min_length=1, max_length=300)
    offer_amount: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2)


class RetentionDecideIn(Schema):
    expected_version: int = VersionField
    accepted: bool


class SecondServiceIn(Schema):
    note: str = Field(..., min_length=1, max_length=500)
    satisfied: bool | None = None


class CategoryPolicyIn(Schema):
    category: str = Field(..., min_length=1, max_length=80)
    return_days: int = Field(7, ge=0, le=3650)
    quality_days: int = Field(3, ge=0, le=3650)
    note: str = Field("", max_length=200)


class HolidayIn(Schema):
    name: str = Field(..., min_length=1, max_length=80)
    date_from: dt.date
    date_to: dt.date


class CaseEvidenceOut(Schema):
    id: int
    case_id: int
    buyer_id: str
    sku: str
    kind: str
    name: str
    content_type: str
    size: int
    sha256: str
    has_thumbnail: bool
    note: str
    uploaded_by: str | None
    created_at: dt.datetime


class ClaimOut(Schema):
    id: int
    case_id: int
    courier: str
    tracking_no: str
    amount_claimed: Decimal
    amount_recovered: Decimal
    state: str
    version: int
    note: str


class RefundOut(Schema):
    outcome: str  # "executed" or "pending"
    approval_id: int | None
    case: CaseOut


class RulesOut(Schema):
    categories: list[dict]
    holidays: list[dict]
    defaults: dict
