"""Reads the pages need, role-aware. Figures come from kefu.metrics (the one KPI module);
this module only chooses whose figures a person may see and reshapes them for tables/charts."""

import datetime as dt

from django.http import Http404
from django.utils import timezone

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import shop_day
from kefu.metrics.kpi import hourly_load, kpi_daily
from kefu.metrics.selectors import kpi_report_for_viewer

TREND_DAYS = 30
TOP_BOTTOM = 3


def shop_today(shop: Shop) -> dt.date:
    return shop_day(timezone.now(), shop.tz)


def _own_ids(member: Agent) -> list[int] | None:
    """None = the whole team; an agent sees only their own trend and load."""
    return None if sees_whole_shop(member) else [member.id]


def dashboard_today(*, shop: Shop, member: Agent) -> dict:
    """Today's live figures per agent (an agent: own row only)."""
    today = shop_today(shop)
    report = kpi_report_for_viewer(shop=shop, member=member, date_from=today, date_to=today)
    rows = [r for r in report["agents"] if "receptions" in r]
    return {"day": today, "rows": rows, "totals": report["shop_totals"], "lag": report["lag_seconds"]}


def ranking(*, shop: Shop, member: Agent, date_from: dt.date, date_to: dt.date) -> dict:
    """KPI-4: the whole team's ranking (001 publishes the bottom too); others' figures hidden
    from agents by kpi_report_for_viewer."""
    report = kpi_report_for_viewer(shop=shop, member=member, date_from=date_from, date_to=date_to)
    rows = report["agents"]
    # Top and bottom never overlap: with few agents each side gets half of them.
    k = min(TOP_BOTTOM, max(1, len(rows) // 2))
    top = rows[:k]
    bottom = rows[-k:][::-1] if len(rows) > 1 else []
    return {"rows": rows, "top": top, "bottom": bottom, "totals": report["shop_totals"],
            "date_from": date_from, "date_to": date_to}


def trend(*, shop: Shop, member: Agent, date_from: dt.date, date_to: dt.date,
          agent_ids: list[int] | None = None) -> list[dict]:
    return kpi_daily(shop=shop, date_from=date_from, date_to=date_to,
                     agent_ids=agent_ids if agent_ids is not None else _own_ids(member))


def load(*, shop: Shop, member: Agent, date_from: dt.date, date_to: dt.date) -> dict:
    return hourly_load(shop=shop, date_from=date_from, date_to=date_to, agent_ids=_own_ids(member))


def trend_chart(days: list[dict]) -> dict:
    """The four trend series of the dashboard, as plain JSON for the chart script."""
    return {
        "days": [d["day"] for d in days],
        "receptions": [d["receptions"] for d in days],
        "reply_rate": [None if d["reply_rate"] is None else round(d["reply_rate"] * 100, 2) for d in days],
        "conversion_rate": [None if d["conversion_rate"] is None else round(d["conversion_rate"] * 100, 2)
                            for d in days],
        "sales": [float(d["sales"]) for d in days],
    }


def agent_get_for_viewer(*, shop: Shop, member: Agent, id: int) -> Agent:
    """An agent of this shop the person may look at: themselves, or anyone for shop-wide roles."""
    if not sees_whole_shop(member) and id != member.id:
        raise Http404("agent")
    agent = Agent.objects.filter(shop=shop, id=id).first()
    if agent is None:
        raise Http404("agent")
    return agent


def agent_figures(*, shop: Shop, member: Agent, agent: Agent, date_from: dt.date, date_to: dt.date) -> dict | None:
    """The agent's row of the team report for the range (so rank and score are the team's)."""
    report = kpi_report_for_viewer(shop=shop, member=member, date_from=date_from, date_to=date_to)
    return next((r for r in report["agents"] if r["agent_id"] == agent.id), None)


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
