"""A second, independent route to the SPEC §12 figures, straight from raw rows.

Written from the text of SPEC §12 and the settled points, with plain loops over lists of dicts.
It does NOT import kefu.metrics (facts, kpi, services) and uses a different formulation:
turns are found per (agent, buyer) between consecutive replies of that agent, receptions are
grouped by (agent, buyer, shop day), and every figure is summed straight from those lists.

Inputs
  messages: dicts with message_id, buyer_id, agent_id (platform id or ""/None), sender
            (buyer|agent|bot|system), sent_at (aware datetime), order_id ("" if none).
  orders:   dicts with order_id, buyer_id, created_at, paid_at, closed_at, refunded_at (aware
            datetimes or None), paid_amount, refund_amount (Decimal).
  spam:     buyer ids flagged as spam (left out of every figure).
Output of `report`: {"agents": {agent platform id: figures}, "shop": figures + silent_*}.
"""

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
DAY = dt.timedelta(days=1)


@dataclass
class Config:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    window_days: int = 3
    basis: str = "created"  # or "paid"
    slow_seconds: int = 180
    lookback_days: int = 15
    takeback_days: int = 15
    hours: dict | None = None  # Shop.service_hours; None/{} = 24 h every day


# --- time helpers -----------------------------------------------------------------------------


def local_day(moment: dt.datetime, tz) -> dt.date:
    return moment.astimezone(tz).date()


def _clock(text: str) -> tuple[int, int]:
    h, m = text.split(":")[:2]
    return int(h), int(m)


def business_seconds(start: dt.datetime, end: dt.datetime, cfg: Config) -> int:
    """Seconds of [start, end) inside the service hours (weekly intervals, holidays, shop time)."""
    if end <= start:
        return 0
    spec = cfg.hours or {}
    weekly = spec.get("weekly") or None
    holidays = {dt.date.fromisoformat(h) for h in spec.get("holidays", [])}
    tz = cfg.tz
    total = dt.timedelta(0)
    day = local_day(start, tz) - DAY
    while day <= local_day(end, tz):
        if day not in holidays:
            if weekly is None:
                spans = [((0, 0), (24, 0))]
            else:
                spans = [(_clock(a), _clock(b)) for a, b in weekly.get(str(day.weekday()), [])]
            for (h1, m1), (h2, m2) in spans:
                open_at = dt.datetime(day.year, day.month, day.day, tzinfo=tz) + dt.timedelta(hours=h1, minutes=m1)
                close_at = dt.datetime(day.year, day.month, day.day, tzinfo=tz) + dt.timedelta(hours=h2, minutes=m2)
                lo, hi = max(open_at, start), min(close_at, end)
                if hi > lo:
                    total += hi - lo
        day += DAY
    return int(total.total_seconds())


# --- per-buyer facts --------------------------------------------------------------------------


def _ordered(msgs):
    # by time; a buyer's message before an agent's at the same instant
    return sorted(msgs, key=lambda m: (m["sent_at"], 0 if m["sender"] == "buyer" else 1, m["message_id"]))


