"""Concurrent upserts of the same rows through the API (issue 11, defect 6), on PostgreSQL:
8 identical batches of 500 new orders at once all answer 200 with true counts (one batch created
each order, nobody updated anything), and the "created" counts of concurrent message batches add
up to what was stored."""

import json
import random

import pytest
from django.test import Client

from kefu.conversations.models import Message
from kefu.core.services import shop_create, token_create
from kefu.metrics.audit import rollup_differences
from kefu.metrics.queue import facts_drain
from kefu.orders.models import Order
from tests.concurrency import race, require_postgresql

pytestmark = pytest.mark.django_db(transaction=True)


def _api(shop):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(shop=shop, name='t')[1]}")


def _post(client, path, body):
    r = client.post(f"/api/v1/{path}", json.dumps(body), content_type="application/json")
    return r.status_code, r.json()


def test_eight_identical_order_batches_at_once(settings):
    require_postgresql()
    settings.KEFU_FACTS_INLINE = False
    shop = shop_create(code="oconc", name="并发店")
    orders = [{"order_id": f"T{i}", "buyer_id": f"b{i % 37}", "created_at": "2026-11-01T10:00:00",
               "paid_at": "2026-11-01T10:05:00", "paid_amount": "10.00", "total_amount": "10.00"}
              for i in range(500)]
    body = {"orders": orders}
    results = race(lambda: _post(_api(shop), "orders", body), [()] * 8)
    assert all(not isinstance(r, Exception) for r in results), results
    assert [status for status, _ in results] == [200] * 8, results
    assert sum(out["created"] for _, out in results) == 500
    assert sum(out["updated"] for _, out in results) == 0
    assert sum(out["duplicates"] for _, out in results) == 7 * 500
    assert Order.objects.filter(shop=shop).count() == 500
    facts_drain()
    assert rollup_differences(shop=shop) == []


def test_concurrent_message_batches_count_what_they_stored(settings):
    require_postgresql()
    settings.KEFU_FACTS_INLINE = False
    shop = shop_create(code="mconc", name="并发店")
    rng = random.Random(3)
    msgs = [{"message_id": f"m{i}", "buyer_id": f"b{i % 23}", "agent_id": "客服A",
             "sender": rng.choice(["buyer", "agent"]), "sent_at": f"2026-11-01T10:{i % 60:02d}:{i % 7:02d}"}
            for i in range(400)]
    # six overlapping batches: every message is in three of them
    batches = [rng.sample(msgs, len(msgs)) for _ in range(3)]
    parts = [b[:250] for b in batches] + [b[150:] for b in batches]
    results = race(lambda part: _post(_api(shop), "messages", {"messages": part}), [(p,) for p in parts])
    assert all(not isinstance(r, Exception) and r[0] == 200 for r in results), results
    stored = Message.objects.filter(shop=shop).count()
    assert stored == 400
    assert sum(out["created"] for _, out in results) == stored
    assert sum(out["created"] + out["duplicates"] for _, out in results) == sum(len(p) for p in parts)
    facts_drain()
    assert rollup_differences(shop=shop) == []
