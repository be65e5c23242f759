"""Reads the pages need, role-aware. Figures come from kefu.metrics (the one KPI module);
this module only chooses whose figures a person may see and reshapes them for tables/charts."""

import datetime as dt

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import shop_day
from kefu.metrics.kpi import hourly_load, kpi_daily, kpi_daily_with_team
from kefu.metrics.periods import Period, change
from kefu.metrics.selectors import kpi_report_for_viewer, kpi_reports_for_viewer
from kefu.metrics.targets import HIGHER_IS_BETTER, target_missed
from kefu.people.selectors import agents_in_probation

TREND_DAYS = 30
TOP_BOTTOM = 3


def shop_today(shop: Shop) -> dt.date:
    return shop_day(timezone.now(), shop.tz)


def _own_ids(member: Agent) -> list[int] | None:
    """None = the whole team; an agent sees only their own trend and load."""
    return None if sees_whole_shop(member) else [member.id]


def dashboard_today(*, shop: Shop, member: Agent, report: dict | None = None) -> dict:
    """Today's live figures per agent (an agent: own row only). `report`: today's
    kpi_report_for_viewer when the page has read it already (with its other ranges)."""
    today = shop_today(shop)
    if report is None:
        report = kpi_report_for_viewer(shop=shop, member=member, date_from=today, date_to=today)
    rows = [r for r in report["agents"] if "receptions" in r]
    return {"day": today, "rows": rows, "totals": report["shop_totals"], "lag": report["lag_seconds"]}


# The ranking's columns per group: after-sales agents take returns, not sales (issue 12: never rank
# them on conversion), so their table shows service figures instead.
RANKING_COLUMNS_BY_GROUP = {
    "presales": ("rank", "agent", "score", "receptions", "reply_rate", "response_seconds",
                 "response_seconds_median", "inquiries", "conversion_rate", "sales", "avg_order_value",
                 "refund_rate"),
    "aftersales": ("rank", "agent", "score", "receptions", "reply_rate", "first_response_seconds",
                   "response_seconds", "response_seconds_median", "slow_turns", "unanswered_turns"),
}
RANKING_COLUMNS_OTHER = RANKING_COLUMNS_BY_GROUP["presales"]