def buyer_rows(msgs: list[dict], orders: list[dict], cfg: Config):
    """(receptions, turns, credits) of one buyer, as plain dicts."""
    tz = cfg.tz
    msgs = _ordered(msgs)
    buyer_msgs = [m for m in msgs if m["sender"] == "buyer" and m["agent_id"]]
    human = [m for m in msgs if m["sender"] == "agent" and m["agent_id"]]
    agents = {m["agent_id"] for m in buyer_msgs}

    # Turns, per agent: between two consecutive replies of that agent, the buyer messages routed to
    # it (a buyer message at the very instant of a reply is answered by it) form one turn.
    turns = []
    for a in sorted(agents):
        replies = [m["sent_at"] for m in human if m["agent_id"] == a]
        mine = [m["sent_at"] for m in buyer_msgs if m["agent_id"] == a]
        prev = None
        for r in replies:
            waiting = [t for t in mine if (prev is None or t > prev) and t <= r]
            if waiting:
                start = min(waiting)
                turns.append({"agent": a, "start": start, "reply": r, "seconds": int((r - start).total_seconds()),
                              "business": business_seconds(start, r, cfg)})
            prev = r
        left = [t for t in mine if prev is None or t > prev]
        if left:
            turns.append({"agent": a, "start": min(left), "reply": None, "seconds": None, "business": None})

    # Credits of paid orders.
    credits = []
    for o in orders:
        if o["paid_at"] is None:
            continue
        basis = o["paid_at"] if cfg.basis == "paid" else o["created_at"]
        before = [m for m in human if m["sent_at"] <= basis]
        agent = None
        if before:
            last = before[-1]  # ordered by time
            days_counted = (local_day(basis, tz) - local_day(last["sent_at"], tz)).days + 1
            if days_counted <= cfg.window_days:
                agent = last["agent_id"]
        limit = dt.timedelta(days=cfg.takeback_days)
        cancelled = o["closed_at"] is not None and o["closed_at"] - o["paid_at"] <= limit
        full_refund = (
            o["paid_amount"] > 0 and o["refund_amount"] >= o["paid_amount"] and o["refunded_at"] is not None
            and o["refunded_at"] - o["paid_at"] <= limit
        )
        credits.append({
            "order_id": o["order_id"], "buyer": o["buyer_id"], "agent": agent,
            "pay_day": local_day(o["paid_at"], tz), "created_day": local_day(o["created_at"], tz),
            "paid": o["paid_amount"], "refund": o["refund_amount"], "taken_back": cancelled or full_refund,
        })

    # Receptions: (agent, buyer, shop day) with at least one buyer message served by that agent.
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for m in buyer_msgs:
        groups[(m["agent_id"], local_day(m["sent_at"], tz))].append(m)
    receptions = []
    for (a, day), ms in sorted(groups.items()):
        first = ms[0]  # msgs are ordered
        t0 = first["sent_at"]
        replies = [m["sent_at"] for m in human if m["agent_id"] == a]
        replied = any(r >= t0 and local_day(r, tz) == day for r in replies)
        frt = frt_b = None
        if replied:
            answer = min(r for r in replies if r >= t0)
            earlier = [r for r in replies if r < t0]
            prev = max(earlier) if earlier else None
            start = min(m["sent_at"] for m in buyer_msgs if m["agent_id"] == a and (prev is None or m["sent_at"] > prev))
            frt = int((answer - start).total_seconds())
            frt_b = business_seconds(start, answer, cfg)
        lookback = dt.timedelta(days=cfg.lookback_days)
        recent_paid = any(
            o["paid_at"] is not None and t0 - lookback <= o["paid_at"] < t0
            and not (o["closed_at"] is not None and o["closed_at"] <= t0)
            for o in orders
        )
        inquiry = not (first.get("order_id") or recent_paid)
        paid_in = {1: False, 2: False, cfg.window_days: False}
        if inquiry:
            for c in credits:
                if c["agent"] != a:
                    continue
                n = (c["created_day"] - day).days + 1
                for w in paid_in:
                    if 1 <= n <= w:
                        paid_in[w] = True
        receptions.append({
            "agent": a, "day": day, "replied": replied, "frt": frt, "frt_b": frt_b, "inquiry": inquiry,
            "same_day": paid_in[1], "next_day": paid_in[2], "final": paid_in[cfg.window_days],
        })
    return receptions, turns, credits


def all_rows(messages, orders, cfg: Config, spam=()):
    by_buyer_m, by_buyer_o = defaultdict(list), defaultdict(list)
    for m in messages:
        by_buyer_m[m["buyer_id"]].append(m)
    for o in orders:
        by_buyer_o[o["buyer_id"]].append(o)
    R, T, C = [], [], []
    for b in set(by_buyer_m) | set(by_buyer_o):
        if b in spam:
            continue
        r, t, c = buyer_rows(by_buyer_m.get(b, []), by_buyer_o.get(b, []), cfg)
        R += r
        T += t
        C += c
    return R, T, C


