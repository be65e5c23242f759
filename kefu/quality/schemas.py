import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class RangeQuery(Schema):
    shop: str | None = None
    date_from: dt.date | None = Field(None, alias="from")
    date_to: dt.date | None = Field(None, alias="to")


class CategoryIn(Schema):
    name: str = Field(..., max_length=40)
    description: str = Field("", max_length=300)
    weight: int
    scale_min: int = 0
    scale_max: int = 5
    critical: bool = False
    active: bool = True
    position: int | None = None


class CategoryOut(Schema):
    id: int
    name: str
    description: str
    weight: int
    scale_min: int
    scale_max: int
    critical: bool
    active: bool
    position: int


class SettingsIn(Schema):
    every_days: int | None = None
    per_agent: int | None = None
    extra_below_reply_rate: int | None = None
    extra_complaints: int | None = None
    extra_probation: int | None = None
    flag_weight: int | None = None
    rude_words: str | None = Field(None, description="comma-separated")
    banned_words: str | None = Field(None, description="comma-separated")
    anger_threshold: Decimal | None = None
    min_script_uses: int | None = None


class SettingsOut(Schema):
    every_days: int
    per_agent: int
    extra_below_reply_rate: int
    extra_complaints: int
    extra_probation: int
    flag_weight: int
    rude_words: str
    banned_words: str
    anger_threshold: Decimal
    min_script_uses: int


class RunIn(Schema):
    day: dt.date | None = Field(None, description="the round's shop day (default today)")


class SampleOut(Schema):
    id: int
    agent_id: int
    agent: str
    buyer_id: str
    day: dt.date
    round_day: dt.date
    reviewer_id: int | None
    weight: int
    reasons: str
    state: str


class ReviewStartIn(Schema):
    sample_id: int | None = None
    conversation_id: int | None = None
    calibration_of: int | None = Field(None, description="a submitted review to calibrate (second reviewer)")


class ScoreIn(Schema):
    category_id: int
    chosen: int | None = None
    comment: str = Field("", max_length=1000)
    message_id: int | None = Field(None, description="the message the comment is anchored to")


class ReviewSaveIn(Schema):
    scores: list[ScoreIn]
    summary: str = Field("", max_length=1000)
    submit: bool = False


class ScoreOut(Schema):
    category_id: int | None
    name: str
    weight: int
    scale_min: int
    scale_max: int
    critical: bool
    chosen: int
    score: Decimal
    comment: str
    message_id: int | None


class AppealOut(Schema):
    id: int
    review_id: int
    reason: str
    state: str
    score_before: Decimal | None
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str
    created_at: dt.datetime


class ReviewOut(Schema):
    id: int
    agent_id: int
    agent: str
    reviewer_id: int
    reviewer: str
    buyer_id: str
    conversation_id: int | None
    sample_id: int | None
    calibration_of: int | None
    window_start: dt.datetime
    window_end: dt.datetime
    state: str
    score: Decimal | None
    auto_failed: bool
    summary: str
    submitted_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    scores: list[ScoreOut] = []
    appeal: AppealOut | None = None


class AppealIn(Schema):
    reason: str = Field(..., max_length=1000)


class AppealDecideIn(Schema):
    accept: bool
    note: str = Field("", max_length=1000)
    scores: list[ScoreIn] | None = Field(None, description="accepted appeals may re-score items")


class CalibrationItemOut(Schema):
    name: str
    original: int | None
    calibration: int
    gap: Decimal | None


class CalibrationOut(Schema):
    review_id: int
    reviewer: str
    score: Decimal | None
    gap: Decimal | None
    items: list[CalibrationItemOut]


class StatOut(Schema):
    key: str
    label: str
    reviews: int
    mean: Decimal | None
    extra: dict


class TrendOut(Schema):
    weeks: list[str]
    scores: list[float]
    reviews: list[int]


class FlagOut(Schema):
    id: int
    kind: str
    conversation_id: int
    message_id: int
    buyer_id: str
    agent_id: int | None
    detail: str
    at: dt.datetime
    followup_id: int | None


class QaCaseIn(Schema):
    kind: str = Field(..., description="good or bad")
    title: str = Field(..., max_length=80)
    note: str = Field(..., max_length=2000)
    conversation_id: int | None = None
    review_id: int | None = None


class QaCaseOut(Schema):
    id: int
    kind: str
    title: str
    note: str
    week: dt.date
    agent: str | None
    buyer_id: str
    conversation_id: int | None
    review_id: int | None
    marked_by: str
    script_id: int | None
    window_start: dt.datetime
    window_end: dt.datetime


class CaseScriptIn(Schema):
    category: str
    title: str = Field(..., max_length=80)
    body: str = Field(..., max_length=2000)


class EffectOut(Schema):
    script_id: int
    title: str
    category: str
    uses: int
    inquiries: int
    converted: int
    conversion_rate: float | None
    replies: int
    negative_replies: int
    negative_rate: float | None
    rated: int
    satisfied: int
    csat: float | None
    too_few: bool


class KnowledgeIn(Schema):
    sizes: str | None = None
    fabric: str | None = None
    model_measurements: str | None = None
    care: str | None = None
    fit_advice: str | None = None
    keywords: str | None = None


class KnowledgeOut(Schema):
    id: int
    product_id: int
    product: str
    sizes: str
    fabric: str
    model_measurements: str
    care: str
    fit_advice: str
    keywords: str
    version: int
    updated_at: dt.datetime


class FaultIn(Schema):
    product_id: int | None = None
    note: str = Field("", max_length=500)


class FaultWithdrawIn(Schema):
    reason: str = Field(..., max_length=500)


class FaultOut(Schema):
    id: int
    complaint_id: int
    agent_id: int
    agent: str
    product_id: int | None
    day: dt.date
    note: str
