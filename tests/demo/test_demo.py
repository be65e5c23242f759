import datetime as dt
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from kefu.conversations.models import Conversation, Message
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer
from kefu.demo.generator import SHIFTS, World, rows, team
from kefu.demo.services import DEMO_PASSWORD
from kefu.metrics.audit import rollup_differences
from kefu.metrics.kpi import kpi_report
from kefu.orders.models import Order

END = dt.date(2026, 5, 31)
START = END - dt.timedelta(days=29)


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--scale", "0.05", "--end", END.isoformat(), *args, stdout=out)
    return out.getvalue()


def snapshot(code: str) -> dict:
    shop = Shop.objects.get(code=code)
    report = kpi_report(shop=shop, date_from=START, date_to=END, by="agent")
    for row in report["agents"]:
        row.pop("agent_id")
    report.pop("shop")
    return {
        "messages": Message.objects.filter(shop=shop).count(),
        "orders": Order.objects.filter(shop=shop).count(),
        "paid": Order.objects.filter(shop=shop, paid_at__isnull=False).count(),
        "buyers": Customer.objects.filter(shop=shop).count(),
        "conversations": Conversation.objects.filter(shop=shop).count(),
        "report": report,
    }


def test_generator_is_deterministic_without_a_database():
    a = World(seed=5, end=END, scale=0.02)
    b = World(seed=5, end=END, scale=0.02)
    assert list(a.messages()) == list(b.messages())
    assert a.orders() == b.orders()
    c = World(seed=6, end=END, scale=0.02)
    assert list(c.messages()) != list(World(seed=5, end=END, scale=0.02).messages())


def test_rows_yields_n_messages_then_orders():
    kinds = [k for k, _ in rows(1500, seed=1, end=END)]
    assert kinds.count("message") == 1500
    assert "order" in kinds and kinds.index("order") == 1500


@pytest.mark.django_db
def test_same_seed_same_counts_and_same_kpi_report():
    run_demo("--seed", "7")
    run_demo("--seed", "7", "--shop", "demo2")
    first, second = snapshot("demo"), snapshot("demo2")
    assert first["messages"] > 1000 and first["orders"] > 100
    assert first == second


@pytest.mark.django_db
def test_accounts_groups_and_roles():
    out = run_demo()
    User = get_user_model()
    for username, role in (("manager", "manager"), ("supervisor", "supervisor"), ("warehouse", "warehouse")):
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        assert Agent.objects.get(user=user).has_role(role)
        assert re.search(rf"^\s+{username}\s+{DEMO_PASSWORD}\s", out, re.M)
    agents = Agent.objects.filter(shop__code="demo", roles="agent")
    assert agents.count() == 20
    assert agents.filter(group="presales").count() > agents.filter(group="aftersales").count() > 0
    assert all(a.user is not None and a.user.check_password(DEMO_PASSWORD) for a in agents.select_related("user"))
    assert "客服主管" in out and "经理" in out and "售后" in out and "晚班" in out


@pytest.mark.django_db
def test_agents_answer_only_on_their_shift():
    run_demo()
    shop = Shop.objects.get(code="demo")
    plans = {p.name: p for p in team()}
    nights = [p for p in plans.values() if p.shift == "night"]
    days = [p for p in plans.values() if p.shift == "day"]
    assert 0 < len(nights) < len(days)
    checked = 0
    for name, sent_at in Message.objects.filter(shop=shop, sender="agent").values_list("agent__name", "sent_at"):
        plan = plans[name]
        local = sent_at.astimezone(shop.tz)
        start, end = SHIFTS[plan.shift]
        minute = local.hour * 60 + local.minute
        # A conversation may run up to 20 minutes past the shift's end (a night shift ends at 24:00).
        late_night = plan.shift == "night" and minute < 20
        assert (start <= minute < end + 20) or late_night, (name, local)
        if not late_night:
            assert local.weekday() != plan.rest_weekday, (name, local)
        checked += 1
    assert checked > 500


