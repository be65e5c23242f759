"""kpi_reports — several date ranges read together (the dashboard's today, period and previous
period) — against kpi_report of each range alone, and each figure set's sums for several ranges
against its sums for each range alone: on the demo shop (every figure set has rows), over
generated ranges (overlapping, nested, whole months, empty), groupings, agent subsets and the
shop's time zone (which moves the day boundaries of the figure sets counted by a moment)."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.core.models import Agent
from kefu.metrics.kpi import figure_sets, kpi_report, kpi_reports
from kefu.metrics.models import AgentDay
from kefu.metrics.queue import facts_lag
from kefu.sla.models import SlaAgentDay
from kefu.sla.rollup import mark, refresh

ZONES = ["Asia/Shanghai", "UTC", "America/Los_Angeles", "Pacific/Kiritimati", "Asia/Kathmandu", "Pacific/Pago_Pago"]
DAYS = 36  # the demo crosses a month boundary: whole-month ranges read the month rows


@pytest.fixture
def demo(db):
    from kefu.demo.services import demo_load

    shop = demo_load(code="kr", seed=11, days=DAYS, scale=0.02).shop
    # An SLA day still marked dirty: the SLA figures count it raw, the others from the roll-up.
    day = SlaAgentDay.objects.filter(shop=shop).order_by("-hit").values_list("day", flat=True).first()
    if day is not None:
        mark(shop.id, [dt.datetime.combine(day, dt.time(12), tzinfo=shop.tz)])
    assert facts_lag(shop=shop) == 0
    days = list(AgentDay.objects.filter(shop=shop).order_by("day").values_list("day", flat=True).distinct())
    return shop, days[0], days[-1]


def _month(d: dt.date, shift: int = 0) -> tuple[dt.date, dt.date]:
    first = d.replace(day=1)
    for _ in range(abs(shift)):
        first = (first - dt.timedelta(days=1)).replace(day=1) if shift < 0 else \
            (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


@st.composite
def day_ranges(draw, first: dt.date, last: dt.date):
    span = (last - first).days

    def one():
        kind = draw(st.sampled_from(["days", "day", "month"]))
        if kind == "month":
            return _month(draw(st.sampled_from([first, last])), draw(st.integers(-1, 1)))
        a = first + dt.timedelta(days=draw(st.integers(-3, span + 3)))
        if kind == "day":
            return a, a
        return a, a + dt.timedelta(days=draw(st.integers(0, span)))
    return [one() for _ in range(draw(st.integers(1, 4)))]


def _without_lag(reports: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "lag_seconds"} for r in reports]


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_reports_of_several_ranges_equal_each_range_alone(demo, data):
    shop, first, last = demo
    shop.timezone = data.draw(st.sampled_from(ZONES), label="zone")
    ranges = data.draw(day_ranges(first, last), label="ranges")
    by = data.draw(st.sampled_from(["agent", "group", "shop"]), label="by")
    ids = sorted(Agent.objects.filter(shop=shop).values_list("id", flat=True))
    agent_ids = data.draw(st.none() | st.lists(st.sampled_from(ids), min_size=1, unique=True), label="agent_ids")

    together = kpi_reports(shop=shop, ranges=ranges, by=by, agent_ids=agent_ids)
    alone = [kpi_report(shop=shop, date_from=f, date_to=t, by=by, agent_ids=agent_ids) for f, t in ranges]
    assert _without_lag(together) == _without_lag(alone)
    for fs in figure_sets():
        assert fs.sums(shop=shop, ranges=ranges, agent_ids=agent_ids) == \
            [fs.sums(shop=shop, ranges=[r], agent_ids=agent_ids)[0] for r in ranges]


@pytest.mark.django_db
def test_rows_to_compare_and_one_query_per_figure_set_for_all_ranges(demo):
    """The generated comparison above is not between empty reports: the demo's period has rows in
    the roll-up and in every figure set. And reading more ranges together adds no query: every sum
    (roll-up and figure sets) is one query for all of them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    shop, first, last = demo
    [report] = kpi_reports(shop=shop, ranges=[(first, last)])
    assert len(report["agents"]) > 3
    for fs in figure_sets():
        assert fs.sums(shop=shop, ranges=[(first, last)])[0], fs.fields

    def queries(ranges) -> int:
        with CaptureQueriesContext(connection) as ctx:
            kpi_reports(shop=shop, ranges=ranges)
        return len(ctx.captured_queries)

    refresh(shop)  # no SLA day left dirty: a dirty day's raw count is a query per run of such days

    def days(a: int, b: int) -> tuple[dt.date, dt.date]:  # never a whole month (those read month rows)
        return first + dt.timedelta(days=a), first + dt.timedelta(days=b)

    one = queries([days(1, 20)])
    assert queries([days(1, 20), days(5, 25), days(2, 9), days(30, 34)]) == one
    # The dashboard's: today (a day reads its paying buyers from the roll-up: two queries more).
    assert queries([(last, last), days(10, 25), days(3, 9)]) == one + 2
