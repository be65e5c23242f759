"""Webhooks (AUTO-4): signatures, retries with back-off against a local receiver that fails then
succeeds, no delivery acknowledged twice, stable event ids, the delivery log, manual redelivery,
automatic disabling with a notification, outbox atomicity and crash recovery."""

import datetime as dt
import time
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from kefu.approvals.models import Notification
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.scheduler import tick
from kefu.core.services import person_create
from kefu.integrations.enums import DeliveryState
from kefu.integrations.events import event_emit
from kefu.integrations.models import OutboxEvent, WebhookAttempt, WebhookDelivery
from kefu.integrations.outbox import outbox_sweep
from kefu.integrations.webhooks import (
    backoff,
    delivery_attempt,
    delivery_redeliver,
    sign,
    signature_valid,
    subscription_save,
    url_resolve,
)
from tests.integrations.conftest import receiver_module, run_ready_tasks

pytestmark = pytest.mark.django_db
DATA = {"conversation_id": 7, "buyer_id": "tb_1", "reopened": False}


def subscribe(shop, manager, url, types=("conversation.closed",)):
    return subscription_save(shop=shop, actor=manager, name="ERP", url=url, event_types=list(types))


def emit_committed(shop, django_capture_on_commit_callbacks, data=DATA):
    """Emit as a service would and let its commit hooks run (rules, then deliveries created)."""
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            event_emit(shop=shop, type="conversation.closed", subject=("conversation", 7), data=data)
    return OutboxEvent.objects.get()


def test_signature_round_trip_and_replay_window():
    body = b'{"id":"e1"}'
    ts = int(time.time())
    sig = sign(secret="s3cret", timestamp=ts, body=body)
    assert sig.startswith("v1=") and signature_valid(secret="s3cret", timestamp=str(ts), body=body, signature=sig)
    assert not signature_valid(secret="s3cret", timestamp=str(ts), body=body + b" ", signature=sig)
    assert not signature_valid(secret="other", timestamp=str(ts), body=body, signature=sig)
    assert not signature_valid(secret="s3cret", timestamp=str(ts - 301), body=body, signature=sig, now=ts)
    # the README's receiver agrees with the sender
    rx = receiver_module()
    assert rx.verify("s3cret", str(ts), body, sig, now=ts)
    assert not rx.verify("s3cret", str(ts), body, sig, now=ts + 301)
    assert not rx.verify("s3cret", str(ts), b'{"id":"e2"}', sig, now=ts)


def test_retries_until_the_receiver_answers_then_never_again(shop, manager, receiver,
                                                             django_capture_on_commit_callbacks):
    sub = subscribe(shop, manager, receiver.url)
    receiver.script = [500, 503]
    event = emit_committed(shop, django_capture_on_commit_callbacks)
    d = WebhookDelivery.objects.get()
    assert (d.subscription, d.event, d.state) == (sub, event, DeliveryState.PENDING)
    t0 = timezone.now()
    d1 = delivery_attempt(delivery_id=d.pk, now=t0)
    assert (d1.state, d1.attempts, d1.status_code) == (DeliveryState.PENDING, 1, 500)
    assert d1.next_attempt_at == t0 + dt.timedelta(minutes=1) and "boom" in d1.response
    assert delivery_attempt(delivery_id=d.pk, now=t0 + dt.timedelta(seconds=30)) is None  # not due: nothing sent
    d2 = delivery_attempt(delivery_id=d.pk, now=t0 + dt.timedelta(minutes=1))
    assert (d2.state, d2.status_code, d2.next_attempt_at) == (DeliveryState.PENDING, 503, t0 + dt.timedelta(minutes=3))
    d3 = delivery_attempt(delivery_id=d.pk, now=t0 + dt.timedelta(minutes=3))
    assert (d3.state, d3.status_code, d3.attempts) == (DeliveryState.SUCCEEDED, 200, 3)
    # a resent task finds it done: the receiver acknowledges it once
    assert delivery_attempt(delivery_id=d.pk, now=t0 + dt.timedelta(hours=1)) is None
    assert [g["status"] for g in receiver.got] == [500, 503, 200]
    # the same event id on every try, a valid signature each time, the documented body
    ids = {g["headers"]["X-Kefu-Event-Id"] for g in receiver.got}
    assert ids == {str(event.event_id)} and all(g["json"]["id"] == str(event.event_id) for g in receiver.got)
    rx = receiver_module()
    for g in receiver.got:
        h = g["headers"]
        assert rx.verify(sub.secret, h["X-Kefu-Timestamp"], g["body"], h["X-Kefu-Signature"])
        assert h["X-Kefu-Event"] == "conversation.closed"
    body = receiver.got[-1]["json"]
    assert (body["type"], body["shop"], body["data"], body["subject"]) == (
        "conversation.closed", "s1", DATA, {"kind": "conversation", "id": 7})
    # the delivery log: every attempt with its status, latency and answer
    log = list(WebhookAttempt.objects.filter(delivery=d).order_by("number"))
    assert [(a.number, a.status_code) for a in log] == [(1, 500), (2, 503), (3, 200)]
    assert all(a.latency_ms >= 0 for a in log) and log[0].response.startswith("boom")
    sub.refresh_from_db()
    assert (sub.failures, sub.failing_since, sub.active) == (0, None, True)


