import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class CareSettingsIn(Schema):
    owner_ids: list[int] | None = Field(None, description="the care owners (专属客服)")
    cap_count: int | None = None
    cap_days: int | None = None
    reply_window_days: int | None = None
    repeat_min_orders: int | None = None
    silent_factor: Decimal | None = None
    silent_min_days: int | None = None
    review_watch_days: int | None = None


class CareSettingsOut(Schema):
    owners: list[str]
    owner_ids: list[int]
    cap_count: int
    cap_days: int
    reply_window_days: int
    repeat_min_orders: int
    silent_factor: Decimal
    silent_min_days: int
    review_watch_days: int


class PlanIn(Schema):
    name: str = Field(..., max_length=80)
    segment: dict = Field(default_factory=dict, description="grades, tag_ids, paid_within_days, silent_days, "
                                                            "product_ids, min_orders")
    cadence_days: int = 30
    questions: list[str] = Field(default_factory=list, max_length=10)
    assignee_ids: list[int] = Field(..., min_length=1)
    per_owner_daily: int = 20
    active: bool = True


class PlanPatch(Schema):
    name: str | None = None
    segment: dict | None = None
    cadence_days: int | None = None
    questions: list[str] | None = None
    assignee_ids: list[int] | None = None
    per_owner_daily: int | None = None
    active: bool | None = None


class PlanOut(Schema):
    id: int
    name: str
    segment: dict
    cadence_days: int
    questions: list[str]
    assignee_ids: list[int]
    per_owner_daily: int
    active: bool
    outcomes: dict[str, int]


class CountOut(Schema):
    count: int


class RevisitOut(Schema):
    id: int
    plan_id: int
    plan: str
    buyer_id: str
    owner_id: int
    owner: str
    due_on: dt.date
    state: str
    outcome: str
    answers: dict
    done_at: dt.datetime | None


class RecordIn(Schema):
    outcome: str = Field(..., description="satisfied, issue, no_answer, declined, wrong_number")
    answers: dict[str, str] = Field(default_factory=dict)
    note: str = Field("", max_length=500)


class ReassignIn(Schema):
    from_agent_id: int
    to_agent_id: int


class CampaignIn(Schema):
    name: str = Field(..., max_length=80)
    text: str = Field(..., max_length=300)
    segment: dict = Field(default_factory=dict)


class CampaignPatch(Schema):
    name: str | None = None
    text: str | None = None
    segment: dict | None = None


class ScheduleIn(Schema):
    scheduled_at: str | None = Field(None, description="ISO 8601; without offset = shop time; empty = now")
    accept_warnings: bool = Field(False, description="schedule even though the content check found something")


class WarningOut(Schema):
    kind: str
    text: str


class CampaignOut(Schema):
    id: int
    name: str
    text: str
    segment: dict
    state: str
    scheduled_at: dt.datetime | None
    warnings: list[WarningOut]
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class CareCheckIn(Schema):
    text: str = Field(..., max_length=300)


class CareReportOut(Schema):
    buyers: int
    queued: int
    sent: int
    failed: int
    waiting: int
    skipped_opted_out: int
    skipped_capped: int
    skipped_no_phone: int
    replies: int
    replied_buyers: int
    opted_out: int
    reply_window_days: int


class CareReplyIn(Schema):
    reply_id: str = Field(..., max_length=120, description="the SMS provider's id of the reply")
    buyer_id: str = Field("", max_length=120)
    phone: str = Field("", max_length=40)
    text: str = Field(..., max_length=500)
    received_at: str | None = None


class CareReplyOut(Schema):
    id: int
    buyer_id: str
    is_opt_out: bool
    campaign_id: int | None
    created: bool


class OptOutIn(Schema):
    note: str = Field("", max_length=200)


class OptOutOut(Schema):
    buyer_id: str
    source: str
    created_at: dt.datetime


class SurpriseIn(Schema):
    buyer_id: str = Field(..., max_length=120)
    kind: str = Field(..., description="gift, handmade, card, other")
    description: str = Field(..., max_length=200)
    reason: str = Field(..., max_length=500)
    cost: Decimal = Field(..., ge=0)
    request_id: str = Field("", max_length=64)


class SurpriseOut(Schema):
    id: int
    buyer_id: str
    kind: str
    description: str
    reason: str
    cost: Decimal
    state: str
    requested_by: str
    approved_by: str | None
    approval_id: int | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class KindCostOut(Schema):
    kind: str
    count: int
    cost: Decimal


class PersonCostOut(Schema):
    person: str
    count: int
    cost: Decimal


class MonthCostOut(Schema):
    month: dt.date
    count: int
    cost: Decimal
    by_kind: list[KindCostOut]
    by_person: list[PersonCostOut]


class CostsOut(Schema):
    months: list[MonthCostOut]
    count: int
    cost: Decimal


class CareFlagOut(Schema):
    reason: str
    ref_id: int
    detail: str
    raised_at: dt.datetime


class AtRiskOut(Schema):
    buyer_id: str
    nick: str
    grade: str | None
    flags: list[CareFlagOut]


class ScanOut(Schema):
    raised: int
    cleared: int
