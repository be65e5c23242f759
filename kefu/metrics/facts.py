"""The one place where SPEC §12 is turned into facts. Pure functions over one buyer's raw rows.

Settled points (issue 2): messages sort by sent_at, a buyer's before an agent's at the same
instant, then by the sender's message id (so arrival order never changes a figure); a turn belongs to one (agent, buyer) pair and ends at that agent's next human reply
whenever it comes; a replied reception has a human reply from its agent to its buyer on the same
day after the reception's first buyer message; first response = response time of the turn
holding the reception's first buyer message; inquiries and their conversions count by inquiry
day, sales and refunds by payment day; windows count calendar days in shop time, day 1 being the
inquiry's (or reply's) own day. Response times are whole seconds (platform records are to the
second). A slow turn is one whose business seconds pass the target, so a
buyer writing while the shop is closed does not make a slow turn. A credited order's reply may be at or before the order's basis time.
"""

import datetime as dt
import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate

from kefu.core.timeutil import ServiceHours, shop_day

BUYER, AGENT = "buyer", "agent"


@dataclass(frozen=True)
class Settings:
    tz: object
    hours: ServiceHours
    window_days: int = 3
    basis: str = "created"
    slow_seconds: int = 180
    lookback_days: int = 15
    takeback_days: int = 15

    @classmethod
    def for_shop(cls, shop) -> "Settings":
        return cls(
            tz=shop.tz,
            hours=ServiceHours(shop.service_hours, shop.tz),
            window_days=shop.attribution_window_days,
            basis=shop.attribution_basis,
            slow_seconds=shop.slow_turn_seconds,
            lookback_days=shop.aftersales_lookback_days,
            takeback_days=shop.takeback_days,
        )


@dataclass(frozen=True)
class Msg:
    id: int
    sent_at: dt.datetime
    sender: str
    agent_id: int | None
    order_ref: str = ""
    message_id: str = ""  # the sender's id: breaks ties at one instant whatever the arrival order
    text: str = ""  # read only for the steps that look at it (quality flags); no fact depends on it


@dataclass(frozen=True)
class Ord:
    id: int
    created_at: dt.datetime
    paid_at: dt.datetime | None
    closed_at: dt.datetime | None
    refunded_at: dt.datetime | None
    paid_amount: Decimal
    refund_amount: Decimal


@dataclass
class TurnFact:
    agent_id: int
    started_at: dt.datetime
    start_day: dt.date
    replied_at: dt.datetime | None = None
    reply_day: dt.date | None = None
    seconds: int | None = None
    business_seconds: int | None = None


@dataclass
class ReceptionFact:
    agent_id: int
    day: dt.date
    first_buyer_at: dt.datetime
    first_order_ref: str
    turn_index: int
    replied: bool = False
    first_response_seconds: int | None = None
    first_response_business_seconds: int | None = None
    is_inquiry: bool = True
    paid_same_day: bool = False
    paid_next_day: bool = False
    paid_final: bool = False


@dataclass
class CreditFact:
    order_id: int
    agent_id: int | None
    pay_day: dt.date
    created_day: dt.date
    paid_amount: Decimal
    refund_amount: Decimal
    taken_back: bool


@dataclass
class BuyerFacts:
    receptions: list[ReceptionFact] = field(default_factory=list)
    turns: list[TurnFact] = field(default_factory=list)
    credits: list[CreditFact] = field(default_factory=list)


def sort_key(m: Msg):
    return (m.sent_at, 0 if m.sender == BUYER else 1, m.message_id, m.id)


