"""Every row the drain writes for buyers with messages, against the same rules applied by hand.

The rebuild writes its rows set-based (kefu.metrics.rows: COPY / executemany of tuples, no model
instances). Generated shops (hypothesis: time zones, conversation gap, service hours with a
holiday, slow-turn target, attribution window and basis, take-back days) are ingested in parts,
each part drained (so rows are updated, re-pointed and deleted, not only inserted), and then
every derived row read back through the ORM must equal what an independent loop computes from the
raw rows: conversations grouped by the gap, flags from `conversation_flags` on each of them,
receptions, turns and credits from `buyer_facts`; the roll-up audit must find nothing, and a
rebuild of the whole shop from scratch must leave the very same rows.
"""

import datetime as dt
import itertools
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.conversations.models import Conversation, Message
from kefu.core.services import shop_create
from kefu.core.timeutil import shop_day
from kefu.customers.models import Customer
from kefu.metrics import facts as F
from kefu.metrics.audit import rollup_differences
from kefu.metrics.models import (
    AgentDay,
    AgentMonth,
    GroupMonth,
    OrderCredit,
    Reception,
    ShopPeriod,
    Turn,
)
from kefu.metrics.queue import facts_drain
from kefu.metrics.services import rollups_rebuild
from kefu.orders.models import Order
from kefu.quality.flags import FlagSpec, conversation_flags
from kefu.quality.models import ConversationFlag

from .kit import send_messages, send_orders

SHOPS = itertools.count()
BUYER_TEXTS = ["在吗", "什么时候发货", "你们是骗子吗？？？", "太慢了，到底什么时候到", "好的谢谢", "订单号多少"]
AGENT_TEXTS = ["您好，在的", "稍后联系您", "这款是最好的", "滚", "可以给您补发", "明天给您回电", "亲，已经发货了"]


@pytest.fixture(autouse=True)
def _deferred(settings):
    settings.KEFU_FACTS_INLINE = False


def generated(rng: random.Random, n_buyers: int, start: dt.datetime) -> tuple[list, list]:
    msgs, orders = [], []
    n = itertools.count()
    for b in range(n_buyers):
        t = start + dt.timedelta(hours=rng.randrange(0, 24 * 5), minutes=rng.randrange(60))
        for _ in range(rng.randrange(1, 12)):
            t += dt.timedelta(seconds=rng.choice([0, 5, 40, 200, 900, 2400, 4 * 3600, 26 * 3600]))
            sender = rng.choice(["buyer", "buyer", "agent", "agent", "bot"])
            agent = f"客服{rng.randrange(3)}" if sender != "bot" or rng.random() < 0.5 else ""
            text = rng.choice(BUYER_TEXTS if sender == "buyer" else AGENT_TEXTS)
            msgs.append({"message_id": f"m{next(n)}", "buyer_id": f"b{b}", "agent_id": agent, "sender": sender,
                         "sent_at": t, "text": text, "order_id": "o1" if rng.random() < 0.05 else ""})
        for k in range(rng.randrange(0, 3)):
            created = t + dt.timedelta(minutes=rng.randrange(-600, 3000))
            paid = created + dt.timedelta(minutes=rng.randrange(1, 600)) if rng.random() < 0.8 else None
            amount = Decimal(rng.randrange(100, 99999)) / 100
            closed = paid + dt.timedelta(days=rng.randrange(0, 20)) if paid and rng.random() < 0.2 else None
            orders.append({"order_id": f"o{b}-{k}", "buyer_id": f"b{b}", "created_at": created, "paid_at": paid,
                           "closed_at": closed, "refunded_at": None, "paid_amount": amount,
                           "refund_amount": Decimal("0.00")})
    return msgs, orders


