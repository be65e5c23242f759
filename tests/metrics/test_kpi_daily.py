"""kpi_daily_with_team — an agent's daily figures and the team's, read together for the agent's
page — against each day's report (kpi_report of that single day: the roll-up read by another
route, paying buyers from the day roll-up) and plain loops over the roll-up and credit rows."""

import datetime as dt
from collections import defaultdict

from kefu.core.models import Agent
from kefu.metrics.kpi import kpi_daily, kpi_daily_with_team, kpi_report
from kefu.metrics.models import AgentDay, OrderCredit

from .test_kpi_ranges import demo  # noqa: F401  (the fixture)

COMPARED = ("receptions", "replied_receptions", "reply_rate", "first_response_seconds", "response_seconds",
            "answered_turns", "unanswered_turns", "slow_turns", "inquiries", "inquiries_paid", "conversion_rate",
            "orders", "sales", "net_sales", "paying_buyers", "avg_order_value", "refunds", "refund_rate")
SUMMED = ("receptions", "replied_receptions", "answered_turns", "unanswered_turns", "slow_turns", "inquiries",
          "inquiries_paid", "orders")


def test_agent_and_team_series_against_each_days_report(demo):  # noqa: F811
    shop, first, last = demo
    date_from, date_to = first - dt.timedelta(days=1), last
    agents = list(Agent.objects.filter(shop=shop, agentday__receptions__gt=0).distinct().order_by("id"))
    busy = max(agents, key=lambda a: AgentDay.objects.filter(agent=a).count())
    mine, team, active = kpi_daily_with_team(shop=shop, date_from=date_from, date_to=date_to, agent_ids=[busy.id])
    assert mine == kpi_daily(shop=shop, date_from=date_from, date_to=date_to, agent_ids=[busy.id])
    assert team == kpi_daily(shop=shop, date_from=date_from, date_to=date_to)
    want_active = defaultdict(int)
    for day in AgentDay.objects.filter(shop=shop, receptions__gt=0).values_list("day", flat=True):
        want_active[day] += 1
    assert {d: n for d, n in active.items() if n} == dict(want_active)
    buyers = defaultdict(set)
    for day, customer in OrderCredit.objects.filter(shop=shop, agent__isnull=False).values_list("pay_day", "customer"):
        buyers[day].add(customer)
    days_with_rows = 0
    for m, t in zip(mine, team, strict=True):
        day = dt.date.fromisoformat(m["day"])
        report = kpi_report(shop=shop, date_from=day, date_to=day)
        row = next((r for r in report["agents"] if r["agent_id"] == busy.id), None)
        if row is None:
            assert m["receptions"] == 0 and m["orders"] == 0
        else:
            days_with_rows += 1
            assert {k: m[k] for k in COMPARED} == {k: row[k] for k in COMPARED}, day
        for k in SUMMED:
            assert t[k] == sum(r[k] for r in report["agents"]), (day, k)
        assert t["sales"] == report["shop_totals"]["sales"]
        assert t["paying_buyers"] == len(buyers.get(day, ()))
    assert days_with_rows >= 10
    assert mine[0]["receptions"] == 0 and team[0]["receptions"] == 0  # the day before the data
