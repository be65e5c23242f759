"""AUTO-3 and §12 CSAT: one invitation per replied reception (sent through the outbox), idempotent
ratings, CSAT per agent in the KPI report equal to a plain loop over the raw rows."""

import datetime as dt
import json
import random

import pytest

from kefu.complaints import ratings
from kefu.complaints.models import RatingInvitation, ServiceRating
from kefu.complaints.selectors import csat_table
from kefu.core.errors import KefuError
from kefu.metrics.kpi import FIGURE_SETS, kpi_report
from kefu.metrics.models import Reception
from kefu.outbound.models import OutboundMessage
from tests.web.data import agent, chat

pytestmark = pytest.mark.django_db
D1, D2 = dt.date(2025, 11, 10), dt.date(2025, 11, 11)


@pytest.fixture
def world(shop):
    a, b = agent(shop, "小美"), agent(shop, "阿强")
    for day in (D1, D2):
        for i in range(5):
            chat(shop, agent=a, buyer=f"a{i}", day=day, hour=9 + i, reply_after=20)
        for i in range(3):
            chat(shop, agent=b, buyer=f"b{i}", day=day, hour=9 + i, reply_after=None if i == 0 else 40)
    return a, b


def test_one_invitation_per_replied_reception(shop, world):
    a, b = world
    assert ratings.invitations_pending(shop=shop, day=D1)
    n = ratings.invitations_for_day(shop=shop, day=D1)
    replied = Reception.objects.filter(shop=shop, day=D1, replied=True).count()
    assert n == replied == 7  # 阿强's unanswered buyer is not invited
    assert not ratings.invitations_pending(shop=shop, day=D1)
    assert ratings.invitations_for_day(shop=shop, day=D1) == 0  # once per cycle
    inv = RatingInvitation.objects.filter(agent=a).first()
    assert inv.state == "sent" and inv.conversation is not None
    msg = OutboundMessage.objects.get(pk=int(inv.outbox_ref))
    assert msg.idempotency_key == f"rating-invite:{inv.pk}" and "小美" in msg.text
    assert OutboundMessage.objects.filter(idempotency_key__startswith="rating-invite:").count() == 7
    again, created = ratings.rating_invite(shop=shop, agent=a, customer=inv.customer, day=D1)
    assert again == inv and not created
    with pytest.raises(KefuError) as e:
        ratings.rating_invite(shop=shop, agent=a, customer=inv.customer, day=dt.date(2999, 1, 1))
    assert e.value.field == "day"


def test_rating_is_idempotent(shop, world):
    ratings.invitations_for_day(shop=shop, day=D1)
    inv = RatingInvitation.objects.first()
    r, created = ratings.rating_record(shop=shop, invitation_id=inv.pk, score=5, comment="很耐心")
    assert created and RatingInvitation.objects.get(pk=inv.pk).state == "rated"
    r2, created = ratings.rating_record(shop=shop, invitation_id=inv.pk, score="5", comment="很耐心")
    assert r2 == r and not created
    with pytest.raises(KefuError) as e:
        ratings.rating_record(shop=shop, invitation_id=inv.pk, score=1)
    assert e.value.code == "already_rated"
    for bad in (0, 6, "x", True, None):
        with pytest.raises(KefuError) as e:
            ratings.rating_record(shop=shop, invitation_id=inv.pk, score=bad)
        assert e.value.field == "score"
    assert ServiceRating.objects.count() == 1


