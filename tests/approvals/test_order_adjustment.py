"""An executed price change / free order adjusts the order it names, exactly once, audited."""

import datetime as dt
from decimal import Decimal

import pytest

from kefu.approvals.services import approval_decide, money_action_request
from kefu.core.errors import KefuError
from kefu.core.models import AuditLog
from kefu.core.services import person_create, shop_create
from kefu.customers.models import Customer
from kefu.orders.adjust import payable
from kefu.orders.models import Order, OrderAdjustment, OrderEvent, OrderRemark
from tests.concurrency import race, require_postgresql


def test_discount_within_authority_adjusts_the_order(shop, agent_person, order):
    result = money_action_request(shop=shop, agent=agent_person, kind="discount", amount="10", reason="老客优惠",
                                  order=order)
    assert result.outcome == "executed"
    order.refresh_from_db()
    assert order.adjustment_amount == Decimal("10.00")
    assert payable(order) == Decimal("158.00")  # paid 168 − 10
    adj = OrderAdjustment.objects.get(order=order)
    assert (adj.money_action_id, adj.payable_before, adj.payable_after) == (result.money_action.pk,
                                                                            Decimal("168.00"), Decimal("158.00"))
    ev = OrderEvent.objects.get(order=order, kind="adjustment")
    assert ev.actor_id == agent_person.pk and "¥168.00 → ¥158.00" in ev.note
    assert OrderRemark.objects.get(order=order, type="price_change").text == "[改价] 老客优惠 —小美"
    assert AuditLog.objects.filter(action="order.adjust", entity_id=str(order.pk)).count() == 1


def test_approved_price_change_applied_once(shop, agent_person, supervisor, supervisor2, order):
    req = money_action_request(shop=shop, agent=agent_person, kind="discount", amount="40", reason="质量瑕疵",
                               order=order).approval
    assert not OrderAdjustment.objects.exists()  # nothing happens to the order while it waits
    approval_decide(shop=shop, approval_id=req.pk, approver=supervisor, approve=True)
    with pytest.raises(KefuError) as exc:
        approval_decide(shop=shop, approval_id=req.pk, approver=supervisor2, approve=True)
    assert exc.value.code == "already_decided"
    order.refresh_from_db()
    assert OrderAdjustment.objects.filter(order=order).count() == 1
    assert order.adjustment_amount == Decimal("40.00")
    ev = OrderEvent.objects.get(order=order, kind="adjustment")
    assert ev.actor_id == supervisor.pk and "主管阿琳 批准" in ev.note


def test_rejected_request_leaves_the_order(shop, agent_person, supervisor, order):
    req = money_action_request(shop=shop, agent=agent_person, kind="discount", amount="40", reason="r",
                               order=order).approval
    approval_decide(shop=shop, approval_id=req.pk, approver=supervisor, approve=False, reason="不行")
    order.refresh_from_db()
    assert order.adjustment_amount == 0 and not OrderEvent.objects.filter(order=order).exists()


def test_replayed_request_id_applies_once(shop, agent_person, order):
    for _ in range(2):
        money_action_request(shop=shop, agent=agent_person, kind="discount", amount="5", reason="r", order=order,
                             request_id="k-1")
    order.refresh_from_db()
    assert OrderAdjustment.objects.count() == 1 and order.adjustment_amount == Decimal("5.00")


def test_free_order_waives_what_is_left(shop, admin_person, order):
    money_action_request(shop=shop, agent=admin_person, kind="discount", amount="8", reason="r", order=order)
    money_action_request(shop=shop, agent=admin_person, kind="free_order", reason="严重质量问题", order=order)
    order.refresh_from_db()
    assert payable(order) == Decimal("0.00")
    assert order.adjustment_amount == Decimal("168.00")
    assert [a.payable_after for a in OrderAdjustment.objects.order_by("id")] == [Decimal("160.00"), Decimal("0.00")]


def test_compensation_goes_on_the_timeline_only(shop, agent_person, order):
    money_action_request(shop=shop, agent=agent_person, kind="compensation", amount="5", reason="发货慢",
                         order=order)
    order.refresh_from_db()
    assert order.adjustment_amount == 0 and not OrderAdjustment.objects.exists()
    assert OrderEvent.objects.get(order=order, kind="compensation").note.startswith("补偿 ¥5.00")


def test_without_an_order_nothing_to_adjust(shop, agent_person):
    money_action_request(shop=shop, agent=agent_person, kind="compensation", amount="5", reason="r")
    assert not OrderEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_adjust_once():
    require_postgresql()
    shop = shop_create(code="adj", name="并发店")
    agent = person_create(shop=shop, name="小美", roles=["agent"])
    sup1 = person_create(shop=shop, name="主管甲", roles=["supervisor"])
    sup2 = person_create(shop=shop, name="经理乙", roles=["manager"])
    customer = Customer.objects.create(shop=shop, buyer_id="b1")
    order = Order.objects.create(shop=shop, order_id="A1", customer=customer, status="paid",
                                 total_amount=Decimal("100"), paid_amount=Decimal("100"),
                                 created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    for i in range(3):
        req = money_action_request(shop=shop, agent=agent, kind="discount", amount="30", reason=f"r{i}",
                                   order=order).approval
        results = race(lambda who, pk=req.pk: approval_decide(shop=shop, approval_id=pk, approver=who, approve=True),
                       [(sup1,), (sup2,)])
        assert sum(1 for r in results if isinstance(r, KefuError) and r.code == "already_decided") == 1
    order.refresh_from_db()
    assert OrderAdjustment.objects.filter(order=order).count() == 3
    assert order.adjustment_amount == Decimal("90.00")
