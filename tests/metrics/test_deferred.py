"""The deferred rebuild (ADR 0004): ingestion marks buyers, the worker drains them.

Figures are exact once drained, whatever the interleaving of ingests, drains and reports; a
report says how stale it is; a crash between the commit and the rebuild, or inside a rebuild,
loses nothing; two workers never rebuild one buyer at once and lose no update (PostgreSQL).
"""

import datetime as dt
import json
import random
import threading
import time

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.conversations.models import Conversation, Message
from kefu.core.services import shop_create, token_create
from kefu.metrics import queue, rebuild
from kefu.metrics.audit import rollup_differences
from kefu.metrics.kpi import kpi_report
from kefu.metrics.models import AgentDay, DirtyBuyer, Reception
from tests.concurrency import require_postgresql

from .kit import assert_matches_oracle, send_messages, send_orders

D0 = dt.date(2026, 3, 10)
TZ = "Asia/Shanghai"


@pytest.fixture(autouse=True)
def _deferred(settings, monkeypatch):
    settings.KEFU_FACTS_INLINE = False
    monkeypatch.setattr(queue, "_lease_until", 0.0)  # the process's memory of a drain's promise
    monkeypatch.setattr(queue, "LEASE_SECONDS", 0.3)  # a drain task lingers this long (not 2 s) here
    monkeypatch.setattr(queue, "POLL_SECONDS", 0.02)


def at(day: int, h: int, m: int = 0, s: int = 0) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(D0 + dt.timedelta(days=day), dt.time(h, m, s), tzinfo=ZoneInfo(TZ))


def msg(mid, sender, agent, when, buyer="tb_x", order=""):
    return {"message_id": mid, "buyer_id": buyer, "agent_id": agent, "sender": sender, "sent_at": when, "order_id": order}


def order(oid, created, paid=None, amount="100.00", buyer="tb_x"):
    from decimal import Decimal

    return {"order_id": oid, "buyer_id": buyer, "created_at": created, "paid_at": paid, "closed_at": None,
            "refunded_at": None, "paid_amount": Decimal(amount), "refund_amount": Decimal("0.00")}


