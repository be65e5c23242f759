import datetime as dt

import pytest
from django.test import Client

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import person_create


def login(person) -> Client:
    c = Client()
    c.force_login(person.user)
    return c


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="主管阿琳", username="sup", password="pass-word-1", roles=["supervisor"],
                         group="")


@pytest.fixture
def supervisor2(shop):
    return person_create(shop=shop, name="主管老周", username="sup2", password="pass-word-1", roles=["supervisor"],
                         group="")


@pytest.fixture
def colleague(shop):
    return person_create(shop=shop, name="阿强", username="aqiang", password="pass-word-1", roles=["agent"],
                         platform_ids=["店铺:阿强"])


def chat(shop, rows, *, day=dt.date(2026, 11, 2), start="10:00:00"):
    """Ingest a chat: rows of (buyer_id, agent platform id, sender, seconds after start, text)."""
    base = dt.datetime.combine(day, dt.time.fromisoformat(start))
    raw = [{"message_id": f"{b}-{day}-{i}-{off}", "buyer_id": b, "agent_id": a, "sender": s,
            "sent_at": (base + dt.timedelta(seconds=off)).isoformat(), "text": t}
           for i, (b, a, s, off, t) in enumerate(rows)]
    return messages_ingest(shop=shop, rows=messages_clean(raw, tz=shop.tz))
