"""A drain pass's marks and pass sizes (ADR 0004, kefu.metrics.queue).

A pass locks its buyers and takes (deletes) their marks in one statement each, whatever the
number of buyers and marks; a mark committed while the pass runs survives it and brings the
buyer back; a mark another pass holds is left to it, never waited for (PostgreSQL). An import's
drain sizes its passes from the last one's pace, so each stays near PASS_SECONDS however slow
the box is.
"""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from kefu.conversations.models import Message
from kefu.core.services import shop_create
from kefu.customers.models import Customer
from kefu.metrics import queue
from kefu.metrics.audit import rollup_differences
from kefu.metrics.models import DirtyBuyer, Turn
from tests.concurrency import require_postgresql

from .kit import send_messages

TZ = "Asia/Shanghai"


@pytest.fixture(autouse=True)
def _deferred(settings):
    settings.KEFU_FACTS_INLINE = False


def at(h: int, m: int = 0) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(2026, 3, 10, h, m, tzinfo=ZoneInfo(TZ))


def msg(mid, sender, when, buyer="tb_x", agent="a1"):
    return {"message_id": mid, "buyer_id": buyer, "agent_id": agent, "sender": sender, "sent_at": when,
            "order_id": ""}


def _statements(ctx, model) -> list[str]:
    name = model._meta.db_table
    return [q["sql"] for q in ctx.captured_queries if name in q["sql"]]


def test_a_pass_locks_its_buyers_and_takes_their_marks_in_one_statement_each(shop):
    buyers = Customer.objects.bulk_create([Customer(shop=shop, buyer_id=f"b{i}") for i in range(700)])
    now = dt.datetime.now(dt.UTC)
    DirtyBuyer.objects.bulk_create([DirtyBuyer(shop=shop, customer_id=c.id, marked_at=now)
                                    for _ in range(2) for c in buyers])  # 1,400 marks
    with CaptureQueriesContext(connection) as ctx:
        seen, rebuilt, failed = queue.drain_pass(shop_id=shop.id, buyers=700)
    assert (seen, rebuilt, failed) == (1400, 700, 0)
    assert not DirtyBuyer.objects.exists()
    locks = [q for q in _statements(ctx, Customer) if "is_spam" in q]
    assert len(locks) == 1  # was one per 500 buyers
    assert len(_statements(ctx, DirtyBuyer)) == 2  # the oldest marks, then the buyers' marks taken (was 1 + 1 + 1 per 1,000)


@pytest.mark.django_db(transaction=True)
def test_a_mark_committed_during_a_pass_survives_it_on_postgresql(monkeypatch):
    """An ingest of the buyer being rebuilt commits while the pass runs: it never waits for the
    pass (its KEY SHARE lock on the buyer does not conflict), its mark is not taken by the pass,
    and the next pass brings its message into the figures."""
    require_postgresql()
    shop = shop_create(code="mk", name="标记", timezone_name=TZ)
    send_messages(shop, [msg("m1", "buyer", at(9)), msg("m2", "agent", at(9, 1))])
    real = queue.buyers_rebuild
    waited: list[bool] = []

    def ingest_meanwhile(**kw):
        def ingest():
            try:
                send_messages(shop, [msg("m3", "buyer", at(10)), msg("m4", "agent", at(10, 5))])
            finally:
                connections.close_all()

        t = threading.Thread(target=ingest)
        t.start()
        t.join(timeout=15)
        waited.append(t.is_alive())
        t.join()
        return real(**kw)

    monkeypatch.setattr(queue, "buyers_rebuild", ingest_meanwhile)
    assert queue.drain_pass(shop_id=shop.id)[1] == 1
    monkeypatch.setattr(queue, "buyers_rebuild", real)
    assert waited == [False]  # the ingest did not wait for the pass
    assert DirtyBuyer.objects.filter(shop=shop).count() == 1  # its mark outlived the pass
    assert queue.facts_drain(shop=shop) == 1
    assert not DirtyBuyer.objects.exists()
    assert Message.objects.filter(shop=shop).count() == 4
    assert sorted(Turn.objects.filter(shop=shop).values_list("seconds", flat=True)) == [60, 300]  # both turns
    assert rollup_differences(shop=shop) == []