@pytest.mark.django_db
def test_ingest_answers_before_the_facts_and_the_drain_brings_them(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as kicks:
        send_messages(shop, [msg("m1", "buyer", "客服A", at(0, 10)), msg("m2", "agent", "客服A", at(0, 10, 0, 40))])
    assert len(kicks) == 1  # the drain is queued after the commit
    assert Message.objects.filter(shop=shop).count() == 2
    assert not Reception.objects.filter(shop=shop).exists()  # not yet in the figures …
    assert DirtyBuyer.objects.filter(shop=shop).count() == 1
    report = kpi_report(shop=shop, date_from=D0, date_to=D0)
    assert report["agents"] == [] and report["lag_seconds"] >= 0
    later = DirtyBuyer.objects.get(shop=shop).marked_at + dt.timedelta(seconds=7)
    assert queue.facts_lag(shop=shop, now=later) == 7.0  # … and the report says how far behind it is
    assert queue.facts_drain(shop=shop) == 1
    assert not DirtyBuyer.objects.filter(shop=shop).exists()
    report = kpi_report(shop=shop, date_from=D0, date_to=D0)
    assert report["lag_seconds"] == 0
    assert report["agents"][0]["receptions"] == 1 and report["agents"][0]["response_seconds"] == 40
    assert Conversation.objects.get(shop=shop).message_count == 2


@pytest.mark.django_db
def test_marks_of_one_buyer_coalesce_into_one_rebuild(shop, monkeypatch):
    for i in range(5):
        send_messages(shop, [msg(f"m{i}", "buyer", "客服A", at(0, 10, i))])
    send_orders(shop, [order("o1", at(0, 11), at(0, 11))])
    assert DirtyBuyer.objects.filter(shop=shop).count() == 6
    calls = []
    real = rebuild.buyers_rebuild
    monkeypatch.setattr(queue, "buyers_rebuild", lambda **kw: calls.append(list(kw["ids"])) or real(**kw))
    assert queue.facts_drain(shop=shop) == 1
    assert len(calls) == 1 and len(calls[0]) == 1
    assert not DirtyBuyer.objects.exists()


@pytest.mark.django_db
def test_the_drain_steps_aside_for_waiting_writers_before_every_pass(shop, monkeypatch):
    """On SQLite a request's write waiting for the lock goes before the drain's next pass
    (kefu.core.sqlite3.writers_yield; tests/core/test_sqlite_writers.py shows the turn it gets)."""
    send_messages(shop, [msg(f"m{i}", "buyer", "客服A", at(0, 10, i), buyer=f"tb_{i}") for i in range(5)])
    events = []
    real = queue.drain_pass
    monkeypatch.setattr(queue, "writers_yield", lambda: events.append("yield") or 0.0)
    monkeypatch.setattr(queue, "drain_pass", lambda **kw: events.append("pass") or real(**kw))
    assert queue.facts_drain(shop=shop, buyers=2) == 5
    assert events == ["yield", "pass"] * 4  # 2 + 2 + 1 buyers, then the pass that finds none


@pytest.mark.django_db
def test_drain_kick_queues_one_task_while_one_waits(shop):
    from django_tasks_db.models import DBTaskResult

    from kefu.metrics.tasks import facts_drain_task

    queue.drain_kick()
    queue.drain_kick()
    waiting = DBTaskResult.objects.ready().filter(task_path=facts_drain_task.module_path)
    assert waiting.count() == 1
    waiting.update(status="RUNNING")  # a started drain may have read the marks already: queue another
    queue.drain_kick()
    assert DBTaskResult.objects.ready().filter(task_path=facts_drain_task.module_path).count() == 1


def _drain_tasks():
    from django_tasks_db.models import DBTaskResult

    from kefu.metrics.tasks import facts_drain_task

    return DBTaskResult.objects.filter(task_path=facts_drain_task.module_path)


@pytest.mark.django_db
def test_a_drains_promise_spares_the_check_and_a_broken_one_is_not_trusted(shop, monkeypatch):
    monkeypatch.setattr(queue, "LEASE_SECONDS", 60)
    queue.lease_renew()  # a running drain promises to look for new marks after `until`
    queue.drain_kick()
    queue.drain_kick()
    assert not _drain_tasks().exists()  # it will see these marks: no task queued
    queue.drain_kick(force=True)  # the scheduler's stale check trusts no promise (its drain may be dead)
    assert _drain_tasks().count() == 1
    _drain_tasks().delete()
    monkeypatch.setattr(queue, "_lease_until", 0.0)
    from kefu.metrics.models import DrainLease

    DrainLease.objects.update(until=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=queue.LEASE_MARGIN / 2))
    queue.drain_kick()  # a promise about to run out (within the margin for clocks) is not trusted
    assert _drain_tasks().count() == 1


@pytest.mark.django_db
def test_a_lingering_drain_takes_the_marks_that_arrive_meanwhile(shop, monkeypatch):
    """A stream of ingests while a drain task runs queues no further task: the task looks for new
    marks until its promise runs out, and drains them."""
    send_messages(shop, [msg("m0", "buyer", "客服A", at(0, 10), buyer="b0")])
    sent = []

    class Clock:  # the queue's time, advanced by its sleeps: no real waiting, no timing in the test
        now = time.time()

        def time(self):
            return self.now

        def monotonic(self):
            return self.now

        def sleep(self, s):  # while the task lingers, more messages come, each kicking the drain
            if len(sent) < 5:
                n = len(sent) + 1
                send_messages(shop, [msg(f"m{n}", "buyer", "客服A", at(0, 10, n), buyer=f"b{n}")])
                queue.drain_kick()
                sent.append(n)
            self.now += s

    monkeypatch.setattr(queue, "LEASE_SECONDS", 2.0)
    monkeypatch.setattr(queue, "POLL_SECONDS", 0.2)
    monkeypatch.setattr(queue, "time", Clock())
    from kefu.metrics.tasks import facts_drain_task

    assert facts_drain_task.call() == 6  # b0, then b1 … b5 as they came
    assert len(sent) == 5 and not DirtyBuyer.objects.exists()
    assert not _drain_tasks().exists()  # no task queued for them
    assert Reception.objects.filter(shop=shop).count() == 6


@pytest.mark.django_db
def test_a_drain_past_its_time_hands_over_to_a_successor(shop, monkeypatch):
    send_messages(shop, [msg("m0", "buyer", "客服A", at(0, 10))])
    monkeypatch.setattr(queue, "facts_drain", lambda **kw: 0)  # as if every buyer were held elsewhere
    assert queue.facts_drain_linger(seconds=0) == 0
    successor = _drain_tasks().get(status="READY")  # the rest is queued, not dropped …
    assert successor.priority == 0  # … behind the tasks already waiting
    assert DirtyBuyer.objects.exists()