def test_csat_per_agent_matches_a_plain_loop(shop, world):
    rnd = random.Random(3)
    for day in (D1, D2):
        ratings.invitations_for_day(shop=shop, day=day)
    for inv in RatingInvitation.objects.order_by("id"):
        if rnd.random() < 0.7:
            ratings.rating_record(shop=shop, invitation_id=inv.pk, score=rnd.randint(1, 5))
    # Oracle: plain loops over the raw rows.
    expect = {}
    for inv in RatingInvitation.objects.all():
        e = expect.setdefault(inv.agent_id, {"inv": 0, "rated": 0, "sat": 0})
        e["inv"] += 1
        rating = ServiceRating.objects.filter(invitation=inv).first()
        if rating is not None:
            e["rated"] += 1
            e["sat"] += rating.score >= 4
    replied = {}
    for rec in Reception.objects.filter(shop=shop):
        replied[rec.agent_id] = replied.get(rec.agent_id, 0) + rec.replied
    table = {r.agent_id: r for r in csat_table(shop=shop, date_from=D1, date_to=D2)}
    assert set(table) == set(expect)
    for aid, e in expect.items():
        row = table[aid]
        assert (row.invitations, row.rated, row.satisfied) == (e["inv"], e["rated"], e["sat"])
        assert row.csat == (round(e["sat"] / e["rated"], 4) if e["rated"] else None)
        assert row.invite_rate == round(e["inv"] / replied[aid], 4)
    # The KPI report carries the same figures, and the shop's CSAT is summed, not averaged.
    assert "kefu.complaints.figures.FIGURES" in FIGURE_SETS
    report = kpi_report(shop=shop, date_from=D1, date_to=D2)
    for row in report["agents"]:
        e = expect[row["agent_id"]]
        assert row["ratings"] == e["rated"] and row["ratings_satisfied"] == e["sat"]
        assert row["rating_invitations"] == e["inv"]
        assert row["csat"] == (round(e["sat"] / e["rated"], 6) if e["rated"] else None)
    rated = sum(e["rated"] for e in expect.values())
    sat = sum(e["sat"] for e in expect.values())
    assert report["shop_totals"]["csat"] == round(sat / rated, 6)
    # One day only.
    one = {r.agent_id: r.invitations for r in csat_table(shop=shop, date_from=D2, date_to=D2)}
    assert one == {aid: RatingInvitation.objects.filter(agent_id=aid, day=D2).count() for aid in expect}


def test_api_batch_all_or_nothing(api, shop, world):
    ratings.invitations_for_day(shop=shop, day=D1)
    ids = list(RatingInvitation.objects.order_by("id").values_list("id", flat=True))
    body = {"ratings": [{"invitation_id": ids[0], "score": 5}, {"invitation_id": 999999, "score": 4},
                        {"invitation_id": ids[1], "score": 9}]}
    r = api.post("/api/v1/service-ratings", json.dumps(body), content_type="application/json")
    assert r.status_code == 422, r.content
    assert ServiceRating.objects.count() == 0
    assert {(e["index"], e["field"]) for e in r.json()["errors"]} == {(1, "invitation_id"), (2, "score")}
    body = {"ratings": [{"invitation_id": ids[0], "score": 5}, {"invitation_id": ids[1], "score": 2}]}
    r = api.post("/api/v1/service-ratings", json.dumps(body), content_type="application/json")
    assert r.status_code == 200 and r.json() == {"created": 2, "duplicates": 0}
    r = api.post("/api/v1/service-ratings", json.dumps(body), content_type="application/json")
    assert r.json() == {"created": 0, "duplicates": 2}
    r = api.get(f"/api/v1/csat?from={D1}&to={D1}")
    assert r.status_code == 200
    rows = {x["name"]: x for x in r.json()}
    assert sum(x["rated"] for x in rows.values()) == 2


def test_the_daily_invitation_rule(shop, world):
    from kefu.complaints.tasks import rating_invitations
    from kefu.core.scheduler import tick

    morning = dt.datetime.combine(D2 + dt.timedelta(days=1), dt.time(1, 0), tzinfo=shop.tz)
    fired = [t for t in tick(morning) if t[0] == "complaints.rating_invitations"]
    assert fired == [("complaints.rating_invitations", shop.code, D2.isoformat())]
    assert [t for t in tick(morning + dt.timedelta(hours=1)) if t[0] == "complaints.rating_invitations"] == []
    assert rating_invitations.call(shop.pk, D2.isoformat()) == 7
    assert RatingInvitation.objects.filter(day=D2).count() == 7 and not RatingInvitation.objects.filter(day=D1)
