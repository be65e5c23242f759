"""The scheduler rules: the daily list once per shop day after the audit hour, and closing shipped orders."""

import datetime as dt

import pytest

from kefu.core import scheduler
from kefu.core.models import SchedulerRun
from kefu.core.scheduler import tick
from kefu.orders.models import Order
from kefu.shipping import jobs
from kefu.shipping.models import ShippingIssue
from kefu.shipping.services import shipping_audit_run
from kefu.shipping.tasks import shipping_audit, shipping_issues_close

from .conftest import order

H = dt.timedelta(hours=1)


@pytest.mark.django_db
def test_daily_rule_fires_once_per_shop_day(shop, monkeypatch):
    assert "kefu.shipping.jobs" in scheduler.JOB_MODULES
    monkeypatch.setattr(scheduler, "JOB_MODULES", ["kefu.shipping.jobs"])  # the other apps' rules are theirs
    early = dt.datetime(2026, 11, 20, 0, 59, tzinfo=dt.UTC)  # 08:59 in Shanghai
    assert jobs._daily(shop, early) is None
    due = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    assert jobs._daily(shop, due) == "2026-11-20"
    fired = [f for f in tick(now=due) if f[0] == "shipping.daily_audit"]
    assert [f[2] for f in fired if f[1] == shop.code] == ["2026-11-20"]
    assert not [f for f in tick(now=due + 5 * H) if f[0] == "shipping.daily_audit"]
    # After shop midnight (16:00 UTC) and 09:00 the next day it fires again.
    assert [f[2] for f in tick(now=due + 24 * H) if f[0] == "shipping.daily_audit"] == ["2026-11-21"]
    assert SchedulerRun.objects.filter(job="shipping.daily_audit", shop=shop).count() == 2


@pytest.mark.django_db
def test_tasks_build_the_list_and_close_shipped(shop, customer):
    o = order(shop, customer, "o1", paid_at=dt.datetime.now(dt.UTC) - 30 * H)
    assert shipping_audit.call(shop.pk) == 1
    assert shipping_audit.call(shop.pk) == 0
    now = dt.datetime.now(dt.UTC)
    assert jobs._close_period(shop, now) is None  # nothing shipped yet
    Order.objects.filter(pk=o.pk).update(shipped_at=now, status="shipped")
    assert jobs._close_period(shop, now) is not None
    assert shipping_issues_close.call(shop.pk) == 1
    assert ShippingIssue.objects.get().resolution == "auto_shipped"
    assert jobs._close_period(shop, now) is None


@pytest.mark.django_db
def test_audit_hour_is_a_setting(shop, supervisor):
    from kefu.shipping.services import settings_update

    settings_update(shop=shop, actor=supervisor, audit_hour=6)
    assert jobs._daily(shop, dt.datetime(2026, 11, 19, 22, 0, tzinfo=dt.UTC)) == "2026-11-20"  # 06:00 Shanghai
    assert shipping_audit_run(shop=shop).created_total == 0