@pytest.mark.django_db(transaction=True)
def test_a_mark_held_by_another_pass_is_left_to_it_on_postgresql():
    """Another pass took one of the buyer's marks among its oldest (FOR UPDATE) and has not ended:
    this pass rebuilds the buyer and takes its other mark without waiting; the held one stays."""
    require_postgresql()
    shop = shop_create(code="mh", name="持有", timezone_name=TZ)
    send_messages(shop, [msg("m1", "buyer", at(9)), msg("m2", "agent", at(9, 1))])
    held = DirtyBuyer.objects.get(shop=shop)
    DirtyBuyer.objects.create(shop=shop, customer_id=held.customer_id, marked_at=held.marked_at)
    taken, release = threading.Event(), threading.Event()

    def other_pass():
        try:
            with transaction.atomic():
                list(DirtyBuyer.objects.select_for_update().filter(pk=held.pk))
                taken.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    t = threading.Thread(target=other_pass)
    t.start()
    try:
        assert taken.wait(timeout=15)
        with connection.cursor() as cur:
            cur.execute("SET lock_timeout = '3s'")  # a wait for the held mark would fail here
        started = time.monotonic()
        assert queue.drain_pass(shop_id=shop.id)[1] == 1
        assert time.monotonic() - started < 3
        assert list(DirtyBuyer.objects.values_list("id", flat=True)) == [held.id]
    finally:
        release.set()
        t.join()
        with connection.cursor() as cur:
            cur.execute("RESET lock_timeout")
    assert queue.facts_drain(shop=shop) == 1
    assert not DirtyBuyer.objects.exists()
    assert rollup_differences(shop=shop) == []


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_an_imports_drain_keeps_each_pass_near_its_time_however_slow_the_buyers(shop, monkeypatch):
    """Rebuilding a buyer costs 4 ms, then (the box gets busier) 7 ms, then 1 ms of a fake clock:
    the import's drain grows its passes while they are short of PASS_SECONDS, shrinks them (not
    below the worker's 100) when the pace drops, and no pass takes a second (fixed passes of 500,
    as before, took 2 to 3.5 s)."""
    from kefu.importers.services import DRAIN_BUYERS

    clock = FakeClock()
    monkeypatch.setattr(queue, "_clock", clock)
    sizes: list[int] = []
    lengths: list[float] = []

    def rebuild(*, shop, ids, spam):
        cost = 0.004 if len(sizes) < 5 else 0.007 if len(sizes) < 10 else 0.001
        sizes.append(len(ids))
        lengths.append(cost * len(ids))
        clock.now += cost * len(ids)

    monkeypatch.setattr(queue, "buyers_rebuild", rebuild)
    buyers = Customer.objects.bulk_create([Customer(shop=shop, buyer_id=f"b{i}") for i in range(3000)])
    DirtyBuyer.objects.bulk_create([DirtyBuyer(shop=shop, customer_id=c.id, marked_at=dt.datetime.now(dt.UTC))
                                    for c in buyers])
    assert queue.facts_drain(shop=shop, buyers=DRAIN_BUYERS, pass_seconds=queue.PASS_SECONDS) == 3000
    assert sum(sizes) == 3000 and not DirtyBuyer.objects.exists()
    assert sizes[0] == DRAIN_BUYERS and sizes[1] > DRAIN_BUYERS  # 0.4 s: a little more next time
    assert max(lengths) < 1.0, list(zip(sizes, lengths, strict=True))
    assert max(lengths[1:5]) <= 0.51  # near PASS_SECONDS once paced
    assert sizes[5] > queue.BUYERS_PER_PASS and sizes[6:10] == [queue.BUYERS_PER_PASS] * 4  # shrunk, to the floor
    assert max(sizes[10:]) > 4 * sizes[9]  # grown again when fast (to about 500 = 0.5 s at 1 ms) …
    assert all(b <= 2 * a for a, b in zip(sizes, sizes[1:], strict=False))  # … at most doubling each pass


def test_pass_size_bounds():
    assert queue.pass_size(100, 100, 0.25, 0.5) == 200  # twice as fast as wanted: doubled, no more
    assert queue.pass_size(100, 100, 0.1, 0.5) == 200
    assert queue.pass_size(400, 400, 1.0, 0.5) == 200
    assert queue.pass_size(400, 300, 3.0, 0.5) == queue.BUYERS_PER_PASS  # never below the worker's passes
    assert queue.pass_size(1500, 1500, 0.01, 0.5) == queue.MAX_BUYERS_PER_PASS
    assert queue.pass_size(100, 10, 0.0, 0.5) == 200