def test_backoff_doubles_up_to_six_hours_and_gives_up_after_a_day(shop, manager, receiver,
                                                                 django_capture_on_commit_callbacks):
    assert [backoff(n) for n in (1, 2, 3, 10)] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 360)]
    subscribe(shop, manager, receiver.url)
    receiver.script = [500] * 50
    event = emit_committed(shop, django_capture_on_commit_callbacks)
    d = WebhookDelivery.objects.get()
    now, n = event.created_at, 0
    while True:
        got = delivery_attempt(delivery_id=d.pk, now=now)
        n += 1
        if got.state != DeliveryState.PENDING:
            break
        now = got.next_attempt_at
    # tried for 24 h (1+2+…+256 min, then every 6 h), then gave up
    assert got.state == DeliveryState.FAILED and n == 12
    assert now - event.created_at < dt.timedelta(hours=24)
    sub = got.subscription
    sub.refresh_from_db()
    assert not sub.active and "连续失败 12 次" in sub.disabled_reason
    note = Notification.objects.get(recipient=manager)
    assert "已自动停用" in note.text and str(sub.pk) in note.link
    # a disabled subscription gets no new deliveries
    emit_committed(shop, django_capture_on_commit_callbacks)
    assert WebhookDelivery.objects.count() == 1


def test_manual_redelivery_keeps_the_event_id(shop, manager, receiver, django_capture_on_commit_callbacks):
    subscribe(shop, manager, receiver.url)
    event = emit_committed(shop, django_capture_on_commit_callbacks)
    d = delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    assert d.state == DeliveryState.SUCCEEDED
    agent = person_create(shop=shop, name="甲", username="a1", password="pass-word-1", roles=["agent"])
    with pytest.raises(PermissionDenied):
        delivery_redeliver(shop=shop, actor=agent, delivery=d)
    again = delivery_redeliver(shop=shop, actor=manager, delivery=d)
    assert again.attempts == 2 and again.state == DeliveryState.SUCCEEDED
    assert [g["json"]["id"] for g in receiver.got] == [str(event.event_id)] * 2
    assert WebhookAttempt.objects.filter(delivery=d, manual=True).count() == 1