@pytest.mark.django_db
def test_drain_task_and_stale_check_job(shop):
    from kefu.metrics.jobs import STALE_SECONDS, _stale_minute
    from kefu.metrics.tasks import facts_drain_task

    send_messages(shop, [msg("m1", "buyer", "客服A", at(0, 10))])
    mark = DirtyBuyer.objects.get(shop=shop)
    assert _stale_minute(shop, mark.marked_at + dt.timedelta(seconds=STALE_SECONDS - 1)) is None
    assert _stale_minute(shop, mark.marked_at + dt.timedelta(seconds=STALE_SECONDS + 1)) is not None
    assert facts_drain_task.call() == 1
    assert _stale_minute(shop, mark.marked_at + dt.timedelta(hours=1)) is None
    assert AgentDay.objects.filter(shop=shop).exists()


@pytest.mark.django_db
def test_a_failing_rebuild_keeps_its_marks_and_does_not_block_the_queue(shop, monkeypatch, caplog):
    send_messages(shop, [msg("m1", "buyer", "客服A", at(0, 10), buyer="bad"),
                         msg("m2", "agent", "客服A", at(0, 10, 1), buyer="bad")])
    send_messages(shop, [msg("m3", "buyer", "客服B", at(0, 11), buyer="good")])
    bad = Message.objects.get(message_id="m1").customer_id
    first_mark = DirtyBuyer.objects.get(customer_id=bad).marked_at
    steps = rebuild.rebuild_steps()

    def crash(batch):
        if bad in batch.ids:
            raise RuntimeError("a bug in a step")

    monkeypatch.setattr(rebuild, "rebuild_steps", lambda: (*steps, crash))
    assert queue.facts_drain(shop=shop) == 1  # the good buyer, though its mark came later
    assert "a bug in a step" in caplog.text
    # the failed buyer's pass rolled back as a whole (its conversation, written by the first step,
    # is gone again) and its mark waits at the end of the queue with its original time
    mark = DirtyBuyer.objects.get(shop=shop)
    assert mark.customer_id == bad and mark.marked_at == first_mark
    assert not Conversation.objects.filter(customer_id=bad).exists()
    assert Conversation.objects.filter(shop=shop).count() == 1
    monkeypatch.undo()
    assert queue.facts_drain(shop=shop) == 1
    assert rollup_differences(shop=shop) == []


@pytest.mark.django_db
def test_settings_change_while_marks_wait_clears_them(shop):
    from kefu.core.services import shop_settings_update

    msgs = [msg("m1", "buyer", "客服A", at(0, 10)), msg("m2", "agent", "客服A", at(0, 10, 5))]
    send_messages(shop, msgs)
    shop = shop_settings_update(shop=shop, slow_turn_seconds=60)
    assert not DirtyBuyer.objects.filter(shop=shop).exists()  # rebuilt with the rest of the shop
    assert_matches_oracle(shop, msgs, [], D0, D0)


# --- interleaving ingests, drains and reports ---------------------------------------------------

AGENTS = ("客服A", "客服B")


@st.composite
def streams(draw):
    n = draw(st.integers(2, 14))
    messages = []
    for i in range(n):
        buyer = draw(st.sampled_from(["b1", "b2", "b3"]))
        sender = draw(st.sampled_from(["buyer", "buyer", "agent"]))
        messages.append(msg(f"m{i}", sender, draw(st.sampled_from(AGENTS)),
                            at(draw(st.integers(0, 2)), draw(st.integers(8, 20)), draw(st.integers(0, 59))), buyer))
    orders = [order(f"o{i}", at(d, 21), at(d, 21, 5) if draw(st.booleans()) else None, buyer=b)
              for i, (b, d) in enumerate(draw(st.lists(st.tuples(st.sampled_from(["b1", "b2", "b3"]),
                                                                   st.integers(0, 2)), max_size=4)))]
    items = [("m", m) for m in messages] + [("o", o) for o in orders]
    items = draw(st.permutations(items))
    # after each item: 0 = nothing, 1 = a drain pass of one buyer, 2 = a report, 3 = drain all
    steps = [draw(st.integers(0, 3)) for _ in items]
    return messages, orders, list(zip(items, steps, strict=True))


