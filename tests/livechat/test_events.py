"""The push layer: who sees what (the in-memory rule and the replay query agree), replay after a
reconnect, and the hub delivering events committed by another connection (poll on SQLite,
LISTEN/NOTIFY on PostgreSQL) once each, in order."""

import itertools
import threading
import time

import pytest
from django.db import transaction

from kefu.core.services import shop_create
from kefu.customers.services import customers_resolve
from kefu.livechat import events
from kefu.livechat.enums import Audience, EventKind
from kefu.livechat.events import Viewer, replay, visible
from kefu.livechat.hub import Hub
from kefu.livechat.models import LiveEvent

from .conftest import person


@pytest.mark.django_db
def test_the_visibility_rule_and_the_replay_query_agree(shop):
    other = shop_create(code="o2", name="别家")
    a, b = person(shop, "甲"), person(shop, "乙", group="aftersales")
    sup = person(shop, "主管", roles=("supervisor",), group="")
    cust = customers_resolve(shop=shop, nicks={"x": "", "y": ""})
    ocust = customers_resolve(shop=other, nicks={"z": ""})["z"]
    combos = itertools.product([shop, other], list(Audience), [cust["x"], cust["y"], None],
                               [a.pk, b.pk, None], [None, a.pk], ["", "presales", "aftersales"])
    with transaction.atomic():
        for s, aud, cid, agent, prev, group in combos:
            events.publish(shop=s, kind=EventKind.MESSAGE, audience=aud, customer_id=ocust if s == other else cid,
                           agent_id=agent, prev_agent_id=prev, group=group)
    evs = list(LiveEvent.objects.all())
    viewers = [Viewer.of_member(a), Viewer.of_member(b), Viewer.of_member(sup),
               Viewer.of_buyer(shop_id=shop.pk, customer_id=cust["x"]), Viewer.of_buyer(shop_id=shop.pk, customer_id=cust["y"])]
    for v in viewers:
        by_rule = {e.pk for e in evs if visible(e, v)}
        by_query = {e.pk for e in replay(viewer=v, after=0, limit=100000)}
        assert by_rule == by_query, v
        assert by_rule  # every viewer sees something, and never another shop's
        assert all(e.shop_id == shop.pk for e in evs if e.pk in by_rule)
    buyer_x = {e.pk for e in evs if visible(e, viewers[3])}
    assert all(LiveEvent.objects.get(pk=i).audience != Audience.STAFF for i in buyer_x)


@pytest.mark.django_db
def test_replay_resumes_after_the_last_seen_event_and_skips_typing(shop):
    cid = customers_resolve(shop=shop, nicks={"x": ""})["x"]
    v = Viewer.of_buyer(shop_id=shop.pk, customer_id=cid)
    ids = []
    for i in range(5):
        ids.append(events.publish(shop=shop, kind=EventKind.MESSAGE, audience=Audience.BOTH, customer_id=cid,
                                  data={"n": i}).pk)
    events.publish(shop=shop, kind=EventKind.TYPING, audience=Audience.BUYER, customer_id=cid, ephemeral=True)
    got = [e.pk for e in replay(viewer=v, after=ids[2]) if e.pk > ids[2]]
    assert got == ids[3:]


@pytest.mark.django_db(transaction=True)
def test_the_hub_delivers_events_committed_elsewhere_once_each_in_order(shop):
    cid = customers_resolve(shop=shop, nicks={"x": ""})["x"]
    hub = Hub()
    sub = hub.subscribe(Viewer.of_buyer(shop_id=shop.pk, customer_id=cid))
    try:
        time.sleep(0.5)

        def writer():
            from django.db import OperationalError, connection

            for i in range(20):
                for attempt in range(50):
                    try:
                        with transaction.atomic():
                            events.publish(shop=shop, kind=EventKind.MESSAGE, audience=Audience.BOTH,
                                           customer_id=cid, data={"n": i})
                        break
                    except OperationalError:
                        # The in-memory SQLite test database shares one cache between threads: a write
                        # meeting the hub's read of the table fails at once ("table is locked") instead
                        # of waiting as on a database file. Retry, as that busy wait would.
                        if attempt == 49:
                            raise
                        time.sleep(0.02)
            connection.close()

        t = threading.Thread(target=writer)
        t.start()
        t.join()
        got: list[int] = []
        deadline = time.monotonic() + 10
        while len(got) < 20 and time.monotonic() < deadline:
            got += [e.data["n"] for e in sub.get(0.5)]
        assert got == list(range(20))
        assert sub.get(0.5) == []  # nothing twice
    finally:
        hub.unsubscribe(sub)
        hub.stop()


