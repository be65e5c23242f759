"""The messages import's write pass (issue 11, item 2): COPY and set-based SQL on PostgreSQL
(`kefu.conversations.bulk.messages_load`) against the API's path (`messages_ingest`), which
imported messages went through before.

The same files are imported into two shops set up alike — one through each path — and every
stored row must be equal: the messages (every column), the buyers met for the first time (and a
known buyer's nick left alone, an alias resolved to the record it was merged into), the agents
and their accounts, the counts, and the buyers marked for the rebuild; then, after the drain,
every derived row (conversations, receptions, turns, credits, roll-ups), with the roll-up audit
clean on both.
"""

import datetime as dt

import pytest

from kefu.conversations.models import Message
from kefu.conversations.services import messages_ingest
from kefu.core.models import AgentAccount
from kefu.core.services import agents_resolve, shop_create
from kefu.customers.merge import customer_merge
from kefu.customers.models import Customer
from kefu.customers.services import customers_resolve
from kefu.importers import checking, services
from kefu.metrics.audit import rollup_differences
from kefu.metrics.models import DirtyBuyer
from kefu.metrics.queue import facts_drain
from tests.importers.test_bad_input import write_csv
from tests.metrics import test_orders_only

pytestmark = pytest.mark.django_db
HEAD = ["message_id", "channel", "buyer_id", "buyer_nick", "agent_id", "sender", "sent_at", "text", "order_id"]
T0 = dt.datetime(2026, 10, 3, 9, 0, 0)


