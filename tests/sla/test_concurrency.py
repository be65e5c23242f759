"""Scans racing each other (scheduler task, on-demand API) never double-warn or double-escalate."""


import pytest

from kefu.approvals.models import Notification
from kefu.core.services import person_create, shop_create
from kefu.sla.models import SlaAlert, SlaClock
from kefu.sla.services import sla_scan
from tests.concurrency import race, require_postgresql

from .conftest import MONDAY, at, send


@pytest.mark.django_db(transaction=True)
def test_parallel_scans_alert_once_on_postgresql():
    require_postgresql()
    shop = shop_create(code="slapar", name="并发店")
    person_create(shop=shop, name="阿美", roles=["agent"], group="aftersales", platform_ids=["店铺:阿美"])
    person_create(shop=shop, name="周主管", roles=["supervisor"], group="")
    send(shop, [(f"m{i}", f"b{i}", "店铺:阿美", "buyer", at(MONDAY, "10:00"), f"o{i}") for i in range(20)])
    for moment in (at(MONDAY, "10:03", 30), at(MONDAY, "10:06")):  # warning time, then breach time
        results = race(lambda now=moment: sla_scan(shop=shop, now=now), [()] * 4)
        assert not [r for r in results if isinstance(r, Exception)], results
    assert SlaClock.objects.filter(shop=shop).count() == 20
    assert SlaAlert.objects.filter(shop=shop, kind="warning").count() == 20
    assert SlaAlert.objects.filter(shop=shop, kind="breach").count() == 20
    # 20 warnings to the agent, 20 breaches to the supervisor and to the agent
    assert Notification.objects.filter(shop=shop).count() == 60
    assert Notification.objects.filter(shop=shop, recipient__name="周主管").count() == 20


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_while_the_scan_recounts_stays_marked(monkeypatch):
    """The scan deletes exactly the dirty rows it read: a buyer flagged as spam between its count and
    its commit leaves its own mark, so the report counts that day raw (exact) until the next scan."""
    require_postgresql()
    import datetime as dt
    import threading

    from kefu.customers.models import Customer
    from kefu.customers.services import customer_spam_set
    from kefu.metrics.kpi import kpi_report
    from kefu.sla import rollup
    from kefu.sla.models import SlaDirty

    shop = shop_create(code="slaroll", name="并发店")
    person_create(shop=shop, name="阿美", roles=["agent"], group="aftersales", platform_ids=["店铺:阿美"])
    send(shop, [(f"m{i}", f"b{i}", "店铺:阿美", "buyer", at(MONDAY, "10:00"), f"o{i}") for i in range(6)])
    send(shop, [(f"r{i}", f"b{i}", "店铺:阿美", "agent", at(MONDAY, "10:01")) for i in range(6)])
    sla_scan(shop=shop, now=at(MONDAY, "12:00"))
    assert not SlaDirty.objects.filter(shop=shop).exists()
    rollup.mark(shop.id, [at(MONDAY, "10:01")])  # something for the next scan to recount

    counted, flagged = threading.Event(), threading.Event()
    raw = rollup._raw

    def raw_then_wait(*args, **kw):
        out = raw(*args, **kw)
        counted.set()
        flagged.wait(10)
        return out

    monkeypatch.setattr(rollup, "_raw", raw_then_wait)

    def flag_spam():
        counted.wait(10)
        customer_spam_set(shop=shop, customer=Customer.objects.get(shop=shop, buyer_id="b0"), spam=True)
        flagged.set()

    results = race(lambda fn: fn(), [(lambda: sla_scan(shop=shop, now=at(MONDAY, "12:01")),), (flag_spam,)])
    assert not [r for r in results if isinstance(r, Exception)], results
    monkeypatch.setattr(rollup, "_raw", raw)
    assert SlaDirty.objects.filter(shop=shop).exists()  # the spam flag's own mark survived the scan
    day = MONDAY
    hit = kpi_report(shop=shop, date_from=day, date_to=day + dt.timedelta(days=1), by="shop")["shop_totals"]["sla_hit"]
    assert hit == 5  # six replies in time, one buyer now spam
    sla_scan(shop=shop, now=at(MONDAY, "12:02"))
    assert rollup.differences(shop=shop) == [] and not SlaDirty.objects.filter(shop=shop).exists()