def buyer_facts(messages: list[Msg], orders: list[Ord], s: Settings) -> BuyerFacts:
    """All facts of one buyer. `messages` and `orders` are every row of that buyer."""
    out = BuyerFacts()
    msgs = sorted(messages, key=sort_key)
    open_turn: dict[int, int] = {}  # agent_id -> index of its open turn
    receptions: dict[tuple[int, dt.date], ReceptionFact] = {}
    last_reply_times: list[tuple[dt.datetime, int]] = []  # (sent_at, agent_id) of human replies

    for m in msgs:
        if m.agent_id is None:
            continue
        if m.sender == BUYER:
            day = shop_day(m.sent_at, s.tz)
            if m.agent_id not in open_turn:
                open_turn[m.agent_id] = len(out.turns)
                out.turns.append(TurnFact(m.agent_id, m.sent_at, day))
            key = (m.agent_id, day)
            if key not in receptions:
                receptions[key] = ReceptionFact(
                    m.agent_id, day, m.sent_at, m.order_ref or "", open_turn[m.agent_id]
                )
        elif m.sender == AGENT:
            last_reply_times.append((m.sent_at, m.agent_id))
            day = shop_day(m.sent_at, s.tz)
            idx = open_turn.pop(m.agent_id, None)
            if idx is not None:
                t = out.turns[idx]
                t.replied_at, t.reply_day = m.sent_at, day
                t.seconds = int((m.sent_at - t.started_at).total_seconds())
                t.business_seconds = s.hours.business_seconds(t.started_at, m.sent_at)
            rec = receptions.get((m.agent_id, day))
            if rec is not None:  # sorted: this reply comes after the reception's first buyer message
                rec.replied = True

    for rec in receptions.values():
        if rec.replied:
            t = out.turns[rec.turn_index]
            rec.first_response_seconds = t.seconds
            rec.first_response_business_seconds = t.business_seconds
    out.receptions = sorted(receptions.values(), key=lambda r: (r.day, r.agent_id))

    out.credits = _credits(orders, last_reply_times, s)
    _classify(out.receptions, orders, out.credits, s)
    return out


def _credits(orders: list[Ord], replies: list[tuple[dt.datetime, int]], s: Settings) -> list[CreditFact]:
    credits = []
    takeback = dt.timedelta(days=s.takeback_days)
    for o in orders:
        if o.paid_at is None:
            continue
        basis = o.paid_at if s.basis == "paid" else o.created_at
        agent_id = None
        last = None
        for sent_at, aid in replies:  # replies are in time order
            if sent_at <= basis:
                last = (sent_at, aid)
            else:
                break
        if last is not None:
            gap_days = (shop_day(basis, s.tz) - shop_day(last[0], s.tz)).days
            if gap_days + 1 <= s.window_days:
                agent_id = last[1]
        fully_refunded = o.paid_amount > 0 and o.refund_amount >= o.paid_amount
        taken_back = (o.closed_at is not None and o.closed_at - o.paid_at <= takeback) or (
            fully_refunded and o.refunded_at is not None and o.refunded_at - o.paid_at <= takeback
        )
        credits.append(
            CreditFact(
                o.id,
                agent_id,
                shop_day(o.paid_at, s.tz),
                shop_day(o.created_at, s.tz),
                o.paid_amount,
                o.refund_amount,
                taken_back,
            )
        )
    return credits


def _classify(receptions: list[ReceptionFact], orders: list[Ord], credits: list[CreditFact], s: Settings):
    lookback = dt.timedelta(days=s.lookback_days)
    credited_days: dict[int, list[dt.date]] = defaultdict(list)
    for c in credits:
        if c.agent_id is not None:
            credited_days[c.agent_id].append(c.created_day)
    for rec in receptions:
        t = rec.first_buyer_at
        aftersales = bool(rec.first_order_ref) or any(
            o.paid_at is not None
            and t - lookback <= o.paid_at < t
            and (o.closed_at is None or o.closed_at > t)
            for o in orders
        )
        rec.is_inquiry = not aftersales
        if not rec.is_inquiry:
            continue
        for d in credited_days.get(rec.agent_id, ()):
            n = (d - rec.day).days + 1  # 1 = the inquiry's own day
            if n < 1:
                continue
            rec.paid_same_day |= n <= 1
            rec.paid_next_day |= n <= 2
            rec.paid_final |= n <= s.window_days


# --- contributions of facts to the daily roll-up -------------------------------------------

EXACT_SECONDS = 600
_STEP = math.log(1.01)


def hist_key(seconds: int) -> int:
    """Histogram key of a response time: the second itself below 10 minutes, above that the lower
    bound of a bucket 1 % wide. A month's histogram then has at most ~1,500 keys however much
    traffic there is (reports stay flat), and a median is exact while its middle values are below
    10 minutes, at most 1 % low otherwise.
    """
    if seconds < EXACT_SECONDS:
        return seconds
    bound = EXACT_SECONDS * math.exp(math.floor(math.log(seconds / EXACT_SECONDS) / _STEP) * _STEP)
    return min(seconds, math.ceil(bound - 1e-6))


