import datetime as dt

from ninja import Field, Schema


class PolicyIn(Schema):
    """A new policy. Empty lists mean "any"; minutes count in service hours when business_hours."""

    name: str = Field(..., max_length=80)
    priority: int = Field(100, description="lower is checked first")
    active: bool = True
    channels: list[str] = Field(default_factory=list)
    conversation_kinds: list[str] = Field(default_factory=list, description="aftersales | presales")
    case_types: list[str] = Field(default_factory=list)
    case_reasons: list[str] = Field(default_factory=list)
    grades: list[str] = Field(default_factory=list, description="buyer grades (empty until the CRM sets them)")
    groups: list[str] = Field(default_factory=list, description="presales | aftersales (the agent's group)")
    first_reply_minutes: int | None = None
    next_reply_minutes: int | None = None
    resolution_minutes: int | None = None
    business_hours: bool = False
    warn_before_minutes: int = 0


class PolicyPatch(Schema):
    """Only the fields given change."""

    name: str | None = Field(None, max_length=80)
    priority: int | None = None
    active: bool | None = None
    channels: list[str] | None = None
    conversation_kinds: list[str] | None = None
    case_types: list[str] | None = None
    case_reasons: list[str] | None = None
    grades: list[str] | None = None
    groups: list[str] | None = None
    first_reply_minutes: int | None = None
    next_reply_minutes: int | None = None
    resolution_minutes: int | None = None
    business_hours: bool | None = None
    warn_before_minutes: int | None = None


class PolicyOut(Schema):
    id: int
    name: str
    priority: int
    active: bool
    channels: list[str]
    conversation_kinds: list[str]
    case_types: list[str]
    case_reasons: list[str]
    grades: list[str]
    groups: list[str]
    first_reply_minutes: int | None
    next_reply_minutes: int | None
    resolution_minutes: int | None
    business_hours: bool
    warn_before_minutes: int


class ClockOut(Schema):
    id: int
    target: str
    seq: int
    conversation_id: int | None
    case_id: int | None
    buyer_id: str | None
    policy_id: int
    policy: str
    agent_id: int | None
    agent: str | None
    started_at: dt.datetime
    warn_at: dt.datetime
    due_at: dt.datetime
    stopped_at: dt.datetime | None
    state: str
    breached_at: dt.datetime | None


class OutcomeOut(Schema):
    outcome: str | None
    clocks: list[ClockOut]


class SlaScanOut(Schema):
    created: int
    updated: int
    deleted: int
    ticked: int
    alerts: int
    full: bool
