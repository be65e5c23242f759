import datetime as dt
import json

import pytest
from django.test import Client

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import person_create
from kefu.core.timeutil import shop_day
from kefu.workforce.services import presence_set, roster_assign, shift_create

NOW = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Asia/Shanghai


@pytest.fixture(autouse=True)
def outbox_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path / "outbox"


def person(shop, name, group="presales", roles=("agent",), username=None):
    return person_create(shop=shop, name=name, username=username, password="pass-word-1" if username else None,
                         roles=list(roles), group=group, platform_ids=[f"店铺:{name}"])


def on_shift(shop, agents, at=NOW, status="online"):
    shift = shop.shifts.filter(name="全天").first() or shift_create(shop=shop, name="全天", start="00:00", end="23:59")
    for a in agents:
        roster_assign(shop=shop, agent=a, date=shop_day(at, shop.tz), shift=shift)
        if status:
            presence_set(shop=shop, agent=a, status=status, by=a, at=at)


@pytest.fixture
def team(shop):
    t = {"p1": person(shop, "小一"), "p2": person(shop, "小二"), "p3": person(shop, "小三"),
         "s1": person(shop, "售后甲", group="aftersales")}
    on_shift(shop, t.values())
    return t


def buyer_msg(shop, buyer, *, mid, at=NOW, text="在吗", order_id=None, agent_id=None, sender="buyer"):
    raw = {"message_id": mid, "buyer_id": buyer, "sender": sender, "sent_at": at.isoformat(), "text": text}
    if order_id:
        raw["order_id"] = order_id
    if agent_id:
        raw["agent_id"] = agent_id
    rows = messages_clean([raw], tz=shop.tz, routed=True)
    return messages_ingest(shop=shop, rows=rows, route=True, now=at)


def login(agent):
    c = Client()
    c.force_login(agent.user)
    return c


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")
