"""KPI report (SPEC §12, KPI-1…4): the one reader used by dashboard, API, CLI and exports.

Reads the daily roll-up and order credits only, never raw messages, so its cost grows with
agents × days, not with message count.
"""

import datetime as dt
from collections import defaultdict, namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, reduce
from operator import or_

from django.db import models
from django.db.models import Count, Q, Sum
from django.utils.module_loading import import_string

from kefu.core.models import Agent, Shop
from kefu.core.prepared import prepared_dicts, prepared_rows

from . import facts as F
from .facts import median_from_hist
from .models import AgentDay, AgentMonth, GroupMonth, OrderCredit, ShopPeriod
from .queue import facts_lag
from .ranges import ONE_DAY, DayRange, ids_arg, sums_per_range

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

    `sums(shop=, ranges=, agent_ids=)` returns, for each (date_from, date_to) of `ranges` in order,
    additive numbers per agent id — one query for all ranges (kefu.metrics.ranges.sums_per_range),
    since a dashboard reports today, the period and the previous period at once; `figures(sums)` turns one agent's (or a group's merged) sums into the JSON fields, so group and
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


NO_MEDIANS = dict.fromkeys(F.MEDIANS)
_AgentRow = namedtuple("_AgentRow", "name group")


def _medians(hists: dict) -> dict:
    return {name: median_from_hist(hists.get(h)) for name, h in F.MEDIANS.items()}


