"""Concurrent ingestion of overlapping buyers and agents: nothing lost, nothing doubled, no deadlock."""

import random
import threading

import pytest
from django.db import connections

from kefu.conversations.models import Message
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import shop_create
from kefu.metrics.audit import rollup_differences
from kefu.metrics.models import AgentDay
from tests.concurrency import require_postgresql


@pytest.mark.django_db(transaction=True)
def test_parallel_batches_on_postgresql():
    require_postgresql()
    shop = shop_create(code="par", name="并发店")
    rng = random.Random(7)
    rows = []
    for i in range(1200):
        buyer = f"b{rng.randrange(40)}"
        agent = f"a{rng.randrange(6)}"
        sender = rng.choice(["buyer", "buyer", "agent"])
        rows.append({"message_id": f"m{i}", "buyer_id": buyer, "agent_id": agent, "sender": sender,
                     "sent_at": f"2026-11-0{1 + i % 3}T{8 + (i % 12):02d}:{i % 60:02d}:{(i * 7) % 60:02d}"})
    # Every message is sent twice, by different threads, in batches of 50.
    batches = [rows[i : i + 50] for i in range(0, len(rows), 50)]
    work = batches + list(reversed(batches))
    errors = []

    def worker(part):
        try:
            for batch in part:
                messages_ingest(shop=shop, rows=messages_clean(batch, tz=shop.tz))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(work[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Message.objects.filter(shop=shop).count() == 1200
    assert rollup_differences(shop=shop) == []
    assert AgentDay.objects.filter(shop=shop).count() > 0
