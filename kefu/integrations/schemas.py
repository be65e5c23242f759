import datetime as dt

from ninja import Field, Schema


class RuleIn(Schema):
    """An automation rule. conditions: [{"field", "value", "not"}]; actions: [{"type", …}] in order."""

    name: str = Field(..., max_length=60)
    event_type: str = Field(..., description="an event type of GET /api/v1/webhooks/event-types")
    conditions: list[dict] = Field(default_factory=list, description="all must hold; see the README for the fields")
    actions: list[dict] = Field(..., description="assign, add_tag, send_script, create_followup, notify, escalate, "
                                                 "set_priority")
    stop: bool = Field(False, description="when it matches, later rules do not run on this event")
    active: bool = True
    position: int | None = Field(None, description="lower runs first; new rules go last")


class RuleOut(Schema):
    id: int
    name: str
    event_type: str
    conditions: list[dict]
    actions: list[dict]
    position: int
    stop: bool
    active: bool


class DryRunIn(Schema):
    days: int = Field(30, ge=1, le=90)
    limit: int = Field(50, ge=1, le=500)
    event_type: str | None = Field(None, description="for an unsaved rule")
    conditions: list[dict] | None = Field(None, description="for an unsaved rule")


class MatchOut(Schema):
    at: dt.datetime
    subject: str
    subject_id: int | None
    label: str
    buyer: str


class DryRunOut(Schema):
    scanned: int
    matched: int
    since: dt.datetime
    limit: int
    matches: list[MatchOut]


class FiringOut(Schema):
    id: int
    rule_id: int
    event_type: str
    event_id: str | None
    subject: str
    subject_id: int | None
    results: list[dict]
    at: dt.datetime


class WebhookIn(Schema):
    name: str = Field(..., max_length=60)
    url: str = Field(..., max_length=500, description="http(s) only; see the README on private addresses")
    event_types: list[str] = Field(..., description='event type names, or ["*"] for all')
    active: bool | None = Field(None, description="false disables; true re-enables a disabled one")
    secret: str | None = Field(None, min_length=16, max_length=100, description="default: a random whsec_… secret")


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    active: bool
    failures: int
    failing_since: dt.datetime | None
    disabled_reason: str
    secret: str = Field(..., description="shown to managers and integrations: receivers verify signatures with it")


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    state: str
    attempts: int
    status_code: int | None
    latency_ms: int | None
    response: str
    error: str
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class EventTypeOut(Schema):
    name: str
    label: str
    subject: str
    schema_url: str
    data_schema: dict
    example: dict


class TrackingIn(Schema):
    """One kuaidi100-style push: lastResult with the parcel's number, courier, state and scans."""

    status: str | None = None
    message: str | None = None
    lastResult: dict | None = None  # noqa: N815  (the aggregator's own name)
    param: str | dict | None = Field(None, description="kuaidi100 sends the whole result as a JSON string here")


class TrackingOut(Schema):
    result: bool
    returnCode: str  # noqa: N815
    message: str
    created: int = 0
    duplicates: int = 0
