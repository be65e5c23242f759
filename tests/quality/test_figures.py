"""The QA figure set in the KPI report, recomputed from raw review rows by a separate SQL route;
group and shop rows from summed counts (never averaged means)."""

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.utils import timezone

from kefu.conversations.models import Conversation
from kefu.core.services import person_create
from kefu.core.timeutil import shop_day
from kefu.metrics.kpi import kpi_report
from kefu.quality import services

from .conftest import chat

pytestmark = pytest.mark.django_db


def _sql_means(shop_id, date_from, date_to):
    with connection.cursor() as cur:
        cur.execute("SELECT a.name, a.\"group\", r.score, r.auto_failed FROM quality_qareview r "
                    "JOIN core_agent a ON a.id = r.agent_id WHERE r.shop_id = %s AND r.calibration_of_id IS NULL "
                    "AND r.state IN ('submitted','acknowledged','appealed','decided') "
                    "AND r.submitted_day BETWEEN %s AND %s", [shop_id, date_from, date_to])
        return cur.fetchall()


def test_qa_figures_match_an_independent_recompute(shop, supervisor, supervisor2):
    rng = random.Random(10)
    agents = [person_create(shop=shop, name=f"客服{i}", roles=["agent"], platform_ids=[f"店铺:{i}"],
                            group="presales" if i < 2 else "aftersales") for i in range(4)]
    day = dt.date(2026, 11, 2)
    for i in range(24):
        a = rng.randrange(4)
        chat(shop, [(f"b{i}", f"店铺:{a}", "buyer", 0, "在吗"), (f"b{i}", f"店铺:{a}", "agent", 30, "在的")],
             day=day)
        conv = Conversation.objects.get(shop=shop, customer__buyer_id=f"b{i}")
        who = supervisor if i % 2 else supervisor2
        r = services.review_start(shop=shop, reviewer=who, conversation=conv)
        scores = [{"category_id": c.pk, "chosen": rng.randint(c.scale_min, c.scale_max)}
                  for c in services.rubric_ensure(shop)]
        services.review_save(shop=shop, review=r, reviewer=who, scores=scores, submit=i % 7 != 0)
    today = shop_day(timezone.now(), shop.tz)
    rows = _sql_means(shop.pk, today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    assert rows
    report = kpi_report(shop=shop, date_from=today - dt.timedelta(days=1), date_to=today + dt.timedelta(days=1),
                          by="agent")
    by_name = {r["agent"]: r for r in report["agents"]}
    for agent in agents:
        mine = [r for r in rows if r[0] == agent.name]
        got = by_name.get(agent.name, {})
        assert got.get("qa_reviews", 0) == len(mine)
        assert got.get("qa_auto_fails", 0) == sum(1 for r in mine if r[3])
        if mine:
            mean = (sum(Decimal(str(r[2])) for r in mine) / len(mine)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert Decimal(str(got["qa_score"])) == mean
    # group rows: means of summed scores, not means of agent means
    report = kpi_report(shop=shop, date_from=today - dt.timedelta(days=1), date_to=today + dt.timedelta(days=1),
                          by="group")
    for row in report["groups"]:
        mine = [r for r in rows if r[1] == row["group"]]
        if mine:
            mean = (sum(Decimal(str(r[2])) for r in mine) / len(mine)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert Decimal(str(row["qa_score"])) == mean and row["qa_reviews"] == len(mine)
    totals = report["shop_totals"]
    assert totals["qa_reviews"] == len(rows)
