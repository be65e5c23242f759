"""The defects demo: cases across reasons through the after-sales services, and one production alert."""

import pytest

from kefu.aftersales.models import Case
from kefu.approvals.models import Notification
from kefu.defects.models import ProductionAlert


@pytest.mark.django_db
def test_demo_raises_one_alert_and_fills_the_report():
    from kefu.demo.services import demo_load

    res = demo_load(code="dd", days=10, scale=0.15)
    shop = res.shop
    cases = Case.objects.filter(shop=shop)
    assert cases.count() >= 30
    assert len(set(cases.values_list("reason", flat=True))) >= 4
    alerts = list(ProductionAlert.objects.filter(shop=shop))
    assert len(alerts) >= 1
    burst = max(alerts, key=lambda a: a.buyer_count)
    assert burst.buyer_count >= 3 and burst.reason == "quality"
    manager = shop.agents.get(roles__contains="manager")
    assert Notification.objects.filter(recipient=manager, link__startswith="/defects/").count() == len(alerts)
    from kefu.defects.demo import BURST_NOTES

    burst_cases = cases.filter(note__in=BURST_NOTES)
    assert burst_cases.count() == 4
    assert all(res.date_from <= c.created_at.astimezone(shop.tz).date() <= res.date_to for c in burst_cases)