def test_only_wanted_types_and_active_subscriptions(shop, manager, receiver, django_capture_on_commit_callbacks):
    subscribe(shop, manager, receiver.url, types=["order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        event_emit(shop=shop, type="conversation.closed", subject=("conversation", 7), data=DATA)
    # nobody listens: no outbox row at all
    assert not OutboxEvent.objects.exists()


def test_an_exception_after_the_change_writes_no_event(shop, manager, receiver):
    subscribe(shop, manager, receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        event_emit(shop=shop, type="conversation.closed", subject=("conversation", 7), data=DATA)
        raise RuntimeError("the service failed after its change")
    assert not OutboxEvent.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_crash_between_commit_and_dispatch_delivers_after_restart(shop, manager, receiver,
                                                                   django_capture_on_commit_callbacks):
    """The commit hooks never run (the process died right after the commit): the scheduler's
    sweep finds the event, the worker delivers it, once."""
    subscribe(shop, manager, receiver.url)
    with django_capture_on_commit_callbacks(execute=False) as lost:
        event_emit(shop=shop, type="conversation.closed", subject=("conversation", 7), data=DATA)
    assert len(lost) == 1
    event = OutboxEvent.objects.get()
    assert event.dispatched_at is None and not WebhookDelivery.objects.exists()
    # restart a couple of minutes later: the scheduler fires the sweep, the worker runs it and
    # then the delivery it queued
    OutboxEvent.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    later = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):  # (the test runs in one transaction)
        assert ("integrations.sweep", "s1", later.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")) in tick(now=later)
    ran = []
    for _ in range(2):  # the sweep task, then the delivery task it queued
        with django_capture_on_commit_callbacks(execute=True):
            ran += run_ready_tasks()
    assert "outbox_sweep_task" in ran and "webhook_deliver_task" in ran
    d = WebhookDelivery.objects.get()
    assert d.state == DeliveryState.SUCCEEDED and [g["json"]["id"] for g in receiver.got] == [str(event.event_id)]
    # sweeping again sends nothing more
    assert outbox_sweep(now=timezone.now() + dt.timedelta(minutes=5)) == {"events": 0, "deliveries": 0}
    with django_capture_on_commit_callbacks(execute=True):
        run_ready_tasks()
    assert len(receiver.got) == 1


def test_urls_only_http_and_no_link_local(settings, shop, manager):
    for bad in ("ftp://example.com/x", "file:///etc/passwd", "http://user:pw@127.0.0.1/", "http://169.254.169.254/",
                "http://[fe80::1]/", "http://0.0.0.0/", "gopher://127.0.0.1/"):
        with pytest.raises(KefuError) as exc:
            url_resolve(bad)
        assert exc.value.field == "url"
    assert url_resolve("http://127.0.0.1:9/x")[3] == ["127.0.0.1"]  # an intranet receiver is allowed by default
    settings.KEFU_WEBHOOK_ALLOW_PRIVATE = False
    for bad in ("http://127.0.0.1/", "http://10.1.2.3/", "http://192.168.1.10/", "http://100.64.0.1/"):
        with pytest.raises(KefuError, match="private"):
            subscription_save(shop=shop, actor=manager, name="x", url=bad, event_types=["*"])


def test_only_managers_subscribe_and_types_are_known(shop, manager, receiver):
    agent = person_create(shop=shop, name="甲", username="a1", password="pass-word-1", roles=["agent"])
    with pytest.raises(PermissionDenied):
        subscription_save(shop=shop, actor=agent, name="x", url=receiver.url, event_types=["*"])
    with pytest.raises(KefuError, match="unknown event type"):
        subscription_save(shop=shop, actor=manager, name="x", url=receiver.url, event_types=["order.exploded"])
    sub = subscription_save(shop=shop, actor=manager, name="x", url=receiver.url, event_types=["*"])
    assert sub.secret.startswith("whsec_") and len(sub.secret) > 30 and sub.wants("message.created")
    assert uuid.UUID(str(OutboxEvent(shop=shop).event_id))


KILLED_AFTER_COMMIT = """
import os, django
django.setup()
from django.db import transaction
from kefu.core.models import Shop
from kefu.integrations.events import event_emit
with transaction.atomic():
    transaction.on_commit(lambda: os.kill(os.getpid(), 9))  # dies right after the commit, before dispatch
    event_emit(shop=Shop.objects.get(code="s1"), type="conversation.closed", subject=("conversation", 7), data=%r)
"""


@pytest.mark.django_db(transaction=True)
def test_kill_9_between_commit_and_delivery_delivers_after_restart(shop, manager, receiver):
    """A real process killed with SIGKILL right after committing its change (PostgreSQL: the test
    database is shared with the child process)."""
    import os
    import subprocess
    import sys

    from django.db import connection

    from tests.concurrency import require_postgresql

    require_postgresql()
    subscribe(shop, manager, receiver.url)
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kefu.settings",
           "KEFU_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    child = subprocess.run([sys.executable, "-c", KILLED_AFTER_COMMIT % (DATA,)], env=env, timeout=120)
    assert child.returncode == -9
    event = OutboxEvent.objects.get()  # committed: the change and its event together
    assert event.dispatched_at is None and not receiver.got
    OutboxEvent.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    tick(now=timezone.now())  # the scheduler after the restart
    run_ready_tasks()
    run_ready_tasks()
    assert [g["json"]["id"] for g in receiver.got] == [str(event.event_id)]
    assert WebhookDelivery.objects.get().state == DeliveryState.SUCCEEDED


def test_message_created_names_the_conversation_the_worker_has_not_extended_yet(shop, manager, api, settings,
                                                                                  django_capture_on_commit_callbacks):
    """Conversations are rebuilt by the worker after the request (ADR 0004); only a buyer's message
    is routed at once. The agent's reply in an ongoing chat is still that chat's, although the
    stored conversation ends before it."""
    import json

    from kefu.conversations.models import Conversation
    from kefu.metrics.queue import facts_drain

    settings.KEFU_FACTS_INLINE = False
    subscription_save(shop=shop, actor=manager, name="crm", url="http://127.0.0.1:9/hook", event_types=["message.created"])
    t0 = timezone.now() - dt.timedelta(hours=2)

    def post(mid, at, sender="buyer"):
        body = {"message_id": mid, "buyer_id": "tb_7", "sender": sender, "sent_at": at.isoformat(), "text": "在吗"}
        if sender == "agent":
            body["agent_id"] = "店铺:小美"
        with django_capture_on_commit_callbacks(execute=False):
            r = api.post("/api/v1/messages", data=json.dumps(body), content_type="application/json")
        assert r.status_code == 200, r.content
        return OutboxEvent.objects.get(type="message.created", data__message_id=mid).data["conversation_id"]

    first = post("m1", t0)
    facts_drain(shop=shop)
    conv = Conversation.objects.get(shop=shop)
    assert first == conv.pk
    assert post("m2", t0 + dt.timedelta(minutes=3), sender="agent") == conv.pk  # the reply, same chat
    gap = dt.timedelta(minutes=shop.conversation_gap_minutes)
    # An agent's message after the gap opens a chat the worker has not built yet: none to name.
    assert post("m3", t0 + dt.timedelta(minutes=4) + gap, sender="agent") is None
    facts_drain(shop=shop)
    assert Conversation.objects.get(shop=shop, first_message__message_id="m1").pk == conv.pk
    assert Conversation.objects.filter(shop=shop).count() == 2
