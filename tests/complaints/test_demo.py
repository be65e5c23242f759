"""The demo adds complaints in every stage, reviews with tasks, disputes and ratings, deterministically."""

import datetime as dt

import pytest

from kefu.complaints.models import (
    Complaint,
    Dispute,
    RatingInvitation,
    Review,
    ReviewTask,
    ServiceRating,
)
from kefu.demo import services as demo

pytestmark = pytest.mark.django_db
END = dt.date(2026, 5, 31)


def test_demo_extend(monkeypatch):
    assert "kefu.complaints.demo.demo_extend" in demo.DEMO_EXTENSIONS
    monkeypatch.setattr(demo, "DEMO_EXTENSIONS", ["kefu.complaints.demo.demo_extend"])
    res = demo.demo_load(code="d1", seed=11, scale=0.1, end=END)
    shop = res.shop
    states = set(Complaint.objects.filter(shop=shop).values_list("state", flat=True))
    assert states == {"accept", "clarify", "solution", "revisit", "closed"}
    assert Complaint.objects.filter(shop=shop, against__isnull=False).exists()
    assert Review.objects.filter(shop=shop, level="good").count() > Review.objects.filter(shop=shop, level="bad").count()
    bad = Review.objects.filter(shop=shop).exclude(level="good").count()
    assert bad and ReviewTask.objects.filter(shop=shop).count() == bad
    assert ReviewTask.objects.filter(shop=shop, outcome="revised").exists()
    assert Dispute.objects.filter(shop=shop).count() == 2
    assert RatingInvitation.objects.filter(shop=shop, day__gte=END - dt.timedelta(days=6)).exists()
    assert ServiceRating.objects.filter(shop=shop).exists()
    first = sorted(Review.objects.filter(shop=shop).values_list("review_id", "rating", "text"))
    # Same seed, another shop code: the same data.
    again = demo.demo_load(code="d2", seed=11, scale=0.1, end=END)
    second = sorted((r.replace("d2-", "d1-"), s, t) for r, s, t in
                    Review.objects.filter(shop=again.shop).values_list("review_id", "rating", "text"))
    assert first == second
