"""Races on PostgreSQL: two people resolving one issue, two audit runs of one shop at once."""

import datetime as dt
from decimal import Decimal

import pytest

from kefu.core.errors import KefuError
from kefu.core.services import person_create, shop_create
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.shipping.models import ShippingIssue, ShippingIssueEvent
from kefu.shipping.services import issue_resolve, shipping_audit_run
from tests.concurrency import race, require_postgresql

pytestmark = pytest.mark.django_db(transaction=True)
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def _shop_with_late_orders(n: int):
    require_postgresql()
    shop = shop_create(code="conc", name="并发店")
    buyer = Customer.objects.create(shop=shop, buyer_id="b")
    for i in range(n):
        paid = NOW - dt.timedelta(hours=30 + i)
        Order.objects.create(shop=shop, order_id=f"o{i}", customer=buyer, status="paid", created_at=paid,
                             paid_at=paid, total_amount=Decimal("9.00"))
    return shop


def test_two_audits_at_once_list_each_order_once():
    shop = _shop_with_late_orders(20)
    results = race(lambda: shipping_audit_run(shop=shop, now=NOW), [(), ()])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.created_total for r in results) == [0, 20]
    assert ShippingIssue.objects.filter(shop=shop).count() == 20
    assert ShippingIssueEvent.objects.filter(shop=shop).count() == 20


def test_two_people_resolve_one_issue_exactly_one_wins():
    shop = _shop_with_late_orders(1)
    a = person_create(shop=shop, name="甲", roles=["agent"])
    b = person_create(shop=shop, name="乙", roles=["agent"])
    shipping_audit_run(shop=shop, now=NOW)
    issue = ShippingIssue.objects.get(shop=shop)
    results = race(lambda who, action: issue_resolve(shop=shop, issue_id=issue.pk, action=action, actor=who),
                   [(a, "urge_warehouse"), (b, "buyer_wait")])
    losses = [r for r in results if isinstance(r, Exception)]
    assert len(losses) == 1 and isinstance(losses[0], KefuError) and losses[0].code == "invalid_transition"
    issue.refresh_from_db()
    assert issue.state == "resolved"
    assert ShippingIssueEvent.objects.filter(issue=issue).exclude(action="create").count() == 1