def stored(shop) -> dict:
    """Every derived row, by value (ids replaced by what they stand for). A spam buyer's flags are
    left as they were (the flags step skips spam buyers), so neither side counts them."""
    first_of = dict(Conversation.objects.filter(shop=shop).values_list("id", "first_message_id"))
    return {
        "conversations": sorted(Conversation.objects.filter(shop=shop).values_list(
            "customer_id", "first_message_id", "agent_id", "started_at", "ended_at", "message_count",
            "buyer_message_count", "waiting")),
        "flags": sorted((first_of[c], m, k, d, a, at, day) for c, m, k, d, a, at, day in
                        ConversationFlag.objects.filter(shop=shop, customer__is_spam=False).values_list(
                            "conversation_id", "message_id", "kind", "detail", "agent_id", "at", "day")),
        "receptions": sorted(Reception.objects.filter(shop=shop).values_list(
            "customer_id", "agent_id", "day", "first_buyer_at", "replied", "first_response_seconds",
            "first_response_business_seconds", "is_inquiry", "paid_same_day", "paid_next_day", "paid_final")),
        "turns": sorted(Turn.objects.filter(shop=shop).values_list(
            "customer_id", "agent_id", "started_at", "start_day", "replied_at", "reply_day", "seconds",
            "business_seconds"), key=repr),
        "credits": sorted(OrderCredit.objects.filter(shop=shop).values_list(
            "order_id", "customer_id", "agent_id", "pay_day", "created_day", "paid_amount", "refund_amount",
            "taken_back"), key=repr),
    }


def rollups(shop) -> dict:
    """The roll-up rows (a row moved back to nothing stays stored with zeros: left out)."""
    out = {}
    for model in (AgentDay, AgentMonth, GroupMonth, ShopPeriod):
        names = [f.attname for f in model._meta.concrete_fields if f.name not in ("id", "shop")]
        rows = model.objects.filter(shop=shop).values_list(*names)
        out[model.__name__] = sorted((r for r in rows if any(v not in (0, None, {}, "") for v in r[2:])), key=repr)
    return out


def by_hand(shop) -> dict:
    """What the rules give from the raw rows, computed without the rebuild's code paths."""
    shop.refresh_from_db()
    s = F.Settings.for_shop(shop)
    spec = FlagSpec.for_shop(shop)
    spam = set(Customer.objects.filter(shop=shop, is_spam=True).values_list("id", flat=True))
    msgs, ords = {}, {}
    for m in Message.objects.filter(shop=shop):
        msgs.setdefault(m.customer_id, []).append(m)
    for o in Order.objects.filter(shop=shop):
        ords.setdefault(o.customer_id, []).append(o)
    out = {"conversations": [], "flags": [], "receptions": [], "turns": [], "credits": []}
    gap = dt.timedelta(minutes=shop.conversation_gap_minutes)
    for cid in Customer.objects.filter(shop=shop).values_list("id", flat=True):
        mine = sorted(msgs.get(cid, []), key=lambda m: (m.sent_at, m.sender != "buyer", m.message_id, m.id))
        groups = []
        for m in mine:
            if groups and m.sent_at - groups[-1][-1].sent_at <= gap:
                groups[-1].append(m)
            else:
                groups.append([m])
        for g in groups:
            agents = [m.agent_id for m in g if m.agent_id]
            buyer_at = [i for i, m in enumerate(g) if m.sender == "buyer"]
            waiting = bool(buyer_at) and not any(m.sender == "agent" for m in g[buyer_at[-1] + 1:])
            out["conversations"].append((cid, g[0].id, agents[-1] if agents else None, g[0].sent_at, g[-1].sent_at,
                                         len(g), sum(m.sender == "buyer" for m in g), waiting))
            if cid not in spam:
                for m, hit in conversation_flags(g, spec):
                    out["flags"].append((g[0].id, m.id, hit.kind, hit.detail[:200], m.agent_id, m.sent_at,
                                         shop_day(m.sent_at, shop.tz)))
        if cid in spam:
            continue
        bf = F.buyer_facts([F.Msg(m.id, m.sent_at, m.sender, m.agent_id, m.order_ref, m.message_id) for m in mine],
                           [F.Ord(o.id, o.created_at, o.paid_at, o.closed_at, o.refunded_at, o.paid_amount,
                                  o.refund_amount) for o in ords.get(cid, [])], s)
        out["receptions"] += [(cid, r.agent_id, r.day, r.first_buyer_at, r.replied, r.first_response_seconds,
                               r.first_response_business_seconds, r.is_inquiry, r.paid_same_day, r.paid_next_day,
                               r.paid_final) for r in bf.receptions]
        out["turns"] += [(cid, t.agent_id, t.started_at, t.start_day, t.replied_at, t.reply_day, t.seconds,
                          t.business_seconds) for t in bf.turns]
        out["credits"] += [(c.order_id, cid, c.agent_id, c.pay_day, c.created_day, c.paid_amount, c.refund_amount,
                            c.taken_back) for c in bf.credits]
    return {k: sorted(v, key=repr) if k in ("turns", "credits") else sorted(v) for k, v in out.items()}


