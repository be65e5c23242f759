"""The set-based rebuild of buyers with orders only (kefu.metrics.orders_only) against the full one.

Generated shops mix buyers who only order (paid, unpaid, closed, refunded, across shop midnight,
several orders each), buyers who also write to agents, spam buyers, and buyers whose orders change
hands between the two kinds. Every derived row the fast path leaves behind must equal what the
full rebuild (every step, the fast path off) writes from the same raw rows, and the roll-up audit
(an independent recomputation) must find nothing.
"""

import datetime as dt
import itertools
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.conversations.models import Conversation
from kefu.core.services import shop_create
from kefu.customers.models import Customer
from kefu.metrics import orders_only, rebuild
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
from kefu.metrics.services import facts_rebuild, rollups_rebuild

from .kit import send_messages, send_orders

TZ = ZoneInfo("Asia/Shanghai")
D0 = dt.datetime(2026, 3, 10, tzinfo=TZ)
SHOPS = itertools.count()


def snapshot(shop) -> dict:
    """Every derived row of the shop, without ids (a roll-up row moved back to nothing by the
    incremental path stays stored with zeros, where the full rebuild writes none: left out)."""
    def rows(model, *fields):
        keys = 2 if model in (AgentDay, AgentMonth, GroupMonth, ShopPeriod) else 0
        got = model.objects.filter(shop=shop).values_list(*fields)
        return sorted((r for r in got if not keys or any(v not in (0, None, {}, "") for v in r[keys:])), key=repr)

    return {
        "credits": rows(OrderCredit, "order__order_id", "customer__buyer_id", "agent__name", "pay_day", "created_day",
                        "paid_amount", "refund_amount", "taken_back"),
        "shop": rows(ShopPeriod, "period", "start", "paying_buyers", "silent_orders", "silent_sales"),
        "days": rows(AgentDay, *[f.name for f in AgentDay._meta.concrete_fields if f.name not in ("id", "shop")]),
        "months": rows(AgentMonth, *[f.name for f in AgentMonth._meta.concrete_fields if f.name not in ("id", "shop")]),
        "groups": rows(GroupMonth, "group", "month", "first_response_hist", "response_hist"),
        "receptions": rows(Reception, "customer__buyer_id", "agent__name", "day", "replied", "is_inquiry",
                           "paid_final"),
        "turns": rows(Turn, "customer__buyer_id", "agent__name", "started_at", "seconds"),
        "conversations": rows(Conversation, "customer__buyer_id", "started_at", "message_count"),
    }


def generated(rng: random.Random, n_buyers: int, n_orders: int, tag: str = "") -> tuple[list, list]:
    msgs, orders = [], []
    for b in range(n_buyers):
        if b % 3 == 0:  # a buyer who writes to an agent
            t = D0 + dt.timedelta(hours=rng.randrange(0, 24 * 6), minutes=rng.randrange(60))
            agent = f"客服{b % 4}"
            msgs.append({"message_id": f"m{tag}{b}a", "buyer_id": f"b{b}", "agent_id": agent, "sender": "buyer",
                         "sent_at": t})
            msgs.append({"message_id": f"m{tag}{b}b", "buyer_id": f"b{b}", "agent_id": agent, "sender": "agent",
                         "sent_at": t + dt.timedelta(seconds=rng.randrange(5, 900))})
    for i in range(n_orders):
        created = D0 + dt.timedelta(hours=rng.randrange(0, 24 * 8), minutes=rng.randrange(60),
                                    seconds=rng.randrange(60))
        paid = created + dt.timedelta(minutes=rng.randrange(1, 3000)) if rng.random() < 0.8 else None
        amount = Decimal(rng.randrange(100, 99999)) / 100
        closed = refunded = None
        refund = Decimal("0.00")
        if paid is not None and rng.random() < 0.2:
            closed = paid + dt.timedelta(days=rng.randrange(0, 30))
        elif paid is not None and rng.random() < 0.2:
            refunded, refund = paid + dt.timedelta(days=rng.randrange(0, 30)), amount
        orders.append({"order_id": f"o{i}", "buyer_id": f"b{rng.randrange(n_buyers)}", "created_at": created,
                       "paid_at": paid, "closed_at": closed, "refunded_at": refunded, "paid_amount": amount,
                       "refund_amount": refund})
    return msgs, orders


