"""Buyers arrive at the same moment (PostgreSQL): routing never gives an agent more than their cap."""

import time

import pytest

from kefu.conversations import routing
from kefu.conversations.models import Conversation, RoutingSettings
from kefu.core.services import shop_create
from tests.concurrency import race, require_postgresql

from .conftest import NOW, buyer_msg, on_shift, person

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_routings_do_not_exceed_the_cap(monkeypatch, settings, tmp_path):
    require_postgresql()
    settings.DATA_DIR = tmp_path
    shop = shop_create(code="race", name="并发店")
    a, b = person(shop, "甲"), person(shop, "乙")
    on_shift(shop, [a, b])
    RoutingSettings.objects.create(shop=shop, default_cap=2)
    # Widen the window between reading the loads and writing the assignment.
    slow = routing.agent_loads

    def loads_slowly(**kw):
        out = slow(**kw)
        time.sleep(0.05)
        return out

    monkeypatch.setattr(routing, "agent_loads", loads_slowly)
    results = race(lambda i: buyer_msg(shop, f"b{i}", mid=f"m{i}"), [(i,) for i in range(8)])
    assert not [r for r in results if isinstance(r, Exception)], results
    convs = Conversation.objects.filter(shop=shop)
    assert convs.count() == 8
    assert sorted(convs.filter(assignee__isnull=False).values_list("assignee_id", flat=True)) == [a.id, a.id, b.id, b.id]
    assert convs.filter(assignee__isnull=True, queue_reason="busy").count() == 4


def test_hand_out_and_new_arrivals_race_without_double_assignment(settings, tmp_path):
    require_postgresql()
    settings.DATA_DIR = tmp_path
    shop = shop_create(code="race2", name="并发店")
    for i in range(3):
        buyer_msg(shop, f"q{i}", mid=f"q{i}")  # nobody on shift: queued
    a = person(shop, "甲")
    on_shift(shop, [a])
    RoutingSettings.objects.filter(shop=shop).update(default_cap=2)
    results = race(lambda fn: fn(), [(lambda: routing.queue_hand_out(shop=shop, now=NOW),),
                                     (lambda: routing.queue_hand_out(shop=shop, now=NOW),),
                                     (lambda: buyer_msg(shop, "n1", mid="n1"),)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Conversation.objects.filter(shop=shop, assignee=a).count() == 2
    from kefu.outbound.models import OutboundMessage

    greeted = OutboundMessage.objects.filter(shop=shop, kind="offline_greeting")
    assert greeted.count() == len(set(greeted.values_list("conversation_id", flat=True))) <= 2


def test_transfer_and_an_import_of_the_same_buyer_do_not_deadlock(monkeypatch, settings, tmp_path):
    """A transfer of a queued conversation and a history import of its buyer write the same rows
    (buyer, conversation); both take the buyer before the conversation, so neither waits in a cycle."""
    require_postgresql()
    import datetime as dt

    from kefu.conversations.models import Conversation
    from kefu.conversations.services import conversation_transfer, messages_clean, messages_ingest
    from kefu.metrics import rebuild

    settings.DATA_DIR = tmp_path
    shop = shop_create(code="race3", name="并发店")
    buyer_msg(shop, "q1", mid="q1")  # nobody on shift: queued
    a = person(shop, "甲")
    on_shift(shop, [a])
    conv = Conversation.objects.get(shop=shop)
    # Hold each transaction's first lock a while, so the two interleave.
    slow_rebuild, slow_event = rebuild.load_messages, routing.event

    def rebuild_slowly(*args, **kw):
        time.sleep(0.3)
        return slow_rebuild(*args, **kw)

    def event_slowly(*args, **kw):
        out = slow_event(*args, **kw)
        time.sleep(0.3)
        return out

    monkeypatch.setattr(rebuild, "load_messages", rebuild_slowly)
    monkeypatch.setattr(routing, "event", event_slowly)
    # History of another agent's chat (so the transfer to 甲 is valid whichever commits first).
    history = messages_clean([{"message_id": "h1", "buyer_id": "q1", "agent_id": "店铺:乙", "sender": "buyer",
                               "sent_at": (NOW + dt.timedelta(seconds=30)).isoformat(), "text": "还在吗"}], tz=shop.tz)
    results = race(lambda fn: fn(), [
        (lambda: conversation_transfer(shop=shop, conversation=conv, to_agent=a, now=NOW),),
        (lambda: messages_ingest(shop=shop, rows=history),),
    ])
    assert not [r for r in results if isinstance(r, Exception)], results
    conv.refresh_from_db()
    assert conv.assignee_id == a.id and conv.message_count == 2