_n = iter(range(10**6))


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=streams())
def test_ingests_interleaved_with_reports_and_drains_end_exact(data):
    messages, orders, plan = data
    shop = shop_create(code=f"i{next(_n)}", name="交错", timezone_name=TZ)
    sent_m, sent_o = [], []
    for (kind, row), step in plan:
        if kind == "m":
            send_messages(shop, [row])
            sent_m.append(row)
        else:
            send_orders(shop, [row])
            sent_o.append(row)
        if step == 1:
            queue.drain_pass(shop_id=shop.id, buyers=1)
        elif step == 2:
            report = kpi_report(shop=shop, date_from=D0, date_to=D0 + dt.timedelta(days=2))
            if not DirtyBuyer.objects.filter(shop=shop).exists():
                assert report["lag_seconds"] == 0
        elif step == 3:  # drained at this point: exact for what was sent so far
            assert_matches_oracle(shop, sent_m, sent_o, D0, D0 + dt.timedelta(days=2))
    assert_matches_oracle(shop, messages, orders, D0 - dt.timedelta(days=1), D0 + dt.timedelta(days=3))
    for d in range(3):
        assert_matches_oracle(shop, messages, orders, D0 + dt.timedelta(days=d), D0 + dt.timedelta(days=d))
    assert rollup_differences(shop=shop) == []


# --- the single-message path --------------------------------------------------------------------


def _kinds(ctx) -> list[str]:
    """Each statement of a request as one word: what it is, on which table."""
    out = []
    for q in ctx.captured_queries:
        sql = q["sql"].lstrip()
        verb = sql.split()[0].upper()
        if verb in ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"):
            out.append(verb.lower())
            continue
        table = next((t for t in ("integrationtoken", "customers_customer", "conversations_message", "dirtybuyer",
                                  "webhooksubscription", "dbtaskresult", "agentaccount", "core_agent")
                      if t in sql), sql[:80])
        out.append(f"{verb.lower()} {table}")
    return out


@pytest.mark.django_db
def test_message_post_costs_a_fixed_handful_of_queries(shop, django_capture_on_commit_callbacks, monkeypatch):
    """The ingest request's statements, pinned: one message and a batch of 100 cost the same few,
    whatever the buyers' history (facts, roll-ups and conversations are the worker's)."""
    from django.test import Client
    from django_tasks_db.models import DBTaskResult

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(shop=shop, name='t')[1]}")

    def body(i, buyer, agent="客服A"):
        return {"message_id": f"q{i}", "buyer_id": buyer, "agent_id": agent, "sender": "buyer",
                "sent_at": "2026-03-10T10:00:00", "text": "在吗"}

    def post(payload):
        with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
            r = api.post("/api/v1/messages", json.dumps(payload), content_type="application/json")
        assert r.status_code == 200, r.content
        return r.json(), _kinds(ctx)

    out, sql = post(body(0, "b0"))  # first sight of the buyer and the agent creates them
    assert out["created"] == 1 and sql[-1] == "insert dbtaskresult"  # and a drain is queued
    out, sql = post(body(1, "b0"))
    assert out["created"] == 1
    # token with its shop and whether anyone listens (nobody: no statement for the listeners of
    # message.created); the known buyer and agent in one statement; the message (ON CONFLICT …
    # RETURNING); the buyer's mark; after the commit the drain-task check (one waits, as no worker
    # runs here: no INSERT).
    lean = ["select integrationtoken", "savepoint", "select customers_customer", "insert conversations_message",
            "insert dirtybuyer", "release", "select dbtaskresult"]
    assert sql == lean, sql
    out, sql = post(body(1, "b0"))  # a resend
    assert out == {"created": 0, "duplicates": 1, "updated": 0}
    assert "insert dirtybuyer" not in sql and "select dbtaskresult" not in sql  # nothing to rebuild

    # 100 messages of 20 known buyers and 5 known agents: the same statements, one of each.
    post({"messages": [body(100 + i, f"b{i % 20}", f"客服{i % 5}") for i in range(20)]})
    out, sql = post({"messages": [body(200 + i, f"b{i % 20}", f"客服{i % 5}") for i in range(100)]})
    assert out["created"] == 100 and sql == lean, sql
    assert DirtyBuyer.objects.filter(shop=shop).count() == 1 + 1 + 20 + 20  # one mark per buyer and request

    # New buyers and agents cost a fixed few more (found, created, read back), not one per row.
    out, sql = post({"messages": [body(400 + i, f"new{i % 30}", f"新客服{i % 3}") for i in range(100)]})
    assert out["created"] == 100
    assert len(sql) <= len(lean) + 8, sql

    # While a drain task runs (its promise read once), a stream of single messages costs no
    # statement after the commit and queues no further drain task.
    from kefu.metrics.tasks import facts_drain_task

    monkeypatch.setattr(queue, "LEASE_SECONDS", 60)
    queue.lease_renew()
    tasks = DBTaskResult.objects.filter(task_path=facts_drain_task.module_path).count()
    out, sql = post(body(500, "b0"))
    assert sql == lean, sql  # this process learns of the promise …
    for i in range(20):
        out, sql = post(body(501 + i, f"b{i % 3}"))
        assert out["created"] == 1 and sql == lean[:-1], sql  # … and trusts it
    assert DBTaskResult.objects.filter(task_path=facts_drain_task.module_path).count() == tasks

    # Once the shop has a subscription (of another event), one statement asks who listens to
    # message.created (nobody: no event); a subscription to it gets the message's event.
    from kefu.integrations.models import OutboxEvent, WebhookSubscription

    def events():
        return OutboxEvent.objects.filter(shop=shop, type="message.created").count()

    WebhookSubscription.objects.create(shop=shop, name="o", url="http://127.0.0.1:9/o", secret="s" * 20,
                                       event_types=["order.created"])
    out, sql = post(body(600, "b0"))
    assert sql == lean[:-2] + ["select webhooksubscription", "release"], sql
    assert events() == 0
    WebhookSubscription.objects.create(shop=shop, name="m", url="http://127.0.0.1:9/m", secret="s" * 20,
                                       event_types=["message.created"])
    out, sql = post(body(601, "b0"))
    assert "select webhooksubscription" in sql and events() == 1


