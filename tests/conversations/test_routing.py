import datetime as dt
from decimal import Decimal

import pytest

from kefu.conversations import routing
from kefu.conversations.enums import QueueReason
from kefu.conversations.models import AgentCap, Conversation, ConversationEvent, Message
from kefu.conversations.services import (
    conversation_close,
    messages_clean,
    messages_ingest,
    routing_settings_update,
)
from kefu.core.errors import ValidationFailed
from kefu.metrics.models import Reception
from kefu.orders.models import Order
from kefu.workforce.services import presence_set

from .conftest import NOW, buyer_msg, on_shift, person

pytestmark = pytest.mark.django_db


def owner(shop, buyer):
    return Conversation.objects.filter(shop=shop, customer__buyer_id=buyer).order_by("-ended_at").first()


def test_round_robin_is_fair_over_agents_of_the_group(shop, team):
    for i in range(6):
        buyer_msg(shop, f"b{i}", mid=f"m{i}")
    names = [owner(shop, f"b{i}").assignee.name for i in range(6)]
    assert names == ["小一", "小二", "小三", "小一", "小二", "小三"]
    # Buyer messages carry their agent (metrics credit the reception to them).
    assert Message.objects.get(message_id="m4").agent.name == "小二"
    assert Reception.objects.filter(shop=shop, agent=team["p2"]).count() == 2
    assert all(owner(shop, f"b{i}").group == "presales" for i in range(6))
    assert ConversationEvent.objects.filter(kind="routed").count() == 6


def test_cap_per_shop_and_per_agent(shop, team):
    routing_settings_update(shop=shop, default_cap=1)
    AgentCap.objects.create(shop=shop, agent=team["p1"], cap=0)
    for i in range(3):
        buyer_msg(shop, f"b{i}", mid=f"m{i}")
    assert [owner(shop, f"b{i}").assignee_id for i in range(2)] == [team["p2"].id, team["p3"].id]
    third = owner(shop, "b2")
    assert third.assignee_id is None and third.queued_at is not None and third.queue_reason == QueueReason.BUSY
    assert Message.objects.get(message_id="m2").agent_id is None
    # Closing a conversation frees the slot: the queue is handed out.
    conversation_close(shop=shop, conversation=owner(shop, "b0"), by=team["p2"], now=NOW)
    assert routing.queue_hand_out(shop=shop, now=NOW + dt.timedelta(minutes=1)) == [third.id]
    third.refresh_from_db()
    assert third.assignee_id == team["p2"].id
    # A "busy" queue gets no offline greeting.
    assert not third.outbound_messages.exists()


def test_idle_conversations_stop_counting_against_the_cap(shop, team):
    routing_settings_update(shop=shop, default_cap=1)
    for i in range(3):
        buyer_msg(shop, f"b{i}", mid=f"m{i}")
    later = NOW + dt.timedelta(minutes=shop.conversation_gap_minutes + 1)
    buyer_msg(shop, "b9", mid="m9", at=later)
    assert owner(shop, "b9").assignee_id is not None


def test_sticky_to_the_buyers_last_agent_when_on_shift_and_online(shop, team):
    buyer_msg(shop, "b1", mid="m1")
    assert owner(shop, "b1").assignee_id == team["p1"].id
    buyer_msg(shop, "b2", mid="m2")  # cursor moves to p2
    later = NOW + dt.timedelta(hours=2)
    buyer_msg(shop, "b1", mid="m3", at=later)
    conv = owner(shop, "b1")
    assert conv.assignee_id == team["p1"].id
    assert conv.events.get().kind == "sticky"
    # The last agent away: round robin instead.
    presence_set(shop=shop, agent=team["p1"], status="away", by=team["p1"], at=later)
    buyer_msg(shop, "b1", mid="m4", at=later + dt.timedelta(hours=2))
    assert owner(shop, "b1").assignee_id == team["p3"].id
    # Sticky can be switched off.
    routing_settings_update(shop=shop, sticky=False)
    buyer_msg(shop, "b1", mid="m5", at=later + dt.timedelta(hours=4))
    assert owner(shop, "b1").assignee_id == team["p2"].id


def test_messages_of_one_conversation_stay_with_its_owner(shop, team):
    buyer_msg(shop, "b1", mid="m1")
    buyer_msg(shop, "b1", mid="m2", at=NOW + dt.timedelta(minutes=5))
    conv = owner(shop, "b1")
    assert conv.message_count == 2 and conv.assignee_id == team["p1"].id
    assert set(Message.objects.values_list("agent_id", flat=True)) == {team["p1"].id}
    assert conv.events.count() == 1


