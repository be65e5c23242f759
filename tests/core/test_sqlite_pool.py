"""SQLite connection pool (kefu/core/sqlite3, OPTIONS["pool"]): under ASGI each request runs in a
thread of its own, so a closed connection is handed to the next thread instead of reopened; a
connection closed inside a transaction is never handed on. Runs on a temporary database file
whatever the test database is."""

import sqlite3
import threading

import pytest
from django.db.utils import ConnectionHandler


@pytest.fixture(autouse=True)
def _own_database(django_db_blocker):
    with django_db_blocker.unblock():  # a file of its own, not the test database
        yield


def handler(path, pool=None):
    options = {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    if pool is not None:
        options["pool"] = pool
    return ConnectionHandler({"default": {"ENGINE": "kefu.core.sqlite3", "NAME": str(path), "OPTIONS": options}})


def in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def test_a_closed_connection_serves_the_next_thread(tmp_path):
    conns = handler(tmp_path / "a.sqlite3", pool=2)

    def request():  # what one ASGI request does: its thread's wrapper, a query, close at the end
        db = conns["default"]
        with db.cursor() as c:
            c.execute("SELECT 1")
        raw = db.connection
        db.close()
        return raw

    first = in_thread(request)
    second = in_thread(request)
    assert second is first  # reused, not reopened
    with first:  # and still a working connection (functions registered, WAL on)
        assert first.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_without_the_option_a_closed_connection_is_closed(tmp_path):
    conns = handler(tmp_path / "b.sqlite3")
    db = conns["default"]
    db.ensure_connection()
    raw = db.connection
    db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        raw.execute("SELECT 1")


def test_a_connection_closed_inside_a_transaction_is_rolled_back_not_reused(tmp_path):
    conns = handler(tmp_path / "c.sqlite3", pool=2)

    def setup():
        db = conns["default"]
        with db.cursor() as c:
            c.execute("CREATE TABLE t (x INTEGER)")
        db.close()

    in_thread(setup)

    def half_done():
        db = conns["default"]
        db.ensure_connection()
        raw = db.connection
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO t VALUES (1)")
        db.close()
        return raw

    raw = in_thread(half_done)

    def count():
        db = conns["default"]
        with db.cursor() as c:
            c.execute("SELECT COUNT(*) FROM t")
            n = c.fetchone()[0]
        other = db.connection
        db.close()
        return n, other

    n, other = in_thread(count)
    assert n == 0 and other is not raw
    with pytest.raises(sqlite3.ProgrammingError):
        raw.execute("SELECT 1")


def test_at_most_pool_size_idle_connections(tmp_path):
    conns = handler(tmp_path / "d.sqlite3", pool=2)
    opened, go = [], threading.Barrier(3)

    def request():
        db = conns["default"]
        db.ensure_connection()
        opened.append(db.connection)
        go.wait()  # three at once: three connections
        db.close()

    threads = [threading.Thread(target=request) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in opened}) == 3
    closed = 0
    for c in opened:
        try:
            c.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            closed += 1
    assert closed == 1  # two kept idle, the third closed