# --- figures ----------------------------------------------------------------------------------


def _rate(num, den):
    return None if not den else round(float(num) / float(den), 6)


def _avg(values):
    return round(sum(values) / len(values), 1) if values else None


def _median(values):
    return float(statistics.median(values)) if values else None


def _money(v) -> str:
    return str(Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP))


def figures(receptions, turns, credits, cfg: Config) -> dict:
    replied = [r for r in receptions if r["replied"]]
    frts = [r["frt"] for r in replied]
    frts_b = [r["frt_b"] for r in replied]
    answered = [t for t in turns if t["reply"] is not None]
    secs = [t["seconds"] for t in answered]
    bsecs = [t["business"] for t in answered]
    inquiries = [r for r in receptions if r["inquiry"]]
    paid_final = sum(r["final"] for r in inquiries)
    sales = sum((c["paid"] for c in credits), Decimal(0))
    refunds = sum((c["refund"] for c in credits), Decimal(0))
    buyers = len({c["buyer"] for c in credits})
    return {
        "receptions": len(receptions),
        "replied_receptions": len(replied),
        "reply_rate": _rate(len(replied), len(receptions)),
        "first_response_seconds": _avg(frts),
        "first_response_seconds_median": _median(frts),
        "first_response_business_seconds": _avg(frts_b),
        "response_seconds": _avg(secs),
        "response_seconds_median": _median(secs),
        "response_business_seconds": _avg(bsecs),
        "response_business_seconds_median": _median(bsecs),
        "answered_turns": len(answered),
        "unanswered_turns": sum(1 for t in turns if t["reply"] is None),
        "slow_turns": sum(1 for b in bsecs if b > cfg.slow_seconds),
        "inquiries": len(inquiries),
        "inquiries_paid_same_day": sum(r["same_day"] for r in inquiries),
        "inquiries_paid_next_day": sum(r["next_day"] for r in inquiries),
        "inquiries_paid": paid_final,
        "conversion_rate": _rate(paid_final, len(inquiries)),
        "orders": len(credits),
        "sales": _money(sales),
        "net_sales": _money(sum((c["paid"] for c in credits if not c["taken_back"]), Decimal(0))),
        "paying_buyers": buyers,
        "avg_order_value": _money(sales / buyers) if buyers else None,
        "refunds": _money(refunds),
        "refund_rate": None if not sales else round(float(refunds) / float(sales), 6),
    }


def report(messages, orders, cfg: Config, date_from: dt.date, date_to: dt.date, spam=(), group_of=None) -> dict:
    """The figures per agent and for the shop; with `group_of` (agent → group) also per group."""
    R, T, C = all_rows(messages, orders, cfg, spam)
    tz = cfg.tz

    def inside(d):
        return d is not None and date_from <= d <= date_to

    rec = [r for r in R if inside(r["day"])]
    # a response time belongs to the reply's day, an unanswered turn to the day it started
    trn = [t for t in T if inside(local_day(t["reply"], tz) if t["reply"] else local_day(t["start"], tz))]
    cred = [c for c in C if c["agent"] is not None and inside(c["pay_day"])]
    silent = [c for c in C if c["agent"] is None and inside(c["pay_day"])]
    agents = {r["agent"] for r in rec} | {t["agent"] for t in trn} | {c["agent"] for c in cred}
    out = {
        a: figures([r for r in rec if r["agent"] == a], [t for t in trn if t["agent"] == a],
                   [c for c in cred if c["agent"] == a], cfg)
        for a in agents
    }
    shop = figures(rec, trn, cred, cfg)
    shop["silent_orders"] = len(silent)
    shop["silent_sales"] = _money(sum((c["paid"] for c in silent), Decimal(0)))
    groups = {}
    for g in {group_of[a] for a in agents} if group_of else ():
        groups[g] = figures([r for r in rec if group_of[r["agent"]] == g], [t for t in trn if group_of[t["agent"]] == g],
                            [c for c in cred if group_of[c["agent"]] == g], cfg)
    return {"agents": out, "shop": shop, "groups": groups}