def check(shop) -> None:
    rows = stored(shop)
    assert rows == by_hand(shop)
    assert rollup_differences(shop=shop) == []
    ups = rollups(shop)
    rollups_rebuild(shop=shop)  # everything deleted and written again from scratch: the same rows
    assert stored(shop) == rows
    assert rollups(shop) == ups


def ingest_in_parts(shop, rng, msgs, orders, parts: int) -> None:
    cuts = sorted(rng.sample(range(1, len(msgs)), min(parts - 1, len(msgs) - 1))) if len(msgs) > 1 else []
    chunks = [msgs[a:b] for a, b in zip([0, *cuts], [*cuts, len(msgs)], strict=True)]
    rng.shuffle(chunks)  # out of order: later messages first, conversations bridged and split afterwards
    for i, chunk in enumerate(chunks):
        send_messages(shop, chunk)
        if i == 0:
            send_orders(shop, orders)
        facts_drain(shop=shop)


@pytest.mark.django_db
def test_drained_rows_equal_the_rules_applied_by_hand(shop):
    rng = random.Random(5)
    msgs, orders = generated(rng, 40, dt.datetime(2026, 3, 10, tzinfo=shop.tz))
    ingest_in_parts(shop, rng, msgs, orders, parts=4)
    assert ConversationFlag.objects.filter(shop=shop).count() > 20
    assert Conversation.objects.filter(shop=shop).count() > 40
    check(shop)
    # a buyer turns spam and back, a message bridges two conversations: rows deleted and re-pointed
    first = Conversation.objects.filter(shop=shop).order_by("started_at").first()
    b = Customer.objects.filter(shop=shop).exclude(pk=first.customer_id).order_by("id").first()
    Customer.objects.filter(pk=b.pk).update(is_spam=True)
    send_messages(shop, [{"message_id": "bridge", "buyer_id": first.customer.buyer_id, "agent_id": "客服1",
                          "sender": "agent", "sent_at": first.ended_at + dt.timedelta(minutes=25),
                          "text": "稍后联系您"}])
    # a reply arrives inside a slow turn: the flag stays on its message with a new detail (updated)
    slow = ConversationFlag.objects.filter(shop=shop, kind="slow_turn", customer__is_spam=False).exclude(
        customer_id__in=[b.pk, first.customer_id]).select_related("message", "customer").order_by("id")
    slow = next(f for f in slow if int(f.detail) > 400)
    send_messages(shop, [{"message_id": "inside", "buyer_id": slow.customer.buyer_id, "agent_id": "客服2",
                          "sender": "agent", "sent_at": slow.message.sent_at + dt.timedelta(seconds=200),
                          "text": "您好，在的"}])
    from kefu.metrics.queue import buyers_mark

    buyers_mark(shop=shop, customer_ids=[b.pk])
    facts_drain(shop=shop)
    assert ConversationFlag.objects.get(pk=slow.pk).detail == "200"
    check(shop)


@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), buyers=st.integers(1, 15), parts=st.integers(1, 4),
       tz=st.sampled_from(["Asia/Shanghai", "UTC", "America/Los_Angeles"]),
       gap=st.sampled_from([5, 30, 240]), hours=st.sampled_from(["always", "office", "holiday"]),
       slow=st.sampled_from([30, 180]), window=st.integers(1, 5), basis=st.sampled_from(["created", "paid"]),
       takeback=st.integers(0, 15))
def test_drained_rows_on_generated_shops(seed, buyers, parts, tz, gap, hours, slow, window, basis, takeback):
    shop = shop_create(code=f"d{next(SHOPS)}", name="生成", timezone_name=tz)  # examples share the database
    shop.conversation_gap_minutes = gap
    office = {str(d): [["09:00", "18:00"]] for d in range(5)}
    shop.service_hours = {} if hours == "always" else {"weekly": office, **(
        {"holidays": ["2026-03-12"]} if hours == "holiday" else {})}
    shop.slow_turn_seconds, shop.attribution_window_days = slow, window
    shop.attribution_basis, shop.takeback_days = basis, takeback
    shop.save()
    rng = random.Random(seed)
    msgs, orders = generated(rng, buyers, dt.datetime(2026, 3, 10, tzinfo=shop.tz))
    ingest_in_parts(shop, rng, msgs, orders, parts)
    check(shop)
