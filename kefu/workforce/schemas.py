import datetime as dt

from ninja import Schema


class ShiftIn(Schema):
    name: str
    start: str  # "08:00"
    end: str  # "17:00"; "24:00"; an end at or before the start is the next day
    group: str = "any"


class ShiftUpdateIn(Schema):
    name: str | None = None
    start: str | None = None
    end: str | None = None
    group: str | None = None
    active: bool | None = None


class ShiftOut(Schema):
    id: int
    name: str
    start: str
    end: str
    group: str
    crosses_midnight: bool
    minutes: int
    active: bool


class EntryIn(Schema):
    agent_id: int
    date: dt.date
    shift_id: int


class EntryOut(Schema):
    id: int
    agent_id: int
    agent: str
    date: dt.date
    shift_id: int
    shift: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    swap_id: int | None


class WeekIn(Schema):
    week: dt.date  # the Monday
    group: str | None = None
    # agent id → 7 shift ids, Monday first; null = rest day
    pattern: dict[str, list[int | None]]


class WeekOut(Schema):
    entries: int


class RosterAgentOut(Schema):
    agent_id: int
    name: str
    group: str
    days: list[list[EntryOut]]


class RosterOut(Schema):
    week: dt.date
    days: list[dt.date]
    agents: list[RosterAgentOut]


class StatusIn(Schema):
    status: str  # online, away, offline


class PresenceOut(Schema):
    agent_id: int
    agent: str
    status: str
    since: dt.datetime


class OnShiftOut(Schema):
    agent_id: int
    agent: str
    group: str
    status: str
    since: dt.datetime | None
    shifts: list[EntryOut]


class NotOnlineOut(Schema):
    agent_id: int
    agent: str
    date: dt.date
    shift: str
    start: dt.datetime
    end: dt.datetime
    seconds: int
    status: str


class SwapIn(Schema):
    date: dt.date
    agent_a_id: int | None = None  # default: the person asking
    agent_b_id: int
    shift_a_id: int
    shift_b_id: int | None = None  # null: B rests that day and covers A's shift
    reason: str = ""


class DecisionIn(Schema):
    note: str = ""


class SwapOut(Schema):
    id: int
    date: dt.date
    agent_a_id: int
    agent_a: str
    agent_b_id: int
    agent_b: str
    shift_a: str
    shift_b: str | None
    reason: str
    status: str
    requested_by: str
    decided_by: str
    decided_at: dt.datetime | None
    decision_note: str