def first_file(path):
    rows = []
    for i in range(230):
        buyer = f"b{i % 23}"
        t = (T0 + dt.timedelta(minutes=7 * i + i % 5)).strftime("%Y-%m-%d %H:%M:%S")
        sender = ("buyer", "agent", "bot", "agent")[i % 4]
        agent = "" if sender == "bot" else f"店铺:客服{i % 3}"
        nick = f"昵称{i % 23}" if sender == "buyer" and (i // 4) % 2 else ""  # agent and bot rows carry none
        rows.append([f"M{i:04d}", "taobao" if i % 2 else "", buyer, nick, agent, sender, t, f"第{i}条, \"好\"\n嗯",
                     f"T{i}" if i % 9 == 0 else ""])
    rows.append(["M0005", "", "b5", "", "店铺:客服0", "agent", "2026-10-03 09:00:00", "又一次", ""])  # id repeated
    rows[40:40] = [["M9000", "", "alias", "别名", "店铺:客服1", "buyer", "2026-10-03 12:00:00", "我是别名", ""],
                   ["M9001", "", "old", "新昵称", "店铺:老客服", "buyer", "2026-10-03 12:01:00", "老客户", ""],
                   ["M9002", "", "new1", "", "店铺:新客服", "agent", "2026-10-03 12:02:00", "", ""]]
    return write_csv(path, HEAD, rows)


def second_file(path):
    """Half of the first file again (duplicates, another text: a stored message never changes) and
    new messages of known and new buyers."""
    rows = [[f"M{i:04d}", "", f"b{i % 23}", "", "店铺:客服0", "agent", "2026-10-05 09:00:00", "改", ""]
            for i in range(0, 230, 2)]
    rows += [[f"N{i}", "jd", f"b{30 + i % 5}", f"新{i % 5}", f"店铺:客服{i % 4}", ("buyer", "agent")[i % 2],
              (T0 + dt.timedelta(days=3, minutes=3 * i)).strftime("%Y-%m-%d %H:%M:%S"), f"n{i}", ""]
             for i in range(60)]
    return write_csv(path, HEAD, rows)


def setup_shop(code):
    shop = shop_create(code=code, name="对照")
    ids = customers_resolve(shop=shop, nicks={"old": "老昵称", "alias": "", "main": "主"})
    customer_merge(shop=shop, source=Customer.objects.get(pk=ids["alias"]),
                   target=Customer.objects.get(pk=ids["main"]), actor=None)
    agents_resolve(shop=shop, platform_ids={"店铺:老客服"})
    return shop


def snapshot(shop) -> dict:
    """Every derived row (tests.metrics.test_orders_only's list), agents named instead of their ids:
    the two shops' agents have different ids."""
    from kefu.metrics.models import AgentDay, AgentMonth

    out = test_orders_only.snapshot(shop)
    for key, model in (("days", AgentDay), ("months", AgentMonth)):
        fields = [f.name + ("__name" if f.is_relation else "") for f in model._meta.concrete_fields
                  if f.name not in ("id", "shop")]
        out[key] = sorted(model.objects.filter(shop=shop).values_list(*fields), key=repr)
    return out


def stored(shop) -> dict:
    buyer = dict(Customer.objects.filter(shop=shop).values_list("id", "buyer_id"))
    agent = dict(AgentAccount.objects.filter(shop=shop).values_list("agent_id", "platform_id"))
    return {
        "messages": sorted((m.message_id, m.channel, buyer[m.customer_id], agent.get(m.agent_id), m.sender, m.sent_at,
                            m.text, m.order_ref) for m in Message.objects.filter(shop=shop)),
        "customers": sorted((c.buyer_id, c.nick, buyer.get(c.merged_into_id), c.is_spam)
                            for c in Customer.objects.filter(shop=shop)),
        "accounts": sorted(AgentAccount.objects.filter(shop=shop).values_list("platform_id", "agent__name",
                                                                              "agent__roles")),
        "marks": sorted(DirtyBuyer.objects.filter(shop=shop).values_list("customer__buyer_id", flat=True)),
    }


def test_the_set_based_write_pass_stores_what_the_api_path_stores(tmp_path, monkeypatch, settings):
    settings.KEFU_FACTS_INLINE = False  # marks stay until the drain: compared too
    monkeypatch.setattr(checking, "BATCH", 50)  # several write transactions, ids repeated across them
    monkeypatch.setattr(services, "facts_drain", lambda **kw: 0)  # drained below, after the comparison
    one, two = first_file(tmp_path / "one.csv"), second_file(tmp_path / "two.csv")
    bulk, api = setup_shop("bulk"), setup_shop("api")
    got = {}
    for shop, path in ((bulk, one), (bulk, two)):
        r = services.file_import(shop=shop, kind="messages", path=path).result
        got.setdefault("bulk", []).append((r.created, r.updated, r.duplicates))
    monkeypatch.setattr(services, "messages_load", messages_ingest)  # the path imports took before
    for shop, path in ((api, one), (api, two)):
        r = services.file_import(shop=shop, kind="messages", path=path).result
        got.setdefault("api", []).append((r.created, r.updated, r.duplicates))
    assert got["bulk"] == got["api"] == [(233, 0, 1), (60, 0, 115)]
    a, b = stored(bulk), stored(api)
    assert a == b
    assert ("old", "老昵称", None, False) in a["customers"]  # a known buyer keeps its nick
    assert not any(m[2] == "alias" for m in a["messages"])  # an alias's messages go to its record
    assert [m[6] for m in a["messages"] if m[0] == "M0005"] == ['第5条, "好"\n嗯']  # a repeated id: the first row
    assert len(a["messages"]) == 293 and len(a["marks"]) > 0
    for shop in (bulk, api):
        facts_drain(shop=shop)
    assert DirtyBuyer.objects.count() == 0
    assert snapshot(bulk) == snapshot(api)
    assert snapshot(bulk)["conversations"] and snapshot(bulk)["receptions"]
    assert rollup_differences(shop=bulk) == [] and rollup_differences(shop=api) == []


def test_concurrent_and_resent_batches_count_what_was_stored(shop):
    """A batch sent twice (a re-run after a crash between commit and record): the second stores
    nothing and counts every row a duplicate."""
    from kefu.conversations.bulk import messages_load
    from kefu.conversations.services import message_clean

    rows = [message_clean({"message_id": f"x{i}", "buyer_id": f"b{i % 3}", "agent_id": "a", "sender": "buyer",
                           "sent_at": "2026-10-03 10:00:00", "text": str(i)}, tz=shop.tz) for i in range(10)]
    first = messages_load(shop=shop, rows=rows + rows[:2])
    again = messages_load(shop=shop, rows=rows)
    assert (first.created, first.duplicates) == (10, 2) and first.customer_ids
    assert (again.created, again.duplicates, again.customer_ids) == (0, 10, set())
    assert Message.objects.filter(shop=shop).count() == 10