def full_rebuild_of(shop) -> dict:
    """What the steps alone write for the shop, the fast path off."""
    real = orders_only.enabled
    orders_only.enabled = lambda: False
    try:
        rollups_rebuild(shop=shop)
    finally:
        orders_only.enabled = real
    return snapshot(shop)


def check_against_full_rebuild(shop) -> None:
    fast = snapshot(shop)
    assert rollup_differences(shop=shop) == []
    assert full_rebuild_of(shop) == fast
    rollups_rebuild(shop=shop)  # and the fast path again over everything: the same rows
    assert snapshot(shop) == fast


@pytest.mark.django_db
def test_fast_path_writes_what_the_full_rebuild_writes(shop, monkeypatch):
    rng = random.Random(11)
    handled = []
    real = orders_only.orders_only_rebuild

    def counting(**kw):
        rest = real(**kw)
        handled.append(len(kw["ids"]) - len(rest))
        return rest

    monkeypatch.setattr(rebuild, "orders_only_rebuild", counting)
    msgs, orders = generated(rng, 60, 150)
    send_messages(shop, msgs)
    send_orders(shop, orders)
    Customer.objects.filter(shop=shop, buyer_id__in=["b1", "b3"]).update(is_spam=True)  # one orders only, one writes
    facts_rebuild(shop=shop, customer_ids=Customer.objects.filter(shop=shop).values_list("id", flat=True))
    assert sum(handled) > 20  # the orders-only buyers went the fast way
    assert OrderCredit.objects.filter(shop=shop, agent__isnull=True).count() > 50
    check_against_full_rebuild(shop)

    # orders change: refunds, closes, new payments, and orders moving between the two kinds of buyer
    for o in orders[::3]:
        o["buyer_id"] = f"b{rng.randrange(60)}"
        if o["paid_at"] is None:
            o["paid_at"] = o["created_at"] + dt.timedelta(hours=30)
        elif o["refunded_at"] is None:
            o["refunded_at"], o["refund_amount"] = o["paid_at"] + dt.timedelta(days=2), o["paid_amount"]
    send_orders(shop, orders[::3])
    check_against_full_rebuild(shop)


@pytest.mark.django_db
def test_a_buyer_whose_messages_moved_away_goes_the_full_way(shop):
    """Credits to an agent left from messages the buyer no longer has (a merge moved them) are
    taken away by the full rebuild; the fast path does not take such a buyer."""
    send_messages(shop, [{"message_id": "m1", "buyer_id": "bx", "agent_id": "客服A", "sender": "agent",
                          "sent_at": D0}])
    send_orders(shop, [{"order_id": "o1", "buyer_id": "bx", "created_at": D0 + dt.timedelta(hours=1),
                        "paid_at": D0 + dt.timedelta(hours=2), "paid_amount": Decimal("10.00")}])
    assert OrderCredit.objects.get().agent is not None
    from kefu.conversations.models import Message

    Message.objects.filter(shop=shop).delete()  # as if moved to another record
    c = Customer.objects.get(shop=shop, buyer_id="bx")
    facts_rebuild(shop=shop, customer_ids=[c.id])
    assert OrderCredit.objects.get().agent is None
    assert rollup_differences(shop=shop) == []


@pytest.mark.django_db
def test_an_unknown_rebuild_step_turns_the_fast_path_off(monkeypatch):
    assert orders_only.enabled()
    monkeypatch.setattr(rebuild, "REBUILD_STEPS", [*rebuild.REBUILD_STEPS, "kefu.somewhere.step"])
    assert not orders_only.enabled()


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), buyers=st.integers(1, 25), orders=st.integers(1, 60),
       tz=st.sampled_from(["Asia/Shanghai", "UTC", "America/Los_Angeles"]), takeback=st.integers(0, 20))
def test_fast_path_equals_full_rebuild_on_generated_shops(seed, buyers, orders, tz, takeback):
    shop = shop_create(code=f"h{next(SHOPS)}", name="生成", timezone_name=tz)  # examples share the database
    shop.takeback_days = takeback
    shop.save(update_fields=["takeback_days"])
    msgs, rows = generated(random.Random(seed), buyers, orders, tag=str(seed))
    send_messages(shop, msgs)
    send_orders(shop, rows)
    check_against_full_rebuild(shop)
