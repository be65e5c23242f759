"""KPI report (SPEC §12, KPI-1…4): the one reader used by dashboard, API, CLI and exports.

Reads the daily roll-up and order credits only, never raw messages, so its cost grows with
agents × days, not with message count.
"""

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from itertools import accumulate

from django.db.models import Count, Sum
from django.utils.module_loading import import_string

from kefu.core.models import Agent, Shop

from . import facts as F
from .models import AgentDay, AgentMonth, OrderCredit, ShopPeriod
from .queue import facts_lag

CENT = Decimal("0.01")
ZERO = Decimal("0")
KEYS = (
    "receptions", "replied_receptions", "reply_rate", "first_response_seconds",
    "first_response_seconds_median", "first_response_business_seconds", "response_seconds",
    "response_seconds_median", "response_business_seconds", "response_business_seconds_median",
    "answered_turns", "unanswered_turns", "slow_turns", "inquiries", "inquiries_paid_same_day",
    "inquiries_paid_next_day", "inquiries_paid", "conversion_rate", "orders", "sales", "net_sales",
    "paying_buyers", "avg_order_value", "refunds", "refund_rate",
)
# Agent rows come group by group (each group ranked on its own), 售前 first.
GROUP_ORDER = {"presales": 0, "aftersales": 1, "": 2}
# Score components: True = higher is better.
SCORE_COMPONENTS = {
    "conversion_rate": True, "avg_order_value": True, "reply_rate": True, "sales": True,
    "response_seconds": False, "first_response_seconds": False, "refund_rate": False,
}


@dataclass(frozen=True)
class FigureSet:
    """Figures another app adds to every KPI row (催付, SLA, CSAT …), read from that app's own facts.

    `sums(shop=, date_from=, date_to=, agent_ids=)` returns additive numbers per agent id;
    `figures(sums)` turns one agent's (or a group's merged) sums into the JSON fields, so group and
    shop rows are computed from summed numerators and denominators, never averaged ratios.
    `fields` maps each JSON field to (label, kind), kind being count | rate | money | seconds.
    """

    fields: dict[str, tuple[str, str]]
    sums: Callable[..., dict[int, dict]]
    figures: Callable[[dict], dict]


# The figure sets of the KPI report, in column order.
FIGURE_SETS = [
    "kefu.followups.figures.FIGURES",
    "kefu.complaints.figures.FIGURES",
    "kefu.sla.figures.FIGURES",
    "kefu.quality.figures.FIGURES",
]


@cache
def figure_sets() -> tuple[FigureSet, ...]:
    return tuple(import_string(path) for path in FIGURE_SETS)


def report_keys() -> tuple[str, ...]:
    """Every figure of a report row: §12's, then each figure set's."""
    return KEYS + tuple(f for fs in figure_sets() for f in fs.fields)


def _add_sums(into: dict, more: dict) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + v


def money(v) -> str:
    return str(Decimal(v or 0).quantize(CENT, rounding=ROUND_HALF_UP))


def ratio(num, den) -> float | None:
    if not den:
        return None
    return round(float(Decimal(num) / Decimal(den)), 6)


def _mean(total, count) -> float | None:
    return round(total / count, 1) if count else None


