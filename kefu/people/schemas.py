"""Input and output schemas of the people API (attendance, ledger; the pay, reports and training parts
add theirs below)."""

import datetime as dt
from decimal import Decimal

from ninja import Schema


class ClockIn(Schema):
    kind: str  # in | out
    agent_id: int | None = None  # integrations name the agent; a person clocks themself
    at: dt.datetime | None = None  # integrations only (a clock device's time); default now
    request_id: str = ""


class AttendanceDayOut(Schema):
    id: int
    agent_id: int
    agent: str
    date: dt.date
    status: str
    shift: str
    shift_start: dt.datetime | None
    shift_end: dt.datetime | None
    clock_in: dt.datetime | None
    clock_out: dt.datetime | None
    late_minutes: int
    left_early_minutes: int
    forgot_clock: bool
    allowance_no: int | None
    over_allowance: bool
    not_online_minutes: int
    not_online: bool
    corrected: bool
    leave_id: int | None


class PeopleClockOut(Schema):
    id: int
    agent_id: int
    kind: str
    at: dt.datetime
    created: bool
    day: AttendanceDayOut | None


class CorrectionIn(Schema):
    agent_id: int
    date: dt.date
    reason: str
    clock_in: dt.datetime | None = None
    clock_out: dt.datetime | None = None
    status: str = ""
    excuse_not_online: bool = False


class MonthIn(Schema):
    month: str  # YYYY-MM


class LeaveIn(Schema):
    kind: str  # leave | rest_adjusted
    date_from: dt.date
    date_to: dt.date | None = None
    reason: str
    agent_id: int | None = None


class PeopleNoteIn(Schema):
    note: str = ""


class LeaveOut(Schema):
    id: int
    agent_id: int
    agent: str
    kind: str
    date_from: dt.date
    date_to: dt.date
    reason: str
    state: str
    requested_at: dt.datetime
    decided_by: str
    decided_at: dt.datetime | None
    decision_note: str


class PeopleWarningOut(Schema):
    agent_id: int
    agent: str
    month: dt.date
    level: str
    points: Decimal
    created_at: dt.datetime
    withdrawn_at: dt.datetime | None


class PointsOut(Schema):
    agent_id: int
    agent: str
    group: str
    month: dt.date
    points_left: Decimal
    deducted: Decimal
    deductions: int
    warnings: list[str]
    pending_appeals: int


class DeductionOut(Schema):
    id: int
    agent_id: int
    agent: str
    month: dt.date
    day: dt.date
    rule_code: str
    rule: str
    points: Decimal
    kind: str
    status: str
    source_type: str
    source_id: str
    detail: dict
    reason: str
    origin_month: dt.date | None
    created_by: str
    created_at: dt.datetime
    change_reason: str
    appeal_id: int | None
    appeal_state: str | None


class DeductionIn(Schema):
    agent_id: int
    rule_code: str
    points: Decimal
    day: dt.date
    reason: str


class ReasonIn(Schema):
    reason: str


class PeopleAppealOut(Schema):
    id: int
    deduction_id: int
    agent_id: int
    agent: str
    reason: str
    state: str
    created_at: dt.datetime
    decided_by: str
    decided_at: dt.datetime | None
    decision_note: str


class PeopleRuleOut(Schema):
    code: str
    name: str
    source: str
    points_each: Decimal
    tiers: list[list]
    min_points: Decimal
    max_points: Decimal
    active: bool


class PeopleRulesIn(Schema):
    rules: list[dict]


class PeopleSettingsOut(Schema):
    absent_after_minutes: int
    late_grace_minutes: int
    rest_days_per_month: int
    early_leave_minutes: int
    forgot_after_hours: int
    not_online_minutes: int
    ledger_enabled: bool
    start_points: Decimal
    warn_verbal_points: Decimal
    warn_penalty_points: Decimal
    severe_points: Decimal
    severe_months: int


class PeopleSettingsIn(Schema):
    absent_after_minutes: int | None = None
    late_grace_minutes: int | None = None
    rest_days_per_month: int | None = None
    early_leave_minutes: int | None = None
    forgot_after_hours: int | None = None
    not_online_minutes: int | None = None
    ledger_enabled: bool | None = None
    start_points: Decimal | None = None
    warn_verbal_points: Decimal | None = None
    warn_penalty_points: Decimal | None = None
    severe_points: Decimal | None = None
    severe_months: int | None = None


