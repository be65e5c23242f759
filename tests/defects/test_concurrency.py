"""Scans at the same moment (PostgreSQL): one alert, one notification per manager; two managers acting on
one alert: exactly one acknowledge succeeds."""

import datetime as dt

import pytest

from kefu.approvals.models import Notification
from kefu.core.errors import KefuError
from kefu.core.services import person_create, shop_create
from kefu.defects import services
from kefu.defects.models import AlertCase, ProductionAlert
from tests.concurrency import race, require_postgresql

from .conftest import open_case

pytestmark = pytest.mark.django_db(transaction=True)


def _setup():
    require_postgresql()
    shop = shop_create(code="conc", name="并发店")
    a = person_create(shop=shop, name="经理甲", roles=["manager"])
    b = person_create(shop=shop, name="经理乙", roles=["manager"])
    return shop, a, b


def test_parallel_scans_raise_one_alert_and_notify_once(monkeypatch):
    shop, a, b = _setup()
    slow = services._refresh_counts

    def refresh_slowly(alert):
        import time

        time.sleep(0.2)  # hold the rule lock a little longer so the other scan surely waits
        return slow(alert)

    monkeypatch.setattr(services, "_refresh_counts", refresh_slowly)
    now = dt.datetime.now(dt.UTC)
    for i in range(3):
        open_case(shop, now - dt.timedelta(hours=3 - i), buyer=f"b{i}")
    results = race(lambda: services.alerts_scan(shop=shop), [(), (), ()])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(len(r.raised) for r in results) == 1
    assert ProductionAlert.objects.filter(shop=shop).count() == 1
    assert AlertCase.objects.filter(shop=shop).count() == 3
    assert Notification.objects.filter(recipient=a).count() == 1
    assert Notification.objects.filter(recipient=b).count() == 1


def test_two_managers_acknowledge_at_once_exactly_one_succeeds():
    shop, a, b = _setup()
    now = dt.datetime.now(dt.UTC)
    for i in range(3):
        open_case(shop, now - dt.timedelta(hours=3 - i), buyer=f"b{i}")
    alert = services.alerts_scan(shop=shop).raised[0]
    results = race(lambda who: services.alert_act(shop=shop, alert_id=alert.pk, action="acknowledge", actor=who,
                                                  note=f"{who.name} 已通知工厂"), [(a,), (b,)])
    ok = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, KefuError)]
    assert len(ok) == 1 and len(errors) == 1 and errors[0].code == "invalid_transition"
    assert alert.events.filter(action="acknowledge").count() == 1
