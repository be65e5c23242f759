import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class ComplaintIn(Schema):
    source: str = Field(..., description="buyer or colleague")
    category: str = Field(..., description="slow_reply, attitude, product, shipping, aftersales, other")
    summary: str = Field(..., max_length=1000)
    buyer_id: str | None = Field(None, max_length=120)
    order_id: str | None = Field(None, max_length=64)
    against_id: int | None = Field(None, description="the agent complained about (feeds the penalty rules)")
    owner_id: int | None = Field(None, description="supervisors and integrations; default: yourself")
    buyer_type: str | None = Field(None, description="friendly, assertive, analytical, self_centred, unknown")
    revisit_on: dt.date | None = None


class ComplaintActIn(Schema):
    action: str = Field(..., description="advance, close or dismiss")
    note: str | None = Field(None, max_length=500)


class CheckIn(Schema):
    step: str = Field(..., description="accept_quickly, calm, clarify, options, agree, thank, track")
    note: str | None = Field(None, max_length=500)


class RemedyIn(Schema):
    kind: str
    text: str = Field(..., max_length=500)
    amount: Decimal | str | None = Field(None, description="compensation in yuan; goes through approvals")
    revisit_on: dt.date | None = None


class VerdictIn(Schema):
    verdict: str = Field(..., description="upheld, rejected or pending")
    note: str | None = Field(None, max_length=500)


class RevisitIn(Schema):
    revisit_on: dt.date | None


class CheckOut(Schema):
    step: str
    label: str
    stage: str
    done: bool
    done_by: str | None
    done_at: dt.datetime | None


class ComplaintEventOut(Schema):
    action: str
    from_state: str
    to_state: str
    actor: str | None
    note: str
    created_at: dt.datetime


class ComplaintOut(Schema):
    id: int
    source: str
    category: str
    buyer_type: str
    state: str
    summary: str
    buyer_id: str | None
    order_id: str | None
    owner_id: int
    owner: str
    against_id: int | None
    against: str | None
    verdict: str | None
    remedy_kind: str
    remedy_text: str
    remedy_amount: Decimal | None
    remedy_money: str | None
    revisit_on: dt.date | None
    negativity: int
    created_at: dt.datetime
    closed_at: dt.datetime | None
    checklist: list[CheckOut] | None = None
    events: list[ComplaintEventOut] | None = None


class AgainstOut(Schema):
    complaint_id: int
    agent_id: int
    day: dt.date
    category: str
    verdict: str


class ReviewIn(Schema):
    review_id: str | int
    order_id: str | int | None = None
    buyer_id: str | int
    sku: str | None = None
    rating: int | str = Field(..., description="1–5 or 好评/中评/差评")
    text: str | None = None
    created_at: str
    agent_id: str | None = Field(None, description="the agent's platform account or name")


class ReviewBatchIn(Schema):
    reviews: list[ReviewIn]


class ReviewImportOut(Schema):
    created: int
    duplicates: int
    updated: int
    tasks_created: int
    tasks_revised: int


class ReviewTaskOut(Schema):
    id: int
    review_id: str
    level: str
    rating: int | None
    text: str
    buyer_id: str
    order_id: str
    agent_id: int | None
    agent_source: str
    owner_id: int | None
    state: str
    priority: int
    contact_count: int
    resolution: str
    outcome: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    events: list[ComplaintEventOut] | None = None


class TaskActIn(Schema):
    action: str = Field(..., description="contact, resolve or close")
    note: str | None = Field(None, max_length=500)
    resolution: str | None = Field(None, max_length=500)
    outcome: str | None = Field(None, description="with close: revised, explained, refused or removed")


class AssignIn(Schema):
    owner_id: int


class RevisionOut(Schema):
    agent_id: int | None
    name: str
    closed: int
    revised: int
    revision_rate: float | None


class DisputeIn(Schema):
    kind: str
    description: str = Field(..., max_length=1000)
    order_id: str | None = Field(None, max_length=64)
    review_id: str | None = Field(None, max_length=120)
    platform_ref: str | None = Field(None, max_length=64)
    owner_id: int | None = None


class DisputeActIn(Schema):
    action: str = Field(..., description="submit, win, lose or withdraw")
    note: str | None = Field(None, max_length=500, description="the outcome, required with win/lose")


class DisputeEvidenceOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    note: str
    uploaded_at: dt.datetime


class DisputeOut(Schema):
    id: int
    kind: str
    state: str
    description: str
    order_id: str | None
    review_id: str | None
    platform_ref: str
    outcome: str
    owner_id: int
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    closed_at: dt.datetime | None
    evidence: list[DisputeEvidenceOut] | None = None
    events: list[ComplaintEventOut] | None = None


class InvitationIn(Schema):
    agent_id: int
    buyer_id: str = Field(..., max_length=120)
    day: dt.date


class InvitationOut(Schema):
    id: int
    agent_id: int
    buyer_id: str
    day: dt.date
    state: str
    outbox_ref: str
    score: int | None
    created: bool | None = None


class ServiceRatingIn(Schema):
    invitation_id: int
    score: int = Field(..., ge=1, le=5)
    comment: str | None = Field(None, max_length=500)
    rated_at: str | None = None


class ServiceRatingBatchIn(Schema):
    ratings: list[ServiceRatingIn]


class RatingOut(Schema):
    created: int
    duplicates: int


class CsatOut(Schema):
    agent_id: int
    name: str
    invitations: int
    rated: int
    satisfied: int
    replied_receptions: int
    csat: float | None
    invite_rate: float | None


class AngryOut(Schema):
    message_id: str
    buyer_id: str
    agent_id: int | None
    sent_at: dt.datetime
    text: str
    anger: float
    score: float
    terms: list[str]


class RangeQuery(Schema):
    shop: str | None = None
    date_from: dt.date | None = Field(None, alias="from")
    date_to: dt.date | None = Field(None, alias="to")