class CountOut(Schema):
    count: int


class MonthOut(Schema):
    month: dt.date
    state: str
    closed_at: dt.datetime | None = None
    closed_by: str = ""
    locked_at: dt.datetime | None = None
    locked_by: str = ""


class PeoplePlanIn(Schema):
    group: str = ""
    mode: str = "progressive"  # whole | progressive
    tiers: list[list[Decimal]]  # [[threshold ¥, rate %], …]
    floor: Decimal = Decimal("0")
    kpi_tiers: list[list[Decimal | str]] = []  # [[min score, factor, label], …]
    points_tiers: list[list[Decimal]] = []  # [[min points left, factor], …]


class PeoplePlanOut(Schema):
    group: str
    mode: str
    tiers: list
    floor: Decimal
    kpi_tiers: list
    points_tiers: list
    updated_at: dt.datetime


class StatementLineOut(Schema):
    kind: str
    order_id: int | None
    order_no: str
    day: dt.date | None
    paid: Decimal
    refund: Decimal
    taken_back: bool
    amount: Decimal
    origin_month: dt.date | None
    note: str


class StatementOut(Schema):
    id: int
    agent_id: int
    agent: str
    group: str
    month: dt.date
    month_state: str
    orders: int
    sales: Decimal
    refunds: Decimal
    net_sales: Decimal
    base: Decimal
    kpi_score: Decimal | None
    kpi_tier: str
    kpi_factor: Decimal
    points_left: Decimal | None
    points_factor: Decimal
    commission: Decimal
    clawback: Decimal
    bonus: Decimal  # Σ special bonus and ranking award lines
    total: Decimal
    plan: dict
    computed_at: dt.datetime | None
    lines: list[StatementLineOut] | None = None


# ---------------------------------------------------------------- onboarding (WF-7)

class TrainingDayIO(Schema):
    topic: str
    materials: str = ""


class ExamQuestionIn(Schema):
    question: str
    answer: str = ""
    points: Decimal = Decimal("10")


class ExamQuestionOut(Schema):
    question: str
    answer: str
    points: Decimal


class TrainingPlanOut(Schema):
    name: str
    pass_mark: Decimal
    probation_days: int
    days: list[TrainingDayIO]
    questions: list[ExamQuestionOut]  # answers only for supervisors and up; empty for others


class TrainingPlanIn(Schema):
    name: str | None = None
    pass_mark: Decimal | None = None
    probation_days: int | None = None
    days: list[TrainingDayIO] | None = None
    questions: list[ExamQuestionIn] | None = None


class OnboardingStartIn(Schema):
    agent_id: int
    mentor_id: int
    start_date: dt.date
    probation_end: dt.date | None = None


class OnboardingExamOut(Schema):
    taken_on: dt.date
    score: Decimal
    pass_mark: Decimal
    passed: bool
    note: str


class OnboardingEventOut(Schema):
    action: str
    from_state: str
    to_state: str
    actor: str
    text: str
    at: dt.datetime


class OnboardingOut(Schema):
    id: int
    agent_id: int
    agent: str
    mentor_id: int
    mentor: str
    start_date: dt.date
    probation_end: dt.date
    state: str
    days_done: list[int]
    plan_days: int
    mentor_signed_at: dt.datetime | None
    mentor_opinion: str
    decided_on: dt.date | None
    decision_note: str
    exams: list[OnboardingExamOut] | None = None
    events: list[OnboardingEventOut] | None = None


class OnboardingDayIn(Schema):
    day_no: int
    note: str = ""


class OnboardingExamIn(Schema):
    score: Decimal
    note: str = ""
    taken_on: dt.date | None = None


class OnboardingTextIn(Schema):
    text: str


class OnboardingSignoffIn(Schema):
    opinion: str


class OnboardingDecisionIn(Schema):
    confirm: bool
    note: str = ""


class OnboardingMentorIn(Schema):
    mentor_id: int
    reason: str


class StudyCaseOut(Schema):
    id: int
    kind: str
    title: str
    note: str
    week: dt.date
    agent: str | None
