"""SQLite writers take turns (kefu/core/sqlite3): a transaction's BEGIN IMMEDIATE is retried every
millisecond while the write lock is held, counted as a waiting writer, and a job writing pass after
pass (the facts drain) steps aside between passes while a writer waits. Before, a waiting writer
slept in SQLite's busy handler with growing back-off and, behind passes run back to back, got in
only when the job ended. Runs on temporary database files whatever the test database is; what is
counted is passes, never time."""

import threading

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from kefu.core.busy import is_busy
from kefu.core.sqlite3.base import writers_wait_file, writers_waiting, writers_yield


@pytest.fixture(autouse=True)
def _own_database(django_db_blocker):
    with django_db_blocker.unblock():  # files of their own, not the test database
        yield


def wrapper(path, *, timeout=20.0):
    """A connection of its own (of this thread) to the file `path`, as settings configure SQLite."""
    options = {"transaction_mode": "IMMEDIATE", "timeout": timeout,
               "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    return ConnectionHandler({"default": {"ENGINE": "kefu.core.sqlite3", "NAME": str(path), "OPTIONS": options}})["default"]


class Txn:
    """What transaction.atomic() does with a connection outside any block (for a wrapper of our own)."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        return self.db.cursor()

    def __exit__(self, exc_type, *exc):
        try:
            if exc_type is None:
                self.db.commit()
            else:
                self.db.rollback()
        finally:
            self.db.set_autocommit(True)


def make_table(path):
    db = wrapper(path)
    with db.cursor() as c:
        c.execute("CREATE TABLE t (who TEXT, pass INTEGER)")
    db.close()


def test_a_writer_waiting_behind_a_job_gets_in_after_the_current_pass(tmp_path):
    """The job (a drain: short write transactions back to back, each holding the lock a while)
    runs 40 passes; a request's write arriving during pass k commits before pass k + 2."""
    path = tmp_path / "db.sqlite3"
    make_table(path)
    in_pass = threading.Event()
    request_done = threading.Event()
    hold = threading.Event()  # never set: a pass holds the lock for its wait below
    passes = 40
    errors = []

    def job():
        db = wrapper(path)
        try:
            for k in range(passes):
                writers_yield(db, seconds=30)  # generous: under load the request's thread may wake late
                with Txn(db) as c:
                    c.execute("INSERT INTO t VALUES ('job', %s)", [k])
                    if k == 3:
                        in_pass.set()
                    hold.wait(0.02)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            db.close()

    t = threading.Thread(target=job)
    t.start()
    assert in_pass.wait(60)
    db = wrapper(path)
    with Txn(db) as c:  # arrives while pass 3 holds the lock
        c.execute("SELECT max(pass) FROM t WHERE who = 'job'")
        seen = c.fetchone()[0]
        c.execute("INSERT INTO t VALUES ('request', %s)", [seen])
    request_done.set()
    db.close()
    t.join(120)
    assert not errors
    assert 3 <= seen <= 4, f"the request got in after pass {seen} of {passes}"


def test_a_write_held_up_too_long_is_busy_and_leaves_no_waiter(tmp_path):
    path = tmp_path / "db.sqlite3"
    make_table(path)
    holder = wrapper(path)
    waiter = wrapper(path, timeout=0.3)
    with Txn(holder) as hc:
        hc.execute("INSERT INTO t VALUES ('holder', 0)")
        with pytest.raises(OperationalError) as exc:
            with Txn(waiter) as c:
                c.execute("INSERT INTO t VALUES ('waiter', 0)")
        assert is_busy(exc.value)  # the API answers 503 "busy" (kefu.core.busy)
        assert not writers_waiting(writers_wait_file(waiter))
        assert not waiter.in_atomic_block and waiter.get_autocommit()
    with waiter.cursor() as c:  # the connection's own busy timeout is back for plain statements
        c.execute("PRAGMA busy_timeout")
        assert c.fetchone()[0] == 300
    with Txn(waiter) as c:  # and it writes once the lock is free
        c.execute("INSERT INTO t VALUES ('waiter', 1)")
    with holder.cursor() as c:
        c.execute("SELECT who FROM t ORDER BY who")
        assert [r[0] for r in c.fetchall()] == ["holder", "waiter"]
    holder.close()
    waiter.close()


def test_a_statement_outside_a_transaction_still_waits_for_the_lock(tmp_path):
    """Only BEGIN polls: an autocommit write keeps SQLite's busy timeout (it would fail at once with 0)."""
    path = tmp_path / "db.sqlite3"
    make_table(path)
    locked, release = threading.Event(), threading.Event()

    def hold():
        holder = wrapper(path)
        with Txn(holder) as c:
            c.execute("INSERT INTO t VALUES ('holder', 0)")
            locked.set()
            release.wait(30)
        holder.close()

    other = wrapper(path)
    with Txn(other):  # a transaction before: its BEGIN must not leave busy_timeout at 0
        pass
    t = threading.Thread(target=hold)
    t.start()
    assert locked.wait(30)
    threading.Timer(0.2, release.set).start()
    with other.cursor() as c:
        c.execute("INSERT INTO t VALUES ('plain', 0)")  # waits in the busy handler until released
    t.join(30)
    with other.cursor() as c:
        c.execute("SELECT count(*) FROM t")
        assert c.fetchone()[0] == 2
    other.close()


def test_a_job_steps_aside_only_while_a_writer_waits(tmp_path):
    path = tmp_path / "db.sqlite3"
    make_table(path)
    db = wrapper(path)
    assert writers_yield(db, seconds=30) < 30  # nobody waits: no wait at all
    with Txn(db):  # inside a transaction it never waits (it would wait for itself)
        assert writers_yield(db, seconds=30) == 0.0


def test_in_memory_and_postgresql_connections_never_yield(db):
    from django.db import connection

    assert writers_wait_file(connection) is None  # the test database: in memory, or PostgreSQL
    assert writers_yield(seconds=30) == 0.0
