"""Pure SLA clock computation: due times in calendar or business time, and the clocks of one
buyer's conversations or one case, derived from the facts alone (no database).

Messages sort by sent_at, a buyer's before an agent's at the same instant, then by the sender's
message id, so arrival order never changes a clock (SPEC §12). Only a human reply — an agent
message naming its agent — stops a reply clock; bot, auto and system messages never do (CONV-5).
"""

import datetime as dt
from dataclasses import dataclass

from kefu.core.timeutil import ServiceHours, shop_day

from .enums import ClockState, ConversationKind, Outcome, Target

BUYER, AGENT = "buyer", "agent"
# Beyond this many days without a service interval, a business-time clock falls back to calendar time.
SEARCH_DAYS = 400
DONE_CASE_STATES = frozenset({"refunded", "reshipped", "compensated", "rejected", "closed"})


def add_business(start: dt.datetime, seconds: int, hours: ServiceHours) -> dt.datetime:
    """The moment `seconds` of service time after `start` (a start outside hours waits for the opening)."""
    if hours.always and not hours.holidays:
        return start + dt.timedelta(seconds=seconds)
    remaining = dt.timedelta(seconds=seconds)
    day = shop_day(start, hours.tz)
    for _ in range(SEARCH_DAYS):
        for s, e in sorted(hours.intervals_on(day)):
            lo = max(s, start)
            if e <= lo:
                continue
            if remaining <= e - lo:
                return lo + remaining
            remaining -= e - lo
        day += dt.timedelta(days=1)
    return start + dt.timedelta(seconds=seconds)  # no service hours at all: calendar time


def due_and_warn(start: dt.datetime, minutes: int, warn_minutes: int, business: bool,
                 hours: ServiceHours) -> tuple[dt.datetime, dt.datetime]:
    seconds, warn_seconds = minutes * 60, max(minutes - warn_minutes, 0) * 60
    if business:
        return add_business(start, seconds, hours), add_business(start, warn_seconds, hours)
    return start + dt.timedelta(seconds=seconds), start + dt.timedelta(seconds=warn_seconds)


@dataclass(frozen=True)
class Msg:
    id: int
    sent_at: dt.datetime
    sender: str
    agent_id: int | None
    message_id: str = ""
    channel: str = ""
    order_ref: str = ""

    @property
    def human_reply(self) -> bool:
        return self.sender == AGENT and self.agent_id is not None


def sort_key(m: Msg):
    return (m.sent_at, 0 if m.sender == BUYER else 1, m.message_id, m.id)


@dataclass
class Span:
    """A clock before its policy's numbers are applied: when the wait started and stopped."""

    target: str
    seq: int
    started_at: dt.datetime
    stopped_at: dt.datetime | None
    agent_id: int | None


def reply_spans(messages: list[Msg], conv_start: dt.datetime, conv_end: dt.datetime,
                fallback_agent: int | None, *, next_reply: bool) -> list[Span]:
    """The reply clocks of one conversation [conv_start, conv_end] within its buyer's sorted stream.

    The first buyer message starts the first-reply clock; after a human reply, the next buyer
    message starts a next-reply clock. A clock stops at the first human reply after its start,
    even one in a later conversation. The agent responsible is the one the starting message was
    routed to.
    """
    spans: list[Span] = []
    waiting: Span | None = None
    seen_buyer = False
    for m in messages:
        if m.sent_at > conv_end and waiting is None:
            break
        if m.human_reply:
            if waiting is not None:
                waiting.stopped_at = m.sent_at
                waiting = None
            continue
        if m.sender != BUYER or m.sent_at < conv_start or m.sent_at > conv_end or waiting is not None:
            continue
        if not seen_buyer:
            seen_buyer = True
            waiting = Span(Target.FIRST_REPLY, 0, m.sent_at, None, m.agent_id or fallback_agent)
            spans.append(waiting)
        elif next_reply and spans:
            seq = sum(1 for s in spans if s.target == Target.NEXT_REPLY)
            waiting = Span(Target.NEXT_REPLY, seq, m.sent_at, None, m.agent_id or fallback_agent)
            spans.append(waiting)
    return spans


def resolution_stop(events: list[tuple[dt.datetime, str]], state: str) -> dt.datetime | None:
    """When the case was resolved: the first step into a done state after it last left one, if it is
    done now (a case reopened from rejected runs on)."""
    if state not in DONE_CASE_STATES:
        return None
    stop = None
    for at, to_state in sorted(events):
        if to_state in DONE_CASE_STATES:
            stop = stop or at
        else:
            stop = None
    return stop


def conversation_kind(*, first_buyer: Msg | None, case_open: bool, recent_paid_order: bool) -> str:
    """SPEC §12's after-sales test: a linked case, an order card on the first buyer message, or a
    recent paid order not closed."""
    if case_open or (first_buyer is not None and first_buyer.order_ref) or recent_paid_order:
        return ConversationKind.AFTERSALES
    return ConversationKind.PRESALES


def judge(*, started_at: dt.datetime, stopped_at: dt.datetime | None, warn_at: dt.datetime, due_at: dt.datetime,
          now: dt.datetime) -> tuple[str, dt.datetime | None, dt.datetime | None]:
    """(state, breached_at, settled_at) of a clock at `now`."""
    if stopped_at is not None:
        if stopped_at <= due_at:
            return ClockState.HIT, None, stopped_at
        return ClockState.MISSED, due_at, due_at
    if now >= due_at:
        return ClockState.MISSED, due_at, due_at
    if now >= warn_at and warn_at < due_at:
        return ClockState.WARNED, None, None
    return ClockState.ACTIVE, None, None


def outcome(clocks) -> str | None:
    """SPEC §12 outcome of one subject from its clocks (objects with .state and .stopped_at)."""
    clocks = list(clocks)
    if not clocks:
        return None
    missed = any(c.state == ClockState.MISSED for c in clocks)
    running = any(c.stopped_at is None for c in clocks)
    if running:
        return Outcome.ACTIVE_MISSED if missed else Outcome.ACTIVE
    return Outcome.MISSED if missed else Outcome.HIT
