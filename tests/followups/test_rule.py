"""The 催付 rule (PRE-2): fires once per order for an on-shift pre-sales agent; auto-close by the order."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kefu.core.models import SchedulerRun
from kefu.core.scheduler import tick
from kefu.core.services import person_create
from kefu.followups.models import FollowUp, FollowUpEvent
from kefu.followups.services import followup_create, payment_reminders_create
from kefu.orders.services import orders_clean, orders_upsert

from .conftest import make_order, put_on_shift

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def test_fires_once_per_order_after_30_minutes(shop, customer, agent_person, now):
    put_on_shift(shop, agent_person, now - dt.timedelta(hours=2))
    make_order(shop, customer, "T-old-enough", minutes_ago=31, now=now)
    make_order(shop, customer, "T-too-young", minutes_ago=28, now=now)
    make_order(shop, customer, "T-paid", minutes_ago=60, now=now, status="paid", paid_at=now)
    make_order(shop, customer, "T-history", minutes_ago=60 * 25, now=now)  # an import of old orders
    created = payment_reminders_create(shop=shop, now=now)
    assert [f.order.order_id for f in created] == ["T-old-enough"]
    fu = created[0]
    assert fu.kind == "payment_reminder" and fu.owner == agent_person and fu.state == "open"
    assert fu.due_at == now + dt.timedelta(hours=1)
    assert FollowUpEvent.objects.get(followup=fu).actor is None
    # The next scans (and a restart) never make a second task for the same order.
    assert payment_reminders_create(shop=shop, now=now + dt.timedelta(minutes=1)) == []
    later = payment_reminders_create(shop=shop, now=now + dt.timedelta(minutes=2))
    assert [f.order.order_id for f in later] == ["T-too-young"]
    assert FollowUp.objects.filter(order__order_id="T-old-enough").count() == 1


def test_owner_is_an_on_shift_presales_agent_least_loaded_first(shop, customer, agent_person, colleague, now):
    off = person_create(shop=shop, name="下班的", roles=["agent"])
    after = person_create(shop=shop, name="售后的", roles=["agent"], group="aftersales")
    put_on_shift(shop, agent_person, now - dt.timedelta(hours=1))
    put_on_shift(shop, colleague, now - dt.timedelta(hours=1))
    put_on_shift(shop, after, now - dt.timedelta(hours=1))
    put_on_shift(shop, off, now - dt.timedelta(hours=10))  # ended 2 hours ago
    followup_create(shop=shop, kind="lead", customer=customer, owner=colleague, actor=colleague)
    for i in range(3):
        make_order(shop, customer, f"T{i}", minutes_ago=40 + i, now=now)
    owners = [f.owner.name for f in payment_reminders_create(shop=shop, now=now)]
    # 阿强 already has a lead: 小美 gets the first, then they alternate by load.
    assert owners == ["小美", "小美", "阿强"]


def test_nobody_on_shift_waits_for_the_shift(shop, customer, agent_person, now):
    make_order(shop, customer, "T1", minutes_ago=45, now=now)
    assert payment_reminders_create(shop=shop, now=now) == []
    put_on_shift(shop, agent_person, now + dt.timedelta(hours=1))
    created = payment_reminders_create(shop=shop, now=now + dt.timedelta(hours=1, minutes=1))
    assert [f.owner for f in created] == [agent_person]


def test_the_scheduler_fires_the_rule_and_the_task_creates_it(shop, customer, agent_person, settings,
                                                              django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    now = timezone.now()
    put_on_shift(shop, agent_person, now - dt.timedelta(hours=1))
    make_order(shop, customer, "T1", minutes_ago=35, now=now)
    with django_capture_on_commit_callbacks(execute=True):
        fired = [f for f in tick(now) if f[0] == "followups.payment_reminders"]
    assert fired == [("followups.payment_reminders", "s1", now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M"))]
    assert FollowUp.objects.filter(order__order_id="T1", owner=agent_person).count() == 1
    # Nothing left to do: the rule does not fire (and no run rows pile up).
    assert [f for f in tick(now + dt.timedelta(minutes=1)) if f[0] == "followups.payment_reminders"] == []
    assert SchedulerRun.objects.filter(job="followups.payment_reminders").count() == 1


def upsert(shop, **row):
    base = {"order_id": "T1", "buyer_id": "buyer1", "created_at": "2026-11-01T10:00:00"}
    return orders_upsert(shop=shop, rows=orders_clean([{**base, **row}], tz=shop.tz))


def test_payment_closes_the_reminder_won(shop, customer, agent_person, now):
    put_on_shift(shop, agent_person, now - dt.timedelta(hours=1))
    created_at = (now - dt.timedelta(minutes=40)).isoformat()
    upsert(shop, created_at=created_at, total_amount="88.00")
    (fu,) = payment_reminders_create(shop=shop, now=now)
    upsert(shop, created_at=created_at, total_amount="88.00", paid_amount="80.00", status="paid",
           paid_at=now.isoformat())
    fu.refresh_from_db()
    assert fu.state == "closed_won" and fu.outcome.startswith("已付款") and fu.closed_at is not None
    assert fu.events.last().action == "auto_win" and fu.events.last().actor is None


def test_closing_the_order_closes_the_reminder_lost(shop, customer, agent_person, now):
    put_on_shift(shop, agent_person, now - dt.timedelta(hours=1))
    created_at = (now - dt.timedelta(minutes=40)).isoformat()
    upsert(shop, created_at=created_at)
    (fu,) = payment_reminders_create(shop=shop, now=now)
    upsert(shop, created_at=created_at, status="closed", closed_at=now.isoformat())
    fu.refresh_from_db()
    assert fu.state == "closed_lost" and fu.events.last().action == "auto_lose"
    # An unrelated re-import changes nothing further.
    upsert(shop, created_at=created_at, status="closed", closed_at=now.isoformat(), title="x")
    assert fu.events.count() == 2


def test_a_lead_closes_won_when_the_buyer_orders(shop, customer, agent_person):
    lead = followup_create(shop=shop, kind="lead", customer=customer, owner=agent_person, actor=agent_person,
                           reason="size_unsure")
    upsert(shop, order_id="T9", created_at=(timezone.now() + dt.timedelta(seconds=1)).isoformat(),
           total_amount=str(Decimal("59.00")))
    lead.refresh_from_db()
    assert lead.state == "closed_won" and "T9" in lead.outcome