# --- PostgreSQL: concurrent workers and ingests ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_workers_and_ingests_race_on_postgresql(monkeypatch):
    """Four ingest threads and three drain threads at once: no buyer is rebuilt by two workers at
    the same moment, and once drained the roll-up equals the recompute from raw rows."""
    require_postgresql()
    shop = shop_create(code="race", name="并发", timezone_name=TZ)
    inside: dict[int, int] = {}
    overlap: list[int] = []
    guard = threading.Lock()
    real = rebuild.buyers_rebuild

    def watched(**kw):
        with guard:
            for c in kw["ids"]:
                if inside.get(c):
                    overlap.append(c)
                inside[c] = inside.get(c, 0) + 1
        try:
            time.sleep(0.002)  # widen the window
            return real(**kw)
        finally:
            with guard:
                for c in kw["ids"]:
                    inside[c] -= 1

    monkeypatch.setattr(queue, "buyers_rebuild", watched)
    rng = random.Random(11)
    rows = []
    for i in range(900):
        rows.append({"message_id": f"m{i}", "buyer_id": f"b{rng.randrange(30)}", "agent_id": f"a{rng.randrange(5)}",
                     "sender": rng.choice(["buyer", "buyer", "agent"]),
                     "sent_at": f"2026-03-1{i % 3}T{8 + i % 12:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"})
    batches = [rows[i : i + 30] for i in range(0, len(rows), 30)]
    stop = threading.Event()
    errors: list = []

    def ingest(part):
        from kefu.conversations.services import messages_clean, messages_ingest

        try:
            for b in part:
                messages_ingest(shop=shop, rows=messages_clean(b, tz=shop.tz))
        except Exception as exc:  # asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    def drain():
        try:
            while not stop.is_set():
                queue.drain_pass(buyers=5)
        except Exception as exc:  # asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    ingesters = [threading.Thread(target=ingest, args=(batches[k::4],)) for k in range(4)]
    drainers = [threading.Thread(target=drain) for _ in range(3)]
    for t in ingesters + drainers:
        t.start()
    for t in ingesters:
        t.join()
    stop.set()
    for t in drainers:
        t.join()
    assert errors == []
    assert overlap == []
    queue.facts_drain()
    assert Message.objects.filter(shop=shop).count() == 900
    assert not DirtyBuyer.objects.exists()
    assert rollup_differences(shop=shop) == []
