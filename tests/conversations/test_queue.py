import datetime as dt
import json

import pytest

from kefu.conversations import jobs, routing
from kefu.conversations.models import Conversation, ConversationEvent, Message
from kefu.conversations.services import routing_settings_update
from kefu.core import scheduler
from kefu.metrics.models import Reception
from kefu.outbound.models import OutboundMessage
from kefu.outbound.services import send
from kefu.workforce.services import presence_set

from .conftest import NOW, buyer_msg, on_shift, person

pytestmark = pytest.mark.django_db
NIGHT = NOW - dt.timedelta(hours=9)  # 01:00 shop time, the day before NOW's shop day


@pytest.fixture
def night_queue(shop):
    """Two buyers wrote at night with nobody on shift; one agent starts at NOW."""
    a = person(shop, "早班")
    buyer_msg(shop, "b1", mid="m1", at=NIGHT, text="在吗")
    buyer_msg(shop, "b1", mid="m2", at=NIGHT + dt.timedelta(minutes=1), text="这个有货吗")
    buyer_msg(shop, "b2", mid="m3", at=NIGHT + dt.timedelta(minutes=5))
    on_shift(shop, [a])
    return a


def test_shift_start_hands_out_the_queue_with_the_offline_greeting_once(shop, night_queue, outbox_dir,
                                                                       django_capture_on_commit_callbacks):
    routing_settings_update(shop=shop, offline_greeting="mm你好---我是{shop}家的客服{agent}:)")
    assert Conversation.objects.filter(queue_reason="offline", assignee__isnull=True).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        done = routing.queue_hand_out(shop=shop, now=NOW)
    assert len(done) == 2
    for conv in Conversation.objects.filter(pk__in=done):
        assert conv.assignee_id == night_queue.id and conv.queued_at is None
        assert [e.kind for e in conv.events.all()] == ["queued", "handed_out", "greeted"]
    assert Message.objects.filter(agent=night_queue, sender="buyer").count() == 3
    # The buyers' waiting turns now belong to the agent (facts rebuilt).
    assert Reception.objects.filter(agent=night_queue).count() == 2
    greetings = OutboundMessage.objects.filter(kind="offline_greeting")
    assert greetings.count() == 2
    assert greetings.first().text == "mm你好---我是测试旗舰店家的客服早班:)"
    lines = (outbox_dir / "s1.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["kind"] == "offline_greeting"
    # Run again (a second scheduler, a restart): nothing more happens.
    with django_capture_on_commit_callbacks(execute=True):
        assert routing.queue_hand_out(shop=shop, now=NOW + dt.timedelta(minutes=1)) == []
    assert OutboundMessage.objects.count() == 2
    assert len((outbox_dir / "s1.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_greeting_is_not_sent_twice_after_a_crash_between_greeting_and_assignment(shop, night_queue):
    conv = Conversation.objects.filter(customer__buyer_id="b1").get()
    send(shop=shop, channel="generic", to_buyer=conv.customer, text="早", key=f"offline-greeting:{conv.id}",
         conversation=conv, kind="offline_greeting")
    routing.queue_hand_out(shop=shop, now=NOW)
    assert OutboundMessage.objects.filter(conversation=conv).count() == 1
    assert not ConversationEvent.objects.filter(conversation=conv, kind="greeted").exists()
    conv.refresh_from_db()
    assert conv.assignee_id == night_queue.id


def test_queue_waits_while_nobody_is_online(shop, night_queue):
    presence_set(shop=shop, agent=night_queue, status="away", by=night_queue, at=NOW)
    assert routing.queue_hand_out(shop=shop, now=NOW) == []
    assert jobs._hand_out_minute(shop, NOW) is None
    presence_set(shop=shop, agent=night_queue, status="online", by=night_queue, at=NOW)
    assert jobs._hand_out_minute(shop, NOW) == "2026-11-02T02:00"


def test_hand_out_respects_the_cap_and_keeps_the_rest_queued(shop, night_queue):
    routing_settings_update(shop=shop, default_cap=1)
    done = routing.queue_hand_out(shop=shop, now=NIGHT + dt.timedelta(minutes=10))
    assert len(done) == 1
    assert Conversation.objects.filter(assignee__isnull=True, queued_at__isnull=False).count() == 1


def test_the_scheduler_fires_the_rule_once_per_minute(shop, night_queue, monkeypatch):
    monkeypatch.setattr(scheduler, "jobs", lambda: jobs.JOBS)
    assert "kefu.conversations.jobs" in scheduler.JOB_MODULES
    fired = scheduler.tick(NOW)
    fired_again = scheduler.tick(NOW + dt.timedelta(seconds=20))
    assert [f[0] for f in fired] == ["conversations.queue_hand_out"] and fired_again == []


def test_nothing_queued_means_no_job(shop):
    assert jobs._hand_out_minute(shop, NOW) is None
