"""KPI-3: 好评数 beside 中评 and 差评 in the KPI report, per agent (the review's credited agent) and for
groups and the shop, equal to a plain loop over the raw review rows."""

import datetime as dt
import random

import pytest

from kefu.complaints.models import Review
from kefu.complaints.reviews import reviews_clean, reviews_ingest
from kefu.metrics.kpi import kpi_report
from tests.web.data import agent, chat, order

pytestmark = pytest.mark.django_db
D1, D2 = dt.date(2025, 11, 10), dt.date(2025, 11, 12)


def test_good_medium_and_bad_reviews_per_agent_equal_a_plain_count(shop):
    rng = random.Random(7)
    people = [agent(shop, "小美"), agent(shop, "阿强"), agent(shop, "丽丽")]
    rows = []
    for i in range(40):
        who = rng.choice(people)
        day = D1 + dt.timedelta(days=rng.randint(0, 2))
        chat(shop, agent=who, buyer=f"b{i}", day=day, hour=9)
        order(shop, order_id=f"o{i}", buyer=f"b{i}", day=day, hour=10)
        if rng.random() < 0.85:  # some orders are never reviewed
            when = dt.datetime.combine(day + dt.timedelta(days=rng.randint(0, 3)), dt.time(20), tzinfo=shop.tz)
            rows.append({"review_id": f"r{i}", "buyer_id": f"b{i}", "order_id": f"o{i}",
                         "rating": rng.choice([1, 2, 3, 4, 5, 5, 5]), "created_at": when.isoformat()})
    rows.append({"review_id": "silent", "buyer_id": "nobody", "rating": 5, "created_at": f"{D1}T12:00:00"})
    reviews_ingest(shop=shop, rows=reviews_clean(rows, tz=shop.tz))
    report = kpi_report(shop=shop, date_from=D1, date_to=D2, by="agent")
    start = dt.datetime.combine(D1, dt.time(0), tzinfo=shop.tz)
    end = dt.datetime.combine(D2 + dt.timedelta(days=1), dt.time(0), tzinfo=shop.tz)
    want: dict = {}
    for r in Review.objects.filter(shop=shop):
        if r.agent_id is not None and start <= r.created_at < end:
            want.setdefault(r.agent_id, {"good": 0, "medium": 0, "bad": 0})[r.level] += 1
    assert sum(sum(v.values()) for v in want.values()) > 10
    for row in report["agents"]:
        w = want.get(row["agent_id"], {"good": 0, "medium": 0, "bad": 0})
        assert (row["good_reviews"], row["medium_reviews"], row["bad_reviews"]) == (w["good"], w["medium"], w["bad"])
    totals = report["shop_totals"]
    for level in ("good", "medium", "bad"):
        assert totals[f"{level}_reviews"] == sum(v[level] for v in want.values())
    assert "good_reviews" in kpi_report(shop=shop, date_from=D1, date_to=D2, by="group")["groups"][0]
