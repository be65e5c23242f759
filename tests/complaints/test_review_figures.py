"""KPI-3: 好评数 beside 中评 and 差评 in the KPI report, per agent (the review's credited agent) and for
groups and the shop, equal to a plain loop over the raw review rows."""

import datetime as dt
import random

import pytest

from kefu.complaints.reviews import reviews_clean, reviews_ingest
from kefu.metrics.kpi import kpi_report
from tests.web.data import agent, chat, order

pytestmark = pytest.mark.django_db
D1, D2 = dt.date(2025, 11, 10), dt.date(2025, 11, 12)


def level(rating: int) -> str:
    """The platform's reading of a star rating (independent of kefu.complaints.reviews.level_of)."""
    return {1: "bad", 2: "bad", 3: "medium", 4: "good", 5: "good"}[rating]


def test_good_medium_and_bad_reviews_per_agent_equal_a_plain_count(shop):
    """The expected counts come from the generated input alone: who chatted with the buyer before
    the order (the credited agent), the star rating and the review's shop day."""
    rng = random.Random(7)
    people = [agent(shop, "小美"), agent(shop, "阿强"), agent(shop, "丽丽")]
    rows, served = [], {}
    for i in range(40):
        who = rng.choice(people)
        day = D1 + dt.timedelta(days=rng.randint(0, 2))
        chat(shop, agent=who, buyer=f"b{i}", day=day, hour=9)
        order(shop, order_id=f"o{i}", buyer=f"b{i}", day=day, hour=10)
        served[f"b{i}"] = who.pk
        if rng.random() < 0.85:  # some orders are never reviewed
            when = dt.datetime.combine(day + dt.timedelta(days=rng.randint(0, 3)), dt.time(20), tzinfo=shop.tz)
            rows.append({"review_id": f"r{i}", "buyer_id": f"b{i}", "order_id": f"o{i}",
                         "rating": rng.choice([1, 2, 3, 4, 5, 5, 5]), "created_at": when.isoformat()})
    rows.append({"review_id": "silent", "buyer_id": "nobody", "rating": 5, "created_at": f"{D1}T12:00:00"})
    reviews_ingest(shop=shop, rows=reviews_clean(rows, tz=shop.tz))
    report = kpi_report(shop=shop, date_from=D1, date_to=D2, by="agent")
    want: dict = {}
    for r in rows:
        day = dt.datetime.fromisoformat(r["created_at"]).date()
        if r["buyer_id"] in served and D1 <= day <= D2:
            want.setdefault(served[r["buyer_id"]], {"good": 0, "medium": 0, "bad": 0})[level(r["rating"])] += 1
    assert all(sum(v.values()) > 0 for v in want.values()) and sum(v["good"] for v in want.values()) > 5
    assert sum(v["medium"] + v["bad"] for v in want.values()) > 3
    assert {row["agent_id"] for row in report["agents"]} >= set(want)
    for row in report["agents"]:
        w = want.get(row["agent_id"], {"good": 0, "medium": 0, "bad": 0})
        assert (row["good_reviews"], row["medium_reviews"], row["bad_reviews"]) == (w["good"], w["medium"], w["bad"])
    totals = report["shop_totals"]
    for lv in ("good", "medium", "bad"):
        assert totals[f"{lv}_reviews"] == sum(v[lv] for v in want.values())
    assert "good_reviews" in kpi_report(shop=shop, date_from=D1, date_to=D2, by="group")["groups"][0]
