"""Input and output schemas of order requests, warehouse tasks, remarks and the order timeline."""

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from .enums import RemarkType, RequestKind, TaskOutcome


class OrderRequestIn(Schema):
    kind: RequestKind
    reason: str = Field("", max_length=500, description="what the buyer said / why")
    new_value: str = Field("", max_length=255,
                           description="the new address, ship date (YYYY-MM-DD), courier or accessory")


class RequestTransitionIn(Schema):
    action: str = Field(..., description="ask_intercept, complete, refuse (note required) or cancel")
    note: str = Field("", max_length=500)


class TaskCompleteIn(Schema):
    outcome: TaskOutcome
    tracking_no: str = Field("", max_length=64, description="required when the outcome is shipped")
    courier: str = Field("", max_length=40)
    note: str = Field("", max_length=500, description="required when the outcome is refused or failed")


class RemarkIn(Schema):
    type: RemarkType
    reason: str = Field("", max_length=100)


class TaskOut(Schema):
    id: int
    request_id: int
    order_id: str
    kind: str
    state: str
    outcome: str
    tracking_no: str
    courier: str
    note: str
    done_by: str | None
    created_at: dt.datetime
    done_at: dt.datetime | None
    request_kind: str
    new_value: str
    requested_by: str


class OrderRequestOut(Schema):
    id: int
    order_id: str
    kind: str
    state: str
    order_status: str
    route: str
    new_value: str
    reason: str
    result: str
    requested_by: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    allowed_actions: list[str]
    script_key: str
    suggested_reply: str | None


class RemarkOut(Schema):
    id: int
    order_id: str
    type: str
    reason: str
    author: str
    text: str
    created_at: dt.datetime


class OrderEventOut(Schema):
    kind: str
    action: str
    from_state: str
    to_state: str
    actor: str | None
    note: str
    request_id: int | None
    created_at: dt.datetime


class OrderDetailOut(Schema):
    order_id: str
    status: str
    total_amount: Decimal
    adjustment_amount: Decimal
    payable: Decimal
    courier: str
    tracking_no: str
    remark_text: str
    events: list[OrderEventOut]