@pytest.mark.django_db
def test_conversions_silent_orders_bots_and_order_cards():
    run_demo()
    shop = Shop.objects.get(code="demo")
    totals = kpi_report(shop=shop, date_from=START, date_to=END, by="shop")["shop_totals"]
    assert totals["inquiries"] > 100
    assert 0.25 <= totals["conversion_rate"] <= 0.6
    assert totals["silent_orders"] > 10
    assert totals["unanswered_turns"] > 0 and totals["slow_turns"] > 0
    assert 0.9 < totals["reply_rate"] < 1
    assert Message.objects.filter(shop=shop, sender="bot", agent__isnull=True).exists()
    assert Message.objects.filter(shop=shop, sender="buyer").exclude(order_ref="").exists()
    statuses = set(Order.objects.filter(shop=shop).values_list("status", flat=True))
    assert {"unpaid", "closed", "completed", "refunded"} <= statuses
    assert rollup_differences(shop=shop) == []
    # people: one new agent in probation with a mentor, the 7 days done and the exam passed (WF-7)
    from kefu.people.models import Onboarding

    o = Onboarding.objects.get(shop=shop)
    assert o.state == "probation" and o.mentor_id != o.agent_id and o.days_done.count() == 7


@pytest.mark.django_db
def test_accounts_only_resets_passwords_and_never_touches_other_logins():
    out = io.StringIO()
    call_command("demo", "--accounts-only", stdout=out)
    assert "nothing to do" in out.getvalue()
    run_demo()
    User = get_user_model()
    user = User.objects.get(username="manager")
    user.set_password("changed-by-someone-1")
    user.save()
    call_command("demo", "--accounts-only", stdout=io.StringIO())
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_existing_shop_is_refused():
    run_demo()
    with pytest.raises(Exception, match="already exists"):
        run_demo()


@pytest.mark.django_db
def test_integrations_pages_are_populated():
    """The catalogue imported from a file (ids, categories, batches adding up to the stock), two rules,
    courier scans, and a subscription whose deliveries really reached a local receiver and which is left
    disabled on the README receiver's address."""
    from kefu.catalog.models import Batch, Category, Product, Sku
    from kefu.importers.models import ImportRun
    from kefu.integrations.models import (
        AutomationRule,
        RuleFiring,
        TrackingEvent,
        WebhookDelivery,
        WebhookSubscription,
    )

    out = run_demo()
    shop = Shop.objects.get(code="demo")
    assert ImportRun.objects.filter(shop=shop, kind="catalog", state="done").count() == 1
    assert not Product.objects.filter(shop=shop, external_id="").exists()
    assert Category.objects.filter(shop=shop, parent__isnull=True).exists()
    for sku in Sku.objects.filter(shop=shop, batches__isnull=False).distinct():
        assert sku.stock == sum(b.quantity for b in Batch.objects.filter(sku=sku))
    assert AutomationRule.objects.filter(shop=shop).count() == 2
    scans = TrackingEvent.objects.filter(shop=shop)
    assert scans.count() > 0 and scans.filter(state="signed").exists()
    sub = WebhookSubscription.objects.get(shop=shop)
    assert (sub.url, sub.active) == ("http://127.0.0.1:8765/", False) and sub.disabled_reason
    deliveries = WebhookDelivery.objects.filter(subscription=sub)
    assert deliveries.count() >= scans.count() and set(deliveries.values_list("state", flat=True)) == {"succeeded"}
    assert all(d.status_code == 200 for d in deliveries)
    firings = RuleFiring.objects.filter(rule__shop=shop)
    assert firings.exists() and all(r["ok"] for f in firings for r in f.results)
    # a VIP buyer wrote 投诉: the rule fired (the chat went to a supervisor) and its dry run finds it
    from kefu.conversations.models import Conversation
    from kefu.crm.models import CustomerGrade
    from kefu.integrations.rules import rule_dry_run

    vip_rule = AutomationRule.objects.get(shop=shop, name="VIP 投诉转主管")
    fired = RuleFiring.objects.get(rule=vip_rule)
    conv = Conversation.objects.get(pk=fired.subject_id)
    assert CustomerGrade.objects.get(customer=conv.customer).grade == "VIP"
    assert conv.assignee is not None and conv.assignee.has_role("supervisor")
    dry = rule_dry_run(shop=shop, event_type=vip_rule.event_type, conditions=vip_rule.conditions)
    assert dry["matched"] >= 1 and conv.pk in {m["subject_id"] for m in dry["matches"]}
    # the order timeline shows courier scans at the scan times
    from kefu.orders.models import OrderEvent

    scan = scans.filter(order__isnull=False).order_by("at").first()
    assert OrderEvent.objects.filter(order=scan.order, action="tracking", created_at=scan.at).exists()
    assert f"{deliveries.count()} events delivered to a local receiver ({deliveries.count()} signatures checked)" in out