def ranking(*, shop: Shop, member: Agent, date_from: dt.date, date_to: dt.date, report: dict | None = None,
            previous: dict | None = None) -> dict:
    """KPI-4: the whole team's ranking (001 publishes the bottom too), one table per group, each
    ranked on its own; others' figures hidden from agents by kpi_report_for_viewer. With the
    previous period's report (`previous`) each row carries its 环比 per figure (`changes`),
    the rank's included (places gained within the group)."""
    from kefu.core.enums import Group

    if report is None:
        report = kpi_report_for_viewer(shop=shop, member=member, date_from=date_from, date_to=date_to)
    rows = report["agents"]
    if previous is not None:
        before = {r["agent_id"]: r for r in previous["agents"]}
        rows = [{**r, "changes": row_changes(r, before.get(r["agent_id"]))} for r in rows]
    groups = []
    for r in rows:  # rows come group by group (kpi_report)
        if not groups or groups[-1]["group"] != r["group"]:
            label = Group(r["group"]).label if r["group"] in Group.values and r["group"] else _("未分组")
            groups.append({"group": r["group"], "label": label, "rows": [],
                           "columns": RANKING_COLUMNS_BY_GROUP.get(r["group"], RANKING_COLUMNS_OTHER)})
        groups[-1]["rows"].append(r)
    for g in groups:
        g_rows = g["rows"]
        # Top and bottom never overlap: with few agents each side gets half of them.
        k = min(TOP_BOTTOM, max(1, len(g_rows) // 2))
        g["top"] = g_rows[:k]
        g["bottom"] = g_rows[-k:][::-1] if len(g_rows) > 1 else []
    return {"rows": rows, "groups": groups, "totals": report["shop_totals"], "date_from": date_from,
            "date_to": date_to, "probation": agents_in_probation(shop=shop, day=date_to)}


def figure_change(key: str, value, previous) -> dict | None:
    """环比 of one figure as the pages show it: kefu.metrics.periods.change plus its tone — a rise
    is good, bad, or neither (receptions), by the figure's direction."""
    delta = change(value, previous, kind=KIND.get(key, "number"))
    if delta is None:
        return None
    good = HIGHER_IS_BETTER.get(key)
    tone = None if delta["delta"] == 0 or good is None else ("good" if (delta["delta"] > 0) == good else "bad")
    return {**delta, "tone": tone}


def row_changes(row: dict, before: dict | None) -> dict:
    """A ranking row's 环比 per figure against the same agent's row of the previous period; the
    rank's as places gained (a rank is compared within the same group only)."""
    if before is None:
        return {}
    out = {k: c for k in row if k in CHANGE_KEYS and k in before
           and (c := figure_change(k, row[k], before[k])) is not None}
    if row.get("rank") and before.get("rank") and row.get("group") == before.get("group"):
        gained = before["rank"] - row["rank"]
        out["rank"] = {"delta": gained, "unit": "places", "tone": None if gained == 0 else
                       ("good" if gained > 0 else "bad")}
    return out


def report_has_data(report: dict, member: Agent) -> bool:
    """Whether a period holds anything to show: for the shop, any agent's figures or a silent
    order; for an agent, their own row. An imported shop whose data ends in 2020 has none today."""
    if report["shop_totals"] is None:
        return any(r.get("agent_id") == member.id and "receptions" in r for r in report["agents"])
    return bool(report["agents"]) or bool(report["shop_totals"].get("silent_orders"))


def latest_data_day(*, shop: Shop, agent: Agent | None = None) -> dt.date | None:
    """The last shop day with figures (the shop's, or one agent's), for the empty range's hint."""
    from django.db.models import Max, Q

    from kefu.metrics.models import AgentDay, ShopPeriod

    days = AgentDay.objects.filter(shop=shop).filter(Q(receptions__gt=0) | Q(orders__gt=0) | Q(inquiries__gt=0))
    if agent is not None:
        return days.filter(agent=agent).aggregate(d=Max("day"))["d"]
    last = days.aggregate(d=Max("day"))["d"]
    silent = (ShopPeriod.objects.filter(shop=shop, period=ShopPeriod.DAY, silent_orders__gt=0)
              .aggregate(d=Max("start"))["d"])
    return max((d for d in (last, silent) if d is not None), default=None)


# The dashboard's overview cards: figure and, for response times, the median shown beside the mean.
SUMMARY_KEYS = ("receptions", "reply_rate", "first_response_seconds", "response_seconds", "inquiries",
                "conversion_rate", "orders", "sales", "avg_order_value", "refund_rate")
SUMMARY_MEDIANS = {"first_response_seconds": "first_response_seconds_median",
                   "response_seconds": "response_seconds_median"}
KIND = {"reply_rate": "rate", "conversion_rate": "rate", "refund_rate": "rate"}
# Where a figure comes from: conversations (reception figures) or credited orders (sales figures).
# Figures of a ranking row that carry a 环比 (everything the ranking tables show, beyond names).
# The score is relative to the group's best of its own period: its change says little (the rank's does).
CHANGE_KEYS = {c for cols in RANKING_COLUMNS_BY_GROUP.values() for c in cols} - {"rank", "agent", "score"}
CONVERSATION_FIGURES = {"receptions", "reply_rate", "first_response_seconds", "response_seconds", "inquiries",
                        "conversion_rate"}


def _figures_of(report: dict, member: Agent) -> dict | None:
    if report["shop_totals"] is not None:
        return report["shop_totals"]
    return next((r for r in report["agents"] if r.get("agent_id") == member.id and "receptions" in r), None)


def period_figures(*, shop: Shop, member: Agent, date_from: dt.date, date_to: dt.date) -> dict | None:
    """The range's figures as the overview shows them: the shop's, or an agent's own."""
    return _figures_of(kpi_report_for_viewer(shop=shop, member=member, date_from=date_from, date_to=date_to), member)


def summary(*, shop: Shop, member: Agent, period: Period, report: dict, previous: dict) -> dict:
    """The overview: each figure of the period (the shop's; an agent's own), its 环比 against the
    previous period, whether it misses the shop's target, and the link to the rows behind it.
    `report`/`previous`: kpi_report_for_viewer of the period and of the one it is compared with."""
    cur = _figures_of(report, member) or {}
    prev = _figures_of(previous, member) or {}
    targets = shop.kpi_targets or {}
    whole = sees_whole_shop(member)
    cards = []
    for key in SUMMARY_KEYS:
        value = cur.get(key)
        delta = figure_change(key, value, prev.get(key))
        cards.append({
            "key": key, "value": value, "previous": prev.get(key), "change": delta,
            "tone": delta["tone"] if delta else None,
            "median_key": SUMMARY_MEDIANS.get(key), "median": cur.get(SUMMARY_MEDIANS.get(key, ""), None),
            "target": targets.get(key), "missed": target_missed(key, value, targets),
            "href": drill_url(key, period=period, agent_id=None if whole else member.id),
        })
    return {"cards": cards, "has_data": report_has_data(report, member)}


def drill_url(key: str, *, period: Period, agent_id: int | None) -> str:
    """The list behind a figure: the conversations of the period, or the credited orders."""
    from urllib.parse import urlencode

    from .nav import url_of

    if key in CONVERSATION_FIGURES:
        q = {"from": period.date_from.isoformat(), "to": period.date_to.isoformat()}
        url = url_of("web:conversations")
    else:
        q = {"pay_from": period.date_from.isoformat(), "pay_to": period.date_to.isoformat()}
        url = url_of("orders:list")
    if agent_id is not None:
        q["agent"] = agent_id
    return f"{url}?{urlencode(q)}"


def team_average(days: list[dict], active: dict[dt.date, int]) -> list[dict]:
    """Per day: the team's figures (`days`, kefu.metrics.kpi.kpi_daily_with_team) with counts and
    money divided by the agents who worked that day (`active`: an average agent), rates as the
    team's — for the agent-versus-team chart."""
    out = []
    for d in days:
        n = active.get(dt.date.fromisoformat(d["day"]), 0)
        out.append({**d, "receptions": round(d["receptions"] / n, 1) if n else None,
                    "sales": str(round(float(d["sales"]) / n, 2)) if n else None})
    return out


def agent_and_team_trend(*, shop: Shop, agent: Agent, date_from: dt.date, date_to: dt.date) -> tuple[list, list]:
    """The agent's daily figures and the team's average agent, read together."""
    mine, team, active = kpi_daily_with_team(shop=shop, date_from=date_from, date_to=date_to, agent_ids=[agent.id])
    return mine, team_average(team, active)


def trend(*, shop: Shop, member: Agent, date_from: dt.date, date_to: dt.date,
          agent_ids: list[int] | None = None) -> list[dict]:
    return kpi_daily(shop=shop, date_from=date_from, date_to=date_to,
                     agent_ids=agent_ids if agent_ids is not None else _own_ids(member))


# Longer ranges show the heat map by weekday × hour (a row per day stops being readable).
HEATMAP_MAX_DAYS = 31


def load(*, shop: Shop, member: Agent, date_from: dt.date, date_to: dt.date, weekdays: list[str] | None = None) -> dict:
    grid = hourly_load(shop=shop, date_from=date_from, date_to=date_to, agent_ids=_own_ids(member))
    if len(grid["days"]) <= HEATMAP_MAX_DAYS or weekdays is None:
        return {**grid, "by": "day"}
    rows = [[0] * 24 for _ in range(7)]
    for day, hours in zip(grid["days"], grid["receptions"], strict=True):
        wd = dt.date.fromisoformat(day).weekday()
        rows[wd] = [a + b for a, b in zip(rows[wd], hours, strict=True)]
    return {"days": list(weekdays), "hours": grid["hours"], "receptions": rows, "by": "weekday"}


def trend_chart(days: list[dict]) -> dict:
    """The four trend series of the dashboard, as plain JSON for the chart script."""
    return {
        "days": [d["day"] for d in days],
        "receptions": [d["receptions"] for d in days],
        "reply_rate": [None if d["reply_rate"] is None else round(d["reply_rate"] * 100, 2) for d in days],
        "conversion_rate": [None if d["conversion_rate"] is None else round(d["conversion_rate"] * 100, 2)
                            for d in days],
        "sales": [None if d["sales"] is None else float(d["sales"]) for d in days],
        "response_seconds": [d["response_seconds"] for d in days],
    }


def agent_get_for_viewer(*, shop: Shop, member: Agent, id: int) -> Agent:
    """An agent of this shop the person may look at: themselves, or anyone for shop-wide roles."""
    if not sees_whole_shop(member) and id != member.id:
        raise Http404("agent")
    if id == member.id and member.shop_id == shop.id:  # one's own page: the person is loaded already
        return member
    agent = Agent.objects.filter(shop=shop, id=id).first()
    if agent is None:
        raise Http404("agent")
    return agent


def agent_figures(*, shop: Shop, member: Agent, agent: Agent, ranges) -> list[dict | None]:
    """The agent's row of the report for each (from, to) range, read together. Rank and score are
    the group's (each group is ranked on its own), so the report reads the agent's group only."""
    group = list(Agent.objects.filter(shop=shop, group=agent.group).values_list("id", flat=True))
    reports = kpi_reports_for_viewer(shop=shop, member=member, ranges=ranges, agent_ids=group)
    return [next((r for r in report["agents"] if r["agent_id"] == agent.id), None) for report in reports]


def agents_for_filter(*, shop: Shop, member: Agent) -> list[Agent]:
    """Agents a person may filter by (shop-wide roles only; an agent sees only their own)."""
    if not sees_whole_shop(member):
        return []
    return list(Agent.objects.filter(shop=shop).only("id", "name").order_by("name"))


def shops_of_user(user) -> list[tuple[int, str]]:
    """(shop id, name) of every shop the person works in (for the shop switcher)."""
    if not user.is_authenticated:
        return []
    return list(
        Agent.objects.filter(user=user, active=True, shop__archived_at__isnull=True)
        .order_by("shop__code")
        .values_list("shop_id", "shop__name")
    )


def user_works_in(user, shop_id: int) -> bool:
    return Agent.objects.filter(user=user, shop_id=shop_id, active=True, shop__archived_at__isnull=True).exists()