def test_group_after_sales_by_paid_order_and_words_or_open_case(shop, team):
    from kefu.customers.models import Customer

    buyer_msg(shop, "b1", mid="m0", text="你好")  # presales; creates the customer
    cust = Customer.objects.get(shop=shop, buyer_id="b1")
    Order.objects.create(shop=shop, order_id="o1", customer=cust, status="shipped", paid_amount=Decimal("99.00"),
                         created_at=NOW - dt.timedelta(days=3), paid_at=NOW - dt.timedelta(days=3))
    later = NOW + dt.timedelta(hours=1)
    buyer_msg(shop, "b1", mid="m1", at=later, text="收到的杯子破损了")
    assert owner(shop, "b1").group == "aftersales" and owner(shop, "b1").assignee_id == team["s1"].id
    buyer_msg(shop, "b1", mid="m2", at=later + dt.timedelta(hours=1), text="还有别的颜色吗")
    assert owner(shop, "b1").group == "presales"
    buyer_msg(shop, "b1", mid="m3", at=later + dt.timedelta(hours=2), text="看下这个", order_id="o1")
    assert owner(shop, "b1").group == "aftersales"
    # An order paid before the look-back window does not make it after-sales.
    Order.objects.filter(order_id="o1").update(paid_at=NOW - dt.timedelta(days=shop.aftersales_lookback_days + 1))
    buyer_msg(shop, "b1", mid="m4", at=later + dt.timedelta(hours=3), text="我要退货")
    assert owner(shop, "b1").group == "presales"
    # An open after-sales case does.
    from kefu.aftersales.models import Case

    Case.objects.create(shop=shop, order=Order.objects.get(order_id="o1"), type="return_refund", reason="quality")
    buyer_msg(shop, "b1", mid="m5", at=later + dt.timedelta(hours=4), text="你好")
    assert owner(shop, "b1").group == "aftersales"


def test_a_shop_without_after_sales_agents_routes_among_everyone(shop):
    a = person(shop, "全能")
    on_shift(shop, [a])
    from kefu.customers.models import Customer

    buyer_msg(shop, "b1", mid="m0", text="你好")
    cust = Customer.objects.get(buyer_id="b1")
    Order.objects.create(shop=shop, order_id="o1", customer=cust, status="paid", created_at=NOW, paid_at=NOW)
    buyer_msg(shop, "b1", mid="m1", at=NOW + dt.timedelta(hours=1), text="我要换货")
    conv = owner(shop, "b1")
    assert conv.group == "aftersales" and conv.assignee_id == a.id


def test_nobody_on_shift_or_online_queues_as_offline(shop):
    a = person(shop, "夜猫")
    on_shift(shop, [a], status="away")
    buyer_msg(shop, "b1", mid="m1")
    conv = owner(shop, "b1")
    assert conv.assignee_id is None and conv.queue_reason == QueueReason.OFFLINE
    assert conv.events.get().kind == "queued"
    # A second message of the queued conversation stays queued (no second event).
    buyer_msg(shop, "b1", mid="m2", at=NOW + dt.timedelta(minutes=3))
    assert owner(shop, "b1").events.count() == 1 and Message.objects.filter(agent__isnull=True).count() == 2
    # Unrouted messages count in no figure.
    assert not Reception.objects.exists()


def test_history_is_never_routed(shop, team):
    with pytest.raises(ValidationFailed):
        messages_clean([{"message_id": "h1", "buyer_id": "b1", "sender": "buyer", "sent_at": NOW.isoformat()}],
                       tz=shop.tz)
    rows = messages_clean([{"message_id": "h1", "buyer_id": "b1", "agent_id": "店铺:小三", "sender": "buyer",
                            "sent_at": NOW.isoformat()}], tz=shop.tz)
    messages_ingest(shop=shop, rows=rows)
    conv = owner(shop, "b1")
    assert conv.agent_id == team["p3"].id and conv.assignee_id is None and not conv.events.exists()
    # A live message continuing that conversation stays with its agent.
    buyer_msg(shop, "b1", mid="m2", at=NOW + dt.timedelta(minutes=1))
    conv = owner(shop, "b1")
    assert conv.assignee_id == team["p3"].id and Message.objects.get(message_id="m2").agent_id == team["p3"].id


def test_a_message_naming_its_agent_is_not_routed(shop, team):
    buyer_msg(shop, "b1", mid="m1", agent_id="店铺:小三")
    conv = owner(shop, "b1")
    assert conv.agent_id == team["p3"].id and not conv.events.exists()
    assert routing.routing_settings(shop).cursor_presales == 0