SCALARS = (
    "receptions", "replied_receptions", "first_response_count", "first_response_sum",
    "first_response_business_sum", "answered_turns", "response_sum", "response_business_sum",
    "slow_turns", "unanswered_turns", "inquiries", "inquiries_paid_same_day",
    "inquiries_paid_next_day", "inquiries_paid", "orders", "sales", "net_sales", "refunds",
)
MEDIAN_HISTS = ("first_response_hist", "first_response_business_hist", "response_hist", "response_business_hist")
# The report's medians and the histogram each is read from (stored on AgentMonth when it moves).
MEDIANS = {
    "first_response_seconds_median": "first_response_hist",
    "response_seconds_median": "response_hist",
    "response_business_seconds_median": "response_business_hist",
}
HISTS = (
    *MEDIAN_HISTS,
    "reception_hours",  # hour of day (shop time) of each reception's first buyer message → count
)


def hist_add(into: dict, delta: dict, sign: int = 1) -> None:
    """Add `sign` × a histogram ({value: count}) into another in place; keys that reach 0 go."""
    for k, n in delta.items():
        v = into.get(k, 0) + sign * n
        if v:
            into[k] = v
        else:
            into.pop(k, None)


def median_from_hist(hist: dict | None) -> float | None:
    """Median of values given as {value: count} (mean of the two middle values if even)."""
    if not hist:
        return None
    keys, counts = zip(*sorted(zip(map(int, hist), hist.values(), strict=True)), strict=True)
    if min(counts) <= 0:  # roll-ups keep positive counts only; be safe with anything else
        kept = [(k, n) for k, n in zip(keys, counts, strict=True) if n > 0]
        if not kept:
            return None
        keys, counts = zip(*kept, strict=True)
    cum = list(accumulate(counts))  # C-level: a merged month of 1,000 agents has many keys to walk
    total = cum[-1]
    return (keys[bisect_right(cum, (total - 1) // 2)] + keys[bisect_right(cum, total // 2)]) / 2


def _bucket(agg, key):
    b = agg.get(key)
    if b is None:
        b = agg[key] = {**{k: 0 for k in SCALARS}, **{h: defaultdict(int) for h in HISTS}}
    return b


def contributions(receptions, turns, credits, slow_seconds: int, tz) -> dict:
    """(agent_id, day) -> scalar sums and histograms these facts add to the roll-up.

    Accepts fact dataclasses or model rows alike (same attribute names).
    """
    agg: dict = {}
    for r in receptions:
        b = _bucket(agg, (r.agent_id, r.day))
        b["receptions"] += 1
        b["reception_hours"][r.first_buyer_at.astimezone(tz).hour] += 1
        if r.replied:
            b["replied_receptions"] += 1
            if r.first_response_seconds is not None:
                b["first_response_count"] += 1
                b["first_response_sum"] += r.first_response_seconds
                b["first_response_business_sum"] += r.first_response_business_seconds
                b["first_response_hist"][hist_key(r.first_response_seconds)] += 1
                b["first_response_business_hist"][hist_key(r.first_response_business_seconds)] += 1
        if r.is_inquiry:
            b["inquiries"] += 1
            b["inquiries_paid_same_day"] += r.paid_same_day
            b["inquiries_paid_next_day"] += r.paid_next_day
            b["inquiries_paid"] += r.paid_final
    for t in turns:
        if t.replied_at is None:
            _bucket(agg, (t.agent_id, t.start_day))["unanswered_turns"] += 1
        else:
            b = _bucket(agg, (t.agent_id, t.reply_day))
            b["answered_turns"] += 1
            b["response_sum"] += t.seconds
            b["response_business_sum"] += t.business_seconds
            b["slow_turns"] += t.business_seconds > slow_seconds
            b["response_hist"][hist_key(t.seconds)] += 1
            b["response_business_hist"][hist_key(t.business_seconds)] += 1
    for c in credits:
        if c.agent_id is None:
            continue
        b = _bucket(agg, (c.agent_id, c.pay_day))
        b["orders"] += 1
        b["sales"] += c.paid_amount
        b["refunds"] += c.refund_amount
        if not c.taken_back:
            b["net_sales"] += c.paid_amount
    return agg