def median_from_hist(hist: dict) -> float | None:
    """Median of values given as {value: count} (mean of the two middle values if even)."""
    if not hist:
        return None
    keys, counts = zip(*sorted(zip(map(int, hist), hist.values(), strict=True)), strict=True)
    if min(counts) <= 0:  # roll-ups keep positive counts only; be safe with anything else
        kept = [(k, n) for k, n in zip(keys, counts, strict=True) if n > 0]
        if not kept:
            return None
        keys, counts = zip(*kept, strict=True)
    cum = list(accumulate(counts))  # C-level: a month of 1,000 agents has millions of keys to walk
    total = cum[-1]
    return (keys[bisect_right(cum, (total - 1) // 2)] + keys[bisect_right(cum, total // 2)]) / 2


def _figures(sums: dict, hists: dict, paying_buyers: int) -> dict:
    sales = sums["sales"] or ZERO
    return {
        "receptions": sums["receptions"],
        "replied_receptions": sums["replied_receptions"],
        "reply_rate": ratio(sums["replied_receptions"], sums["receptions"]),
        "first_response_seconds": _mean(sums["first_response_sum"], sums["first_response_count"]),
        "first_response_seconds_median": median_from_hist(hists.get("first_response_hist")),
        "first_response_business_seconds": _mean(sums["first_response_business_sum"], sums["first_response_count"]),
        "response_seconds": _mean(sums["response_sum"], sums["answered_turns"]),
        "response_seconds_median": median_from_hist(hists.get("response_hist")),
        "response_business_seconds": _mean(sums["response_business_sum"], sums["answered_turns"]),
        "response_business_seconds_median": median_from_hist(hists.get("response_business_hist")),
        "answered_turns": sums["answered_turns"],
        "unanswered_turns": sums["unanswered_turns"],
        "slow_turns": sums["slow_turns"],
        "inquiries": sums["inquiries"],
        "inquiries_paid_same_day": sums["inquiries_paid_same_day"],
        "inquiries_paid_next_day": sums["inquiries_paid_next_day"],
        "inquiries_paid": sums["inquiries_paid"],
        "conversion_rate": ratio(sums["inquiries_paid"], sums["inquiries"]),
        "orders": sums["orders"],
        "sales": money(sales),
        "net_sales": money(sums["net_sales"]),
        "paying_buyers": paying_buyers,
        "avg_order_value": money(sales / paying_buyers) if paying_buyers else None,
        "refunds": money(sums["refunds"]),
        "refund_rate": ratio(sums["refunds"] or 0, sales),
    }


def _empty_sums() -> dict:
    return {k: 0 for k in F.SCALARS}


def _collect(shop: Shop, date_from: dt.date, date_to: dt.date, agent_ids=None):
    """Per-agent scalar sums (SQL), merged histograms and distinct paying buyers."""
    days = AgentDay.objects.filter(shop=shop, day__gte=date_from, day__lte=date_to)
    credits = OrderCredit.objects.filter(shop=shop, pay_day__gte=date_from, pay_day__lte=date_to)
    if agent_ids is not None:
        days = days.filter(agent_id__in=agent_ids)
    sums: dict[int, dict] = {}
    for row in days.values("agent_id").annotate(**{f: Sum(f) for f in F.SCALARS}):
        agent_id = row.pop("agent_id")
        if not any(row.values()):  # roll-up rows left at zero after the agent's facts moved away
            continue
        sums[agent_id] = {k: v or 0 for k, v in row.items()}
    hists: dict[int, dict] = defaultdict(dict)  # agent → histogram name → {seconds (str): count}
    months, loose_days = _split_months(date_from, date_to)
    sources = []
    if months:
        sources.append(AgentMonth.objects.filter(shop=shop, month__in=months))
    if loose_days:
        sources.append(AgentDay.objects.filter(shop=shop, day__in=loose_days))
    for qs in sources:
        if agent_ids is not None:
            qs = qs.filter(agent_id__in=agent_ids)
        for agent_id, *hs in qs.values_list("agent_id", *F.MEDIAN_HISTS):
            target = hists[agent_id]
            for name, h in zip(F.MEDIAN_HISTS, hs, strict=True):
                t = target.get(name)
                if t is None:  # the first row's freshly decoded dict is used as it is (no copy)
                    target[name] = h
                    continue
                for k, n in h.items():
                    t[k] = t.get(k, 0) + n
    return sums, hists, credits


def _paying_buyers(shop: Shop, date_from: dt.date, date_to: dt.date, credits) -> tuple[dict, int]:
    """Distinct paying buyers per agent and for the shop. A single day or a whole calendar month
    reads the roll-up (its cost does not grow with orders); other ranges count distinct buyers
    over the range's credits, since distinct counts do not add up across days."""
    month_end = (date_from.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    if date_from == date_to:
        by_agent = AgentDay.objects.filter(shop=shop, day=date_from, paying_buyers__gt=0)
        period, start = ShopPeriod.DAY, date_from
    elif date_from.day == 1 and date_to == month_end:
        by_agent = AgentMonth.objects.filter(shop=shop, month=date_from, paying_buyers__gt=0)
        period, start = ShopPeriod.MONTH, date_from
    else:
        counted = credits.filter(agent__isnull=False)
        per_agent = dict(counted.values("agent_id").annotate(n=Count("customer", distinct=True))
                         .values_list("agent_id", "n"))
        return per_agent, counted.aggregate(n=Count("customer", distinct=True))["n"] or 0
    per_agent = dict(by_agent.values_list("agent_id", "paying_buyers"))
    total = ShopPeriod.objects.filter(shop=shop, period=period, start=start).values_list("paying_buyers", flat=True)
    return per_agent, next(iter(total), 0)


def _split_months(date_from: dt.date, date_to: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """Whole calendar months inside [from, to] (as their first days) and the days left over."""
    months, days = [], []
    d = date_from
    while d <= date_to:
        nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        if d.day == 1 and nxt - dt.timedelta(days=1) <= date_to:
            months.append(d)
            d = nxt
        else:
            days.append(d)
            d += dt.timedelta(days=1)
    return months, days


def kpi_report(
    *, shop: Shop, date_from: dt.date, date_to: dt.date, by: str = "agent", agent_ids=None
) -> dict:
    """The report of issue 2's JSON shape. `by` = agent | group | shop.

    `lag_seconds`: how old the oldest change not yet in these figures is (0 = current; ADR 0004)."""
    sums, hists, credits = _collect(shop, date_from, date_to, agent_ids)
    extra = [(fs, fs.sums(shop=shop, date_from=date_from, date_to=date_to, agent_ids=agent_ids))
             for fs in figure_sets()]
    for _fs, per_agent in extra:  # an agent with only (say) 催付 results still gets a row
        for aid in per_agent:
            sums.setdefault(aid, _empty_sums())
    agents = {a.id: a for a in Agent.objects.filter(shop=shop, id__in=set(sums))}

    def extra_figures(ids) -> dict:
        out = {}
        for fs, per_agent in extra:
            merged_sums: dict = {}
            for i in ids:
                _add_sums(merged_sums, per_agent.get(i, {}))
            out.update(fs.figures(merged_sums))
        return out
    buyers_by_agent, all_buyers = _paying_buyers(shop, date_from, date_to, credits)

    def merged(ids) -> tuple[dict, dict]:
        s, h = _empty_sums(), {name: defaultdict(int) for name in F.MEDIAN_HISTS}
        for i in ids:
            for k, v in sums[i].items():
                s[k] += v
            for name in F.MEDIAN_HISTS:
                for k, n in hists[i].get(name, {}).items():
                    h[name][k] += n
        return s, h

    rows = []
    if by == "agent":
        for aid in sums:
            a = agents[aid]
            rows.append(
                {"agent": a.name, "agent_id": aid, "group": a.group,
                 **_figures(sums[aid], hists[aid], buyers_by_agent.get(aid, 0)), **extra_figures([aid])}
            )
        _score(rows, shop.score_weights or {})
        rows.sort(key=lambda r: (GROUP_ORDER.get(r["group"], len(GROUP_ORDER)), r["group"], r["rank"], r["agent"]))
    elif by == "group":
        groups: dict[str, list[int]] = defaultdict(list)
        for aid in sums:
            groups[agents[aid].group].append(aid)
        group_buyers = dict(
            credits.filter(agent__isnull=False)
            .values("agent__group")
            .annotate(n=Count("customer", distinct=True))
            .values_list("agent__group", "n")
        )
        for g, ids in sorted(groups.items()):
            s, h = merged(ids)
            rows.append({"group": g, **_figures(s, h, group_buyers.get(g, 0)), **extra_figures(ids)})
    elif by != "shop":
        raise ValueError("by must be agent, group or shop")

    s, h = merged(list(sums))
    silent = ShopPeriod.objects.filter(shop=shop, period=ShopPeriod.DAY, start__gte=date_from,
                                       start__lte=date_to).aggregate(n=Sum("silent_orders"), amount=Sum("silent_sales"))
    totals = {**_figures(s, h, all_buyers or 0), **extra_figures(list(sums))}
    totals["silent_orders"] = silent["n"] or 0
    totals["silent_sales"] = money(silent["amount"])
    key = {"agent": "agents", "group": "groups", "shop": "shops"}[by]
    if by == "shop":
        rows = [{"shop": shop.code, **totals}]
    return {"shop": shop.code, "from": date_from.isoformat(), "to": date_to.isoformat(), key: rows,
            "shop_totals": totals, "lag_seconds": facts_lag(shop=shop)}


# 售后 agents take returns and complaints, not sales: they are never scored on these.
SALES_COMPONENTS = {"conversion_rate", "avg_order_value", "sales"}
# What after-sales agents are scored on when the shop's weights hold sales components only.
AFTERSALES_FALLBACK = {"reply_rate": 1.0, "response_seconds": 1.0}


def score_weights_for(group: str, weights: dict) -> dict:
    """The shop's weights as they apply to one group: after-sales leaves the sales components out."""
    weights = {k: float(w) for k, w in (weights or {}).items() if k in SCORE_COMPONENTS and float(w) > 0}
    if group == "aftersales":
        weights = {k: w for k, w in weights.items() if k not in SALES_COMPONENTS} or dict(AFTERSALES_FALLBACK)
    return weights


def _score(rows: list[dict], weights: dict) -> None:
    """KPI-4: weighted score 0–100, each component scaled against the best value of the agent's
    group; ranks are per group (售前 and 售后 are measured differently, issue 12)."""
    by_group: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_group[r["group"]].append(r)
    for group, members in by_group.items():
        _score_group(members, score_weights_for(group, weights))


def _score_group(rows: list[dict], weights: dict) -> None:
    total_w = sum(weights.values())
    best = {}
    for comp, higher in SCORE_COMPONENTS.items():
        vals = [float(r[comp]) for r in rows if r[comp] is not None]
        best[comp] = (max(vals) if higher else min(vals)) if vals else None
    for r in rows:
        score = 0.0
        for comp, w in weights.items():
            v, b = r[comp], best[comp]
            if v is None or b is None:
                continue
            v = float(v)
            if SCORE_COMPONENTS[comp]:
                part = v / b if b > 0 else 0.0
            else:
                part = b / v if v > 0 else 1.0
            score += w * part
        r["score"] = round(100 * score / total_w, 2) if total_w else None
    ordered = sorted(rows, key=lambda r: (-(r["score"] or 0), r["agent"]))
    prev, rank = None, 0
    for i, r in enumerate(ordered, start=1):
        if r["score"] != prev:
            rank, prev = i, r["score"]
        r["rank"] = rank


def kpi_daily(*, shop: Shop, date_from: dt.date, date_to: dt.date, agent_ids=None) -> list[dict]:
    """Trend: the report's figures per shop day (for the team, or for the given agents)."""
    days = AgentDay.objects.filter(shop=shop, day__gte=date_from, day__lte=date_to)
    credits = OrderCredit.objects.filter(shop=shop, pay_day__gte=date_from, pay_day__lte=date_to, agent__isnull=False)
    if agent_ids is not None:
        days = days.filter(agent_id__in=agent_ids)
        credits = credits.filter(agent_id__in=agent_ids)
    sums = {}
    for row in days.values("day").annotate(**{f: Sum(f) for f in F.SCALARS}):
        day = row.pop("day")
        sums[day] = {k: v or 0 for k, v in row.items()}
    buyers = dict(credits.values("pay_day").annotate(n=Count("customer", distinct=True)).values_list("pay_day", "n"))
    no_hists = {h: {} for h in F.HISTS}
    out = []
    d = date_from
    while d <= date_to:
        figures = _figures(sums.get(d, _empty_sums()), no_hists, buyers.get(d, 0))
        out.append({"day": d.isoformat(), **{k: v for k, v in figures.items() if not k.endswith("_median")}})
        d += dt.timedelta(days=1)
    return out


def hourly_load(*, shop: Shop, date_from: dt.date, date_to: dt.date, agent_ids=None) -> dict:
    """Heat-map data: receptions by shop day × hour of the buyer's first message."""
    days = AgentDay.objects.filter(shop=shop, day__gte=date_from, day__lte=date_to)
    if agent_ids is not None:
        days = days.filter(agent_id__in=agent_ids)
    grid: dict[dt.date, list[int]] = {}
    for day, hours in days.values_list("day", "reception_hours"):
        row = grid.setdefault(day, [0] * 24)
        for h, n in hours.items():
            row[int(h)] += n
    labels, matrix = [], []
    d = date_from
    while d <= date_to:
        labels.append(d.isoformat())
        matrix.append(grid.get(d, [0] * 24))
        d += dt.timedelta(days=1)
    return {"days": labels, "hours": list(range(24)), "receptions": matrix}
