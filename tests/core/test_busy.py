"""Defect 1 of issue 11: a write that meets a lock it cannot get in time answers 503 + Retry-After.

On PostgreSQL here, in-process (the lock is held by another connection past lock_timeout); the
SQLite case runs against a real `kefu start` in test_service_heals.py.
"""

import json
import threading

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.test import Client

from kefu.core.busy import is_busy
from tests.concurrency import require_postgresql

MESSAGE = {"message_id": "m1", "buyer_id": "b1", "agent_id": "店:小美", "sender": "buyer",
           "sent_at": "2026-11-01T10:00:00+08:00", "text": "在吗"}


def _hold(tables: list[str], locked: threading.Event, release: threading.Event):
    try:
        with transaction.atomic(), connection.cursor() as cur:
            for t in tables:
                cur.execute(f"LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)
    finally:
        connections.close_all()


@pytest.fixture
def locked_tables():
    require_postgresql()
    started = []

    def lock(*tables):
        locked, release = threading.Event(), threading.Event()
        t = threading.Thread(target=_hold, args=(list(tables), locked, release))
        t.start()
        assert locked.wait(10)
        started.append((t, release))
        with connection.cursor() as cur:
            cur.execute("SET lock_timeout = '300ms'")

    yield lock
    for t, release in started:
        release.set()
        t.join(30)
    with connection.cursor() as cur:
        cur.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True)
def test_api_write_meeting_a_lock_answers_503(locked_tables, shop, token):
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    locked_tables("customers_customer", "conversations_message")
    r = api.post("/api/v1/messages", json.dumps(MESSAGE), content_type="application/json")
    assert r.status_code == 503, r.content
    assert r["Retry-After"] == "5" and r.json()["code"] == "busy"


@pytest.mark.django_db(transaction=True)
def test_page_meeting_a_lock_answers_503(locked_tables, shop, manager):
    c = Client(raise_request_exception=False)
    c.force_login(manager.user)
    locked_tables("core_shop")
    r = c.get("/settings/")
    assert r.status_code == 503 and r["Retry-After"] == "5"
    assert "503" in r.content.decode()


def test_which_errors_are_busy():
    assert is_busy(OperationalError("database is locked"))
    assert not is_busy(OperationalError("no such table: x"))
    assert not is_busy(ValueError("database is locked"))
