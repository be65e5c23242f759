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