def _frames(gen) -> list[str]:
    out = []
    for chunk in gen:
        out.append(chunk)
        if "event: reset" in chunk or chunk.startswith(": keepalive"):
            break
    gen.close()
    return out


@pytest.mark.django_db
def test_a_stream_far_behind_or_behind_the_pruned_log_is_told_to_reload(shop, monkeypatch):
    """A workspace open all day: a reconnect replays what it missed; when that is more than the
    replay limit, or older than the log keeps (a laptop asleep overnight), the stream says `reset`
    and the client reloads its state from the database instead of silently skipping events."""
    import datetime as dt

    from django.utils import timezone

    from kefu.livechat import stream
    from kefu.livechat.events import events_prune

    monkeypatch.setattr(stream, "KEEPALIVE", 0.01)
    monkeypatch.setattr(stream.hub, "_ensure_thread", lambda: None)
    monkeypatch.setattr(stream, "REPLAY_LIMIT", 5)
    cid = customers_resolve(shop=shop, nicks={"x": ""})["x"]
    v = Viewer.of_buyer(shop_id=shop.pk, customer_id=cid)
    t0 = timezone.now() - dt.timedelta(hours=30)

    def publish(n, at):
        return [events.publish(shop=shop, kind=EventKind.MESSAGE, audience=Audience.BOTH, customer_id=cid,
                               data={"n": i}, now=at).pk for i in range(n)]

    old = publish(3, t0)
    recent = publish(4, timezone.now())
    frames = _frames(stream._stream(v, old[-1], {}))
    assert [f.split("\n")[0] for f in frames if f.startswith("id: ")] == [f"id: {pk}" for pk in recent]
    assert not any("event: reset" in f for f in frames)
    later = publish(2, timezone.now())  # 6 missed since old[-1]: more than the limit
    assert any("event: reset" in f for f in _frames(stream._stream(v, old[-1], {})))
    monkeypatch.setattr(stream, "REPLAY_LIMIT", 2000)
    events_prune()  # the 30-hour-old events go: a client that last saw one of them must reload
    assert not LiveEvent.objects.filter(pk__in=old).exists()
    assert any("event: reset" in f for f in _frames(stream._stream(v, old[-1], {})))
    frames = _frames(stream._stream(v, recent[-1], {}))  # a client whose place is still kept replays
    ids = [int(f.split("\n")[0][4:]) for f in frames if f.startswith("id: ")]
    assert not any("event: reset" in f for f in frames)
    assert ids == sorted(ids) and set(later) <= set(ids)  # (with the recent past: the client drops seen ids)


@pytest.mark.django_db(transaction=True)
def test_the_hub_thread_outlives_a_database_outage_and_delivers_again(shop, monkeypatch):
    """While the database is away even closing the connection fails; the thread must keep trying,
    or every open stream of the process would go quiet until a restart."""
    from django.db import connection

    import kefu.livechat.hub as hub_module

    cid = customers_resolve(shop=shop, nicks={"x": ""})["x"]

    class AwayConnection:
        vendor = connection.vendor

        def close(self):
            raise RuntimeError("database away")

    def away(*a, **kw):
        raise RuntimeError("database away")

    monkeypatch.setattr(hub_module, "connection", AwayConnection())
    monkeypatch.setattr(Hub, "_recent_cursor", away)  # SQLite: the poll's first read
    monkeypatch.setattr(Hub, "_pg_params", away)  # PostgreSQL: opening the LISTEN connection
    hub = Hub()
    sub = hub.subscribe(Viewer.of_buyer(shop_id=shop.pk, customer_id=cid))
    try:
        time.sleep(1.5)  # at least one failed round and its retry pause
        assert hub._thread.is_alive()
        monkeypatch.undo()  # the database is back
        time.sleep(1.5)
        with transaction.atomic():
            events.publish(shop=shop, kind=EventKind.MESSAGE, audience=Audience.BOTH, customer_id=cid, data={"n": 1})
        got: list = []
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            got += [e.data["n"] for e in sub.get(0.5)]
        assert got == [1]
    finally:
        hub.unsubscribe(sub)
        hub.stop()