def _figures(sums: dict, medians: dict, paying_buyers: int) -> dict:
    sales = sums["sales"] or ZERO
    return {
        "receptions": sums["receptions"],
        "replied_receptions": sums["replied_receptions"],
        "reply_rate": ratio(sums["replied_receptions"], sums["receptions"]),
        "first_response_seconds": _mean(sums["first_response_sum"], sums["first_response_count"]),
        "first_response_seconds_median": medians["first_response_seconds_median"],
        "first_response_business_seconds": _mean(sums["first_response_business_sum"], sums["first_response_count"]),
        "response_seconds": _mean(sums["response_sum"], sums["answered_turns"]),
        "response_seconds_median": medians["response_seconds_median"],
        "response_business_seconds": _mean(sums["response_business_sum"], sums["answered_turns"]),
        "response_business_seconds_median": medians["response_business_seconds_median"],
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


_SCALAR_SUMS = {f: Sum(f) for f in F.SCALARS}
_SILENT_SUMS = {"n": Sum("silent_orders"), "amount": Sum("silent_sales")}


def _agent_days(*, shop_id: int, agent_ids: list[int] | None):
    days = AgentDay.objects.filter(shop_id=shop_id)
    return days if agent_ids is None else days.filter(agent_id__in=agent_ids)


def _shop_days(*, shop_id: int):
    return ShopPeriod.objects.filter(shop_id=shop_id, period=ShopPeriod.DAY)


def _collect(shop: Shop, ranges: list[DayRange], agent_ids=None) -> list[dict[int, dict]]:
    """Per range, per agent: the scalar sums of the roll-up (one query for all ranges)."""
    out = []
    for rows in sums_per_range(_agent_days, args={"shop_id": shop.id, "agent_ids": ids_arg(agent_ids)}, key="agent_id",
                               ranges=ranges, field="day", aggregates=_SCALAR_SUMS):
        # roll-up rows left at zero after the agent's facts moved away give no row
        out.append({aid: {k: v or 0 for k, v in row.items()} for aid, row in rows.items() if any(row.values())})
    return out


def _month_hists(*, shop_id: int, months: list[dt.date], agent_ids: list[int] | None):
    qs = AgentMonth.objects.filter(shop_id=shop_id, month__in=months)
    qs = qs if agent_ids is None else qs.filter(agent_id__in=agent_ids)
    return qs.values_list("agent_id", "month", *F.MEDIAN_HISTS)


def _day_hists(*, shop_id: int, days: list[dt.date], agent_ids: list[int] | None):
    qs = AgentDay.objects.filter(shop_id=shop_id, day__in=days)
    qs = qs if agent_ids is None else qs.filter(agent_id__in=agent_ids)
    return qs.values_list("agent_id", "day", *F.MEDIAN_HISTS)


def _agent_hists(shop: Shop, ranges: list[DayRange], agent_ids=None) -> list[dict]:
    """Per range: agent → histogram name → {seconds (str): count}, merged over the range (month
    rows for its whole months, day rows for the rest); one query each for the months and the days
    of all ranges."""
    splits = [_split_months(date_from, date_to) for date_from, date_to in ranges]
    out: list[dict[int, dict]] = [defaultdict(dict) for _ in ranges]
    sources = []
    months = sorted({m for ms, _ in splits for m in ms})
    loose_days = sorted({d for _, ds in splits for d in ds})
    ids = ids_arg(agent_ids)
    if months:
        sources.append((prepared_rows(_month_hists, shop_id=shop.id, months=months, agent_ids=ids),
                        [set(ms) for ms, _ in splits]))
    if loose_days:
        sources.append((prepared_rows(_day_hists, shop_id=shop.id, days=loose_days, agent_ids=ids),
                        [set(ds) for _, ds in splits]))
    for rows, held_by in sources:
        for agent_id, when, *hs in rows:
            fresh = True  # the row's freshly decoded dicts are used as they are by one range (no copy)
            for i, held in enumerate(held_by):
                if when not in held:
                    continue
                target = out[i][agent_id]
                for name, h in zip(F.MEDIAN_HISTS, hs, strict=True):
                    t = target.get(name)
                    if t is None:
                        target[name] = h if fresh else dict(h)
                        continue
                    for k, n in h.items():
                        t[k] = t.get(k, 0) + n
                fresh = False
    return out


def _group_months(*, shop_id: int, month: dt.date):
    return GroupMonth.objects.filter(shop_id=shop_id, month=month).values_list("group", *F.MEDIAN_HISTS)


def _moved_months(*, shop_id: int, month: dt.date):
    return (AgentMonth.objects.filter(shop_id=shop_id, month=month).exclude(rolled_group=models.F("agent__group"))
            .values_list("rolled_group", "agent__group", *F.MEDIAN_HISTS))


def _group_month_hists(shop: Shop, month: dt.date) -> dict[str, dict]:
    """The month's histograms per group (the agents' present groups) from the GroupMonth rows,
    corrected for the agents whose month row rolled into another group before they moved."""
    team: dict[str, dict] = defaultdict(lambda: {h: {} for h in F.MEDIAN_HISTS})
    for group, *hs in prepared_rows(_group_months, shop_id=shop.id, month=month):
        for h, hist in zip(F.MEDIAN_HISTS, hs, strict=True):
            F.hist_add(team[group][h], hist)
    for old, new, *hs in prepared_rows(_moved_months, shop_id=shop.id, month=month):
        for h, hist in zip(F.MEDIAN_HISTS, hs, strict=True):
            F.hist_add(team[old][h], hist, -1)
            F.hist_add(team[new][h], hist)
    return team


def _one_month(date_from: dt.date, date_to: dt.date) -> dt.date | None:
    """The month's first day when the range is exactly one calendar month."""
    month_end = (date_from.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return date_from if date_from.day == 1 and date_to == month_end else None


def _day_buyers(*, shop_id: int, days: list[dt.date]):
    return AgentDay.objects.filter(shop_id=shop_id, day__in=days, paying_buyers__gt=0).values_list(
        "agent_id", "day", "paying_buyers")


def _shop_buyers(*, shop_id: int, days: list[dt.date], months: list[dt.date]):
    return ShopPeriod.objects.filter(Q(period=ShopPeriod.DAY, start__in=days) | Q(period=ShopPeriod.MONTH,
                                     start__in=months), shop_id=shop_id).values_list("period", "start", "paying_buyers")


def _distinct_buyers(*, per_agent: bool, shop_id: int, lo: list[dt.date], hi: list[dt.date]):
    """Distinct paying buyers of each day span [lo, hi) (as n0, n1 …), per agent or in all."""
    spans = [Q(pay_day__gte=a, pay_day__lt=b) for a, b in zip(lo, hi, strict=True)]
    counted = OrderCredit.objects.filter(reduce(or_, spans), shop_id=shop_id, agent__isnull=False).order_by()
    distinct = {f"n{i}": Count("customer", distinct=True, filter=q) for i, q in enumerate(spans)}
    if per_agent:
        return counted.values("agent_id").annotate(**distinct)
    return counted.values("shop_id").annotate(**distinct)  # one row, none without credits


def _paying_buyers(shop: Shop, ranges: list[DayRange], month_rows: dict) -> list[tuple[dict, int]]:
    """Per range: distinct paying buyers per agent and for the shop. A single day or a whole
    calendar month reads the roll-up (its cost does not grow with orders); other ranges count
    distinct buyers over the range's credits, since distinct counts do not add up across days.
    One query for each kind, whatever the number of ranges."""
    days = [f for f, t in ranges if f == t]
    months = [f for f, t in ranges if f != t and _one_month(f, t)]
    other = [(f, t) for f, t in ranges if f != t and not _one_month(f, t)]
    by_day: dict[dt.date, dict] = defaultdict(dict)
    days, months = sorted(set(days)), sorted(set(months))
    for aid, day, n in prepared_rows(_day_buyers, shop_id=shop.id, days=days) if days else ():
        by_day[day][aid] = n
    totals = {(period, start): n for period, start, n in prepared_rows(
        _shop_buyers, shop_id=shop.id, days=days, months=months)} if days or months else {}
    per_agent, counted_total = {}, {}
    if other:
        bounds = {"lo": [f for f, _t in other], "hi": [t + ONE_DAY for _f, t in other]}
        for row in prepared_dicts(_distinct_buyers, static={"per_agent": True}, shop_id=shop.id, **bounds):
            for i, r in enumerate(other):
                per_agent.setdefault(r, {})[row["agent_id"]] = row[f"n{i}"]
        total = next(iter(prepared_dicts(_distinct_buyers, static={"per_agent": False}, shop_id=shop.id, **bounds)), {})
        counted_total = {r: total.get(f"n{i}", 0) for i, r in enumerate(other)}
    out = []
    for f, t in ranges:
        if f == t:
            out.append((by_day.get(f, {}), totals.get((ShopPeriod.DAY, f), 0)))
        elif _one_month(f, t):
            out.append(({aid: row[0] for aid, row in month_rows.get(f, {}).items() if row[0] > 0},
                        totals.get((ShopPeriod.MONTH, f), 0)))
        else:
            out.append((per_agent.get((f, t), {}), counted_total.get((f, t)) or 0))
    return out


def _month_medians(*, shop_id: int, months: list[dt.date]):
    return AgentMonth.objects.filter(shop_id=shop_id, month__in=months).values_list(
        "agent_id", "month", "paying_buyers", *F.MEDIANS)


def _month_rows(shop: Shop, months: set[dt.date]) -> dict[dt.date, dict[int, tuple]]:
    """month → agent → (paying buyers, {median name: stored median}) of the AgentMonth rows."""
    out: dict[dt.date, dict[int, tuple]] = defaultdict(dict)
    for aid, month, paying, *medians in prepared_rows(_month_medians, shop_id=shop.id,
                                                      months=sorted(months)) if months else ():
        out[month][aid] = (paying, dict(zip(F.MEDIANS, medians, strict=True)))
    return out


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


def _agent_names(*, shop_id: int, ids: list[int]):
    return Agent.objects.filter(shop_id=shop_id, id__in=ids).values_list("id", "name", "group")


def kpi_report(
    *, shop: Shop, date_from: dt.date, date_to: dt.date, by: str = "agent", agent_ids=None
) -> dict:
    """The report of issue 2's JSON shape. `by` = agent | group | shop.

    `lag_seconds`: how old the oldest change not yet in these figures is (0 = current; ADR 0004)."""
    return kpi_reports(shop=shop, ranges=[(date_from, date_to)], by=by, agent_ids=agent_ids)[0]


def kpi_reports(*, shop: Shop, ranges, by: str = "agent", agent_ids=None) -> list[dict]:
    """kpi_report of each (date_from, date_to) of `ranges`, in order, read together: the roll-up
    sums, every figure set, the agents' names, histograms and silent orders take one query for all
    ranges (a dashboard shows today, the period and the previous period); each report is what
    kpi_report gives for its range alone."""
    if by not in ("agent", "group", "shop"):
        raise ValueError("by must be agent, group or shop")
    ranges = [(date_from, date_to) for date_from, date_to in ranges]
    sums_per = _collect(shop, ranges, agent_ids)
    extras = [(fs, fs.sums(shop=shop, ranges=ranges, agent_ids=agent_ids)) for fs in figure_sets()]
    for i, sums in enumerate(sums_per):
        for _fs, per_range in extras:  # an agent with only (say) 催付 results still gets a row
            for aid in per_range[i]:
                sums.setdefault(aid, _empty_sums())
    # Name and group only: a thousand model instances cost more than the report's sums.
    agents = {i: _AgentRow(name, group) for i, name, group in prepared_rows(
        _agent_names, shop_id=shop.id, ids=sorted({aid for sums in sums_per for aid in sums}))}
    # Team medians of a whole calendar month come from the group rows; other ranges merge histograms.
    team_months = [_one_month(*r) if agent_ids is None else None for r in ranges]
    merge = [i for i, month in enumerate(team_months) if month is None]
    hists = dict(zip(merge, _agent_hists(shop, [ranges[i] for i in merge], agent_ids), strict=True))
    silent = sums_per_range(_shop_days, args={"shop_id": shop.id}, key="shop_id", ranges=ranges, field="start",
                            aggregates=_SILENT_SUMS)
    month_rows = _month_rows(shop, {m for m in (_one_month(*r) for r in ranges) if m is not None})
    buyers = _paying_buyers(shop, ranges, month_rows)
    lag = facts_lag(shop=shop)
    return [
        _report(shop, r, by, agent_ids, sums=sums_per[i], extra=[(fs, per_range[i]) for fs, per_range in extras],
                agents=agents, buyers=buyers[i], hists=hists.get(i), month_rows=month_rows, team_month=team_months[i],
                silent=silent[i].get(shop.id, {"n": None, "amount": None}), lag=lag)
        for i, r in enumerate(ranges)
    ]


def _report(shop: Shop, day_range: DayRange, by: str, agent_ids, *, sums: dict, extra: list, agents: dict,
            buyers: tuple[dict, int], hists: dict | None, month_rows: dict, team_month: dt.date | None,
            silent: dict, lag: float) -> dict:
    """One range's report from the sums read for all ranges (kpi_reports)."""
    date_from, date_to = day_range

    def extra_figures(ids) -> dict:
        out = {}
        for fs, per_agent in extra:
            merged_sums: dict = {}
            for i in ids:
                _add_sums(merged_sums, per_agent.get(i, {}))
            out.update(fs.figures(merged_sums))
        return out
    buyers_by_agent, all_buyers = buyers

    # Medians. One calendar month reads each agent's stored medians and, for the whole team, the
    # group rows (a few histograms however many agents); other ranges merge the agents' histograms.
    month = _one_month(date_from, date_to)
    team = _group_month_hists(shop, team_month) if team_month is not None else None
    if month is not None:
        agent_medians = {aid: medians for aid, (_paying, medians) in month_rows.get(month, {}).items()}
    else:
        agent_medians = {aid: _medians(h) for aid, h in hists.items()}

    def merged(ids, group: str | None = None) -> tuple[dict, dict]:
        """Summed figures and merged histograms of these agents (`group`: all of that group's)."""
        s = _empty_sums()
        for i in ids:
            for k, v in sums[i].items():
                s[k] += v
        h = {name: {} for name in F.MEDIAN_HISTS}
        parts = ([team[group]] if group is not None else list(team.values())) if team is not None else \
            [hists.get(i, {}) for i in ids]
        for part in parts:
            for name in F.MEDIAN_HISTS:
                F.hist_add(h[name], part.get(name, {}))
        return s, _medians(h)

    rows = []
    if by == "agent":
        for aid in sums:
            a = agents[aid]
            rows.append(
                {"agent": a.name, "agent_id": aid, "group": a.group,
                 **_figures(sums[aid], agent_medians.get(aid, NO_MEDIANS), buyers_by_agent.get(aid, 0)),
                 **extra_figures([aid])}
            )
        _score(rows, shop.score_weights or {})
        rows.sort(key=lambda r: (GROUP_ORDER.get(r["group"], len(GROUP_ORDER)), r["group"], r["rank"], r["agent"]))
    elif by == "group":
        groups: dict[str, list[int]] = defaultdict(list)
        for aid in sums:
            groups[agents[aid].group].append(aid)
        group_buyers = dict(
            OrderCredit.objects.filter(shop=shop, pay_day__gte=date_from, pay_day__lte=date_to, agent__isnull=False)
            .values("agent__group")
            .annotate(n=Count("customer", distinct=True))
            .values_list("agent__group", "n")
        )
        for g, ids in sorted(groups.items()):
            s, m = merged(ids, g)
            rows.append({"group": g, **_figures(s, m, group_buyers.get(g, 0)), **extra_figures(ids)})

    s, m = merged(list(sums))
    totals = {**_figures(s, m, all_buyers or 0), **extra_figures(list(sums))}
    totals["silent_orders"] = silent["n"] or 0
    totals["silent_sales"] = money(silent["amount"])
    key = {"agent": "agents", "group": "groups", "shop": "shops"}[by]
    if by == "shop":
        rows = [{"shop": shop.code, **totals}]
    return {"shop": shop.code, "from": date_from.isoformat(), "to": date_to.isoformat(), key: rows,
            "shop_totals": totals, "lag_seconds": lag}


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


def _daily_rollup(*, with_team: bool, shop_id: int, first: dt.date, last: dt.date, agent_ids: list[int] | None):
    """Per day: the roll-up sums of the agents (a_…; all when agent_ids is None) and, with_team, the
    team's (t_…) and the number of agents who received anyone (active)."""
    days = AgentDay.objects.filter(shop_id=shop_id, day__gte=first, day__lte=last).order_by()
    if agent_ids is None:
        sums = {f"a_{f}": Sum(f) for f in F.SCALARS}
    elif with_team:
        sums = {f"a_{f}": Sum(f, filter=Q(agent_id__in=agent_ids)) for f in F.SCALARS}
    else:
        days = days.filter(agent_id__in=agent_ids)
        sums = {f"a_{f}": Sum(f) for f in F.SCALARS}
    if with_team:
        sums |= {f"t_{f}": Sum(f) for f in F.SCALARS} | {"active": Count("id", filter=Q(receptions__gt=0))}
    return days.values("day").annotate(**sums)


def _daily_buyers(*, with_team: bool, shop_id: int, first: dt.date, last: dt.date, agent_ids: list[int] | None):
    """Per payment day: distinct paying buyers of the agents (a; all when None) and of the team (t)."""
    credits = OrderCredit.objects.filter(shop_id=shop_id, pay_day__gte=first, pay_day__lte=last,
                                         agent__isnull=False).order_by()
    if agent_ids is None:
        counts = {"a": Count("customer", distinct=True)}
    elif with_team:
        counts = {"a": Count("customer", distinct=True, filter=Q(agent_id__in=agent_ids))}
    else:
        credits = credits.filter(agent_id__in=agent_ids)
        counts = {"a": Count("customer", distinct=True)}
    if with_team:
        counts["t"] = Count("customer", distinct=True)
    return credits.values("pay_day").annotate(**counts)


def _daily_series(sums: dict, buyers: dict, date_from: dt.date, date_to: dt.date) -> list[dict]:
    out = []
    d = date_from
    while d <= date_to:
        figures = _figures(sums.get(d, _empty_sums()), NO_MEDIANS, buyers.get(d, 0))
        out.append({"day": d.isoformat(), **{k: v for k, v in figures.items() if not k.endswith("_median")}})
        d += dt.timedelta(days=1)
    return out


def kpi_daily_with_team(*, shop: Shop, date_from: dt.date, date_to: dt.date, agent_ids=None,
                        with_team: bool = True) -> tuple[list[dict], list[dict] | None, dict[dt.date, int] | None]:
    """Trend: the report's figures per shop day for the given agents (all when None) and, with_team,
    the whole team's and the agents active each day (who received anyone) — read together, two
    queries (an agent's page draws the agent against the team)."""
    args = {"shop_id": shop.id, "first": date_from, "last": date_to, "agent_ids": ids_arg(agent_ids)}
    static = {"with_team": with_team}
    sums: dict[str, dict] = {"a": {}, "t": {}}
    active = {}
    for row in prepared_dicts(_daily_rollup, static=static, **args):
        for series in ("a", "t") if with_team else ("a",):
            sums[series][row["day"]] = {f: row[f"{series}_{f}"] or 0 for f in F.SCALARS}
        if with_team:
            active[row["day"]] = row["active"]
    buyers: dict[str, dict] = {"a": {}, "t": {}}
    for row in prepared_dicts(_daily_buyers, static=static, **args):
        for series in ("a", "t") if with_team else ("a",):
            buyers[series][row["pay_day"]] = row[series]
    mine = _daily_series(sums["a"], buyers["a"], date_from, date_to)
    if not with_team:
        return mine, None, None
    return mine, _daily_series(sums["t"], buyers["t"], date_from, date_to), active


def kpi_daily(*, shop: Shop, date_from: dt.date, date_to: dt.date, agent_ids=None) -> list[dict]:
    """Trend: the report's figures per shop day (for the team, or for the given agents)."""
    return kpi_daily_with_team(shop=shop, date_from=date_from, date_to=date_to, agent_ids=agent_ids,
                               with_team=False)[0]


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
