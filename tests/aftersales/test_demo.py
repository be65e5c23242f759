"""The demo's after-sales cases, made through the services."""

import datetime as dt

import pytest

from kefu.aftersales.models import (
    Case,
    CaseApproval,
    CategoryPolicy,
    CourierClaim,
    Evidence,
    RetentionAttempt,
)
from kefu.demo import services as demo

pytestmark = pytest.mark.django_db
END = dt.date(2026, 5, 31)


def _summary(shop):
    return sorted(Case.objects.filter(shop=shop).values_list("type", "reason", "state", "order__order_id"))


def test_demo_extend(monkeypatch):
    assert "kefu.aftersales.demo.demo_extend" in demo.DEMO_EXTENSIONS
    monkeypatch.setattr(demo, "DEMO_EXTENSIONS", ["kefu.aftersales.demo.demo_extend"])
    shop = demo.demo_load(code="a1", seed=7, scale=0.1, days=20, end=END).shop
    cases = Case.objects.filter(shop=shop)
    assert cases.filter(type="exchange", reason="wrong_item", money_lines__direction="buyer_to_shop").exists()
    assert cases.filter(reason="quality", state="refunded").exists()
    assert cases.filter(reason="quality", state="compensated").exclude(override_reason="").exists()
    assert CaseApproval.objects.filter(case__shop=shop, state="pending").count() == 1
    claim = CourierClaim.objects.get(shop=shop)
    assert claim.state == "paid" and 0 < claim.amount_recovered < claim.amount_claimed
    assert cases.filter(money_lines__early=True, state="refunded").exists()
    assert RetentionAttempt.objects.filter(shop=shop, outcome="accepted").exists()
    assert Evidence.objects.filter(shop=shop).count() == 1
    assert CategoryPolicy.objects.filter(shop=shop).exists()
    assert len(_summary(shop)) == 7
    # One second-service call is due today: the daily follow-up reminder has something to send.
    from kefu.aftersales.reminders import reminders_send

    assert reminders_send(shop=shop) == 1
