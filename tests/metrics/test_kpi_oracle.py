"""kpi_report against the independent oracle (tests/metrics/oracle.py), on generated shops.

Rows go in through the real services (messages_clean/messages_ingest, orders_clean/orders_upsert)
in random order and random batches, with resends and order updates, so the incremental roll-up
(facts_rebuild moving AgentDay by differences) is exercised; the report must equal the oracle
computed from the final raw rows, and the audit must find no drift.
"""

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.core.models import Agent
from kefu.core.services import shop_create, shop_settings_update
from kefu.customers.models import Customer

from . import oracle as O
from .kit import assert_matches_oracle, assert_rollup_clean, drained, send_messages, send_orders


@pytest.fixture(autouse=True)
def _deferred(settings):
    """These exactness tests run the production path: ingestion marks buyers, and the figures are
    compared once the queue is drained (kit.assert_matches_oracle drains first)."""
    settings.KEFU_FACTS_INLINE = False


TZ = ZoneInfo("Asia/Shanghai")
BASE = dt.datetime(2026, 3, 9, tzinfo=TZ)  # a Monday, shop time
D0 = BASE.date()
AGENTS = ["店铺:阿美", "店铺:小王", "店铺:老李"]
BOT = "店铺:机器人"
BUYERS = ["tb_a", "tb_b", "tb_c", "tb_d"]
SPAM = "ad_spam"
DAY = 86400
# Steps between consecutive messages of one buyer: ties (0), seconds, around the slow target,
# hours, and more than a day (replies on the next day).
STEPS = [0, 0, 1, 30, 179, 180, 181, 600, 3600, 5 * 3600, 13 * 3600, DAY + 7]
# First message of a buyer: midnight edges in shop time and plain daytime.
STARTS = [-90, 9 * 3600, DAY - 61, DAY - 1, 2 * DAY + 10 * 3600, 3 * DAY - 30, 4 * DAY + 20 * 3600]

_counter = itertools.count()


def at(day: int, clock: str = "00:00:00") -> dt.datetime:
    h, m, s = (int(x) for x in clock.split(":"))
    return BASE + dt.timedelta(days=day, hours=h, minutes=m, seconds=s)


# --- generators -----------------------------------------------------------------------------


@st.composite
def buyer_orders(draw, buyer: str, n_orders: int):
    out = []
    for i in range(n_orders):
        created = BASE + dt.timedelta(seconds=draw(st.sampled_from(
            [-20 * DAY, -16 * DAY + 3600, -14 * DAY, -2 * DAY, 0, 3600, DAY - 30, DAY + 60, 2 * DAY + 50000,
             3 * DAY + 1, 4 * DAY + 9 * 3600, 6 * DAY - 1]
        )) + draw(st.integers(0, 120)))
        amount = draw(st.sampled_from([Decimal("0.00"), Decimal("19.90"), Decimal("100.00"), Decimal("33.33")]))
        state = draw(st.sampled_from(["unpaid", "paid", "paid", "closed", "refund_full", "refund_part"]))
        paid_at = closed_at = refunded_at = None
        refund = Decimal("0.00")
        if state != "unpaid":
            paid_at = created + dt.timedelta(seconds=draw(st.sampled_from([0, 60, 3600, DAY])))
        if state == "unpaid" and draw(st.booleans()):
            closed_at = created + dt.timedelta(hours=1)
        if state == "closed":
            closed_at = paid_at + dt.timedelta(seconds=draw(st.sampled_from([3600, 14 * DAY, 15 * DAY, 16 * DAY])))
        if state in ("refund_full", "refund_part") and amount > 0:
            refund = amount if state == "refund_full" else (amount / 2).quantize(Decimal("0.01"))
            refunded_at = paid_at + dt.timedelta(seconds=draw(st.sampled_from([DAY, 15 * DAY, 16 * DAY])))
        out.append({
            "order_id": f"{buyer}-o{i}", "buyer_id": buyer, "created_at": created, "paid_at": paid_at,
            "closed_at": closed_at, "refunded_at": refunded_at, "paid_amount": amount, "refund_amount": refund,
        })
    return out


@st.composite
def buyer_messages(draw, buyer: str, order_ids: list[str]):
    t = BASE + dt.timedelta(seconds=draw(st.sampled_from(STARTS)))
    routed = draw(st.sampled_from(AGENTS))
    msgs = []
    for i in range(draw(st.integers(0, 9))):
        t = t + dt.timedelta(seconds=draw(st.sampled_from(STEPS)))
        kind = draw(st.sampled_from(["buyer", "buyer", "buyer", "agent", "agent", "bot", "system", "transfer"]))
        m = {"message_id": f"{buyer}-m{i}", "buyer_id": buyer, "sent_at": t, "order_id": ""}
        if kind == "transfer":  # the buyer is routed to another agent from now on
            routed = draw(st.sampled_from(AGENTS))
            kind = "buyer"
        if kind == "buyer":
            m.update(sender="buyer", agent_id=routed)
            if draw(st.integers(0, 5)) == 0:  # an order card
                m["order_id"] = draw(st.sampled_from([*order_ids, "card-unknown"]))
        elif kind == "agent":
            m.update(sender="agent", agent_id=draw(st.sampled_from([routed, routed, *AGENTS])))
        elif kind == "bot":  # auto-reply, sometimes on behalf of the routed agent
            m.update(sender="bot", agent_id=draw(st.sampled_from(["", BOT, routed])))
        else:
            m.update(sender="system", agent_id="")
        msgs.append(m)
    return _untie(msgs)


def _untie(msgs: list[dict]) -> list[dict]:
    """Move apart (by 1 s) same-instant pairs whose order SPEC §12 leaves open.

    Settled: a buyer's message sorts before an agent's at the same instant (such ties stay).
    Not settled: two human replies of different agents at one instant (whose is "last" for
    credit?) and two first buyer messages of one agent at one instant carrying different order
    cards. facts.py breaks those by database id, i.e. by arrival order — see the report.
    """
    changed = True
    while changed:
        changed = False
        msgs.sort(key=lambda m: (m["sent_at"], m["message_id"]))
        for a, b in itertools.pairwise(msgs):
            if a["sent_at"] != b["sent_at"] or a["sender"] != b["sender"]:
                continue
            clash = (a["sender"] == "agent" and a["agent_id"] != b["agent_id"]) or (
                a["sender"] == "buyer" and a["agent_id"] == b["agent_id"] and a["order_id"] != b["order_id"]
            )
            if clash:
                b["sent_at"] += dt.timedelta(seconds=1)
                changed = True
                break
    return msgs


def _early_version(o: dict) -> dict:
    """What an order looked like before its final state (unpaid, or paid and not yet refunded)."""
    if o["paid_at"] is None or o["refunded_at"] is None and o["closed_at"] is None:
        return {**o, "paid_at": None, "closed_at": None, "refunded_at": None, "refund_amount": Decimal("0.00")}
    return {**o, "closed_at": None, "refunded_at": None, "refund_amount": Decimal("0.00")}


@st.composite
def shops(draw):
    orders, messages = [], []
    for b in [*BUYERS, SPAM]:
        os_ = draw(buyer_orders(b, draw(st.integers(0, 3))))
        mine = draw(buyer_messages(b, [o["order_id"] for o in os_]))
        for o in os_:  # some orders placed at the very second of a message, or whole days after it
            if mine and draw(st.booleans()):
                anchor = draw(st.sampled_from(mine))["sent_at"]
                shift = anchor + dt.timedelta(seconds=draw(st.sampled_from([0, 0, 1, DAY, 2 * DAY, 3 * DAY]))) - o["created_at"]
                for k in ("created_at", "paid_at", "closed_at", "refunded_at"):
                    if o[k] is not None:
                        o[k] += shift
        orders += os_
        messages += mine
    # the arrival sequence: every message and final order once, in random order ...
    items = [("m", m) for m in messages] + [("o", o) for o in orders]
    items = list(draw(st.permutations(items)))
    # ... earlier versions of some orders arriving before their final version ...
    for o in orders:
        if draw(st.booleans()):
            pos = next(i for i, (k, v) in enumerate(items) if k == "o" and v is o)
            items.insert(draw(st.integers(0, pos)), ("o", _early_version(o)))
    # ... in batches, some of them sent twice.
    batches, i = [], 0
    while i < len(items):
        n = draw(st.integers(1, 8))
        batches.append(items[i : i + n])
        i += n
    resend = [draw(st.booleans()) and draw(st.booleans()) for _ in batches]
    setting = draw(st.sampled_from([
        {},
        {"attribution_window_days": 1},
        {"attribution_window_days": 7, "attribution_basis": "paid"},
        {"slow_turn_seconds": 60, "service_hours": {"weekly": {str(d): [["09:00", "12:00"], ["13:30", "23:00"]] for d in range(6)},
                                                     "holidays": ["2026-03-11"]}},
        {"aftersales_lookback_days": 3, "takeback_days": 1},
    ]))
    # Agents moving between groups while their figures keep arriving (the group roll-up follows).
    moves = draw(st.lists(st.tuples(st.integers(0, len(batches)), st.sampled_from(AGENTS),
                                    st.sampled_from(["presales", "aftersales", ""])), max_size=3))
    return messages, orders, batches, resend, setting, moves


def _send(shop, batch):
    for kind, run in itertools.groupby(batch, key=lambda kv: kv[0]):
        rows = [v for _, v in run]
        (send_messages if kind == "m" else send_orders)(shop, rows)


RANGES = [
    (D0 - dt.timedelta(days=40), D0 + dt.timedelta(days=40)),
    *[(D0 + dt.timedelta(days=i), D0 + dt.timedelta(days=i)) for i in range(-1, 7)],
    (D0 + dt.timedelta(days=1), D0 + dt.timedelta(days=3)),
    # whole calendar months: the report reads the month roll-up's distinct paying buyers
    (D0.replace(day=1), (D0.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)),
    ((D0.replace(day=28) + dt.timedelta(days=4)).replace(day=1),
     (D0.replace(day=28) + dt.timedelta(days=35)).replace(day=1) - dt.timedelta(days=1)),
]


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=shops())
def test_report_equals_oracle(data):
    messages, orders, batches, resend, setting, moves = data
    shop = shop_create(code=f"h{next(_counter)}", name="生成的店")
    if setting:
        shop = shop_settings_update(shop=shop, **setting)
    Customer.objects.create(shop=shop, buyer_id=SPAM, is_spam=True)

    def move(at: int) -> None:
        for i, name, group in moves:
            if i == at:
                drained(shop)  # the month rows roll into the group the agent had until now
                Agent.objects.filter(shop=shop, name=name).update(group=group)

    for at, (batch, again) in enumerate(zip(batches, resend, strict=True)):
        move(at)
        _send(shop, batch)
        if again and all(k == "m" for k, _ in batch):
            _send(shop, batch)
    move(len(batches))
    send_orders(shop, orders) if orders else None  # a resend of every final order changes nothing
    for lo, hi in RANGES:
        assert_matches_oracle(shop, messages, orders, lo, hi, spam={SPAM}, groups=lo.day == 1 or hi - lo > dt.timedelta(days=60))
    assert_rollup_clean(shop)


# --- hand-computed cases ----------------------------------------------------------------------

A, B, C = AGENTS


def msg(mid, sender, agent, when, buyer="tb_x", order=""):
    return {"message_id": mid, "buyer_id": buyer, "agent_id": agent, "sender": sender, "sent_at": when, "order_id": order}


def order(oid, created, paid=None, amount="100.00", buyer="tb_x", closed=None, refund="0.00", refunded=None):
    return {"order_id": oid, "buyer_id": buyer, "created_at": created, "paid_at": paid, "closed_at": closed,
            "refunded_at": refunded, "paid_amount": Decimal(amount), "refund_amount": Decimal(refund)}


def run(shop, messages, orders=(), day_from=-30, day_to=30, spam=()):
    """Ingest, check the oracle and the audit, return the report rows of the whole range by agent."""
    orders = list(orders)
    if messages:
        send_messages(shop, messages)
    if orders:
        send_orders(shop, orders)
    lo, hi = D0 + dt.timedelta(days=day_from), D0 + dt.timedelta(days=day_to)
    agents, totals = assert_matches_oracle(shop, messages, orders, lo, hi, spam=spam)
    assert_rollup_clean(shop)
    return agents, totals


def day_report(shop, messages, orders, day):
    d = D0 + dt.timedelta(days=day)
    return assert_matches_oracle(shop, messages, orders, d, d)


def test_bot_and_system_messages_are_not_replies(shop):
    msgs = [
        msg("1", "buyer", A, at(0, "10:00:00")),
        msg("2", "bot", A, at(0, "10:00:05")),  # auto-reply on the agent's account
        msg("3", "system", "", at(0, "10:00:06")),
        msg("4", "agent", A, at(0, "10:02:00")),
    ]
    agents, _ = run(shop, msgs)
    a = agents[A]
    assert (a["receptions"], a["replied_receptions"], a["first_response_seconds"]) == (1, 1, 120.0)
    assert (a["answered_turns"], a["slow_turns"], a["unanswered_turns"]) == (1, 0, 0)
    assert BOT not in agents


def test_only_bot_answer_leaves_the_reception_unreplied(shop):
    msgs = [msg("1", "buyer", A, at(0, "10:00:00")), msg("2", "bot", A, at(0, "10:00:01"))]
    a = run(shop, msgs)[0][A]
    assert (a["receptions"], a["replied_receptions"], a["reply_rate"], a["unanswered_turns"]) == (1, 0, 0.0, 1)
    assert a["first_response_seconds"] is None


def test_buyer_sorts_before_agent_at_the_same_second(shop):
    # The agent's row comes first in the batch and in the database; the buyer's still sorts first.
    msgs = [msg("2", "agent", A, at(0, "10:00:00")), msg("1", "buyer", A, at(0, "10:00:00")),
            msg("3", "buyer", A, at(0, "10:05:00")), msg("4", "agent", A, at(0, "10:05:00"))]
    a = run(shop, msgs)[0][A]
    assert (a["receptions"], a["replied_receptions"], a["first_response_seconds"]) == (1, 1, 0.0)
    assert (a["answered_turns"], a["response_seconds"], a["unanswered_turns"]) == (2, 0.0, 0)


def test_midnight_in_shop_time(shop):
    # 23:59:30 and 00:00:30 Shanghai are the same UTC day (15:59:30 and 16:00:30 UTC): shop days differ.
    msgs = [msg("1", "buyer", A, at(0, "23:59:30")), msg("2", "agent", A, at(1, "00:00:30"))]
    agents, _ = run(shop, msgs)
    a = agents[A]
    assert (a["receptions"], a["replied_receptions"], a["answered_turns"], a["response_seconds"]) == (1, 0, 1, 60.0)
    d0 = day_report(shop, msgs, [], 0)[0][A]
    assert (d0["receptions"], d0["replied_receptions"], d0["answered_turns"], d0["unanswered_turns"]) == (1, 0, 0, 0)
    d1 = day_report(shop, msgs, [], 1)[0][A]
    assert (d1["receptions"], d1["answered_turns"], d1["response_seconds"]) == (0, 1, 60.0)


def test_transfer_from_one_agent_to_another(shop):
    msgs = [
        msg("1", "buyer", A, at(0, "10:00:00")),
        msg("2", "buyer", B, at(0, "10:05:00")),  # transferred to B
        msg("3", "agent", B, at(0, "10:06:00")),
        msg("4", "agent", A, at(0, "11:00:00")),  # A answers its own turn later
    ]
    agents, _ = run(shop, msgs)
    a, b = agents[A], agents[B]
    assert (b["receptions"], b["replied_receptions"], b["first_response_seconds"], b["slow_turns"]) == (1, 1, 60.0, 0)
    assert (a["receptions"], a["replied_receptions"], a["first_response_seconds"], a["slow_turns"]) == (1, 1, 3600.0, 1)


def test_transfer_never_answered_by_the_first_agent(shop):
    msgs = [msg("1", "buyer", A, at(0, "10:00:00")), msg("2", "buyer", B, at(0, "10:05:00")),
            msg("3", "agent", B, at(0, "10:06:00"))]
    agents, _ = run(shop, msgs)
    assert (agents[A]["receptions"], agents[A]["replied_receptions"], agents[A]["unanswered_turns"]) == (1, 0, 1)
    assert agents[A]["reply_rate"] == 0.0 and agents[B]["reply_rate"] == 1.0


def test_reply_on_the_next_day(shop):
    msgs = [
        msg("1", "buyer", A, at(0, "10:00:00")),
        msg("2", "buyer", A, at(1, "08:00:00")),  # still waiting: the same turn
        msg("3", "agent", A, at(1, "09:00:00")),
    ]
    agents, _ = run(shop, msgs)
    a = agents[A]
    # day 0: not replied; day 1: replied, first response = the turn holding 08:00, started day 0 10:00
    assert (a["receptions"], a["replied_receptions"], a["answered_turns"]) == (2, 1, 1)
    assert a["first_response_seconds"] == 23 * 3600.0
    d0 = day_report(shop, msgs, [], 0)[0][A]
    assert (d0["replied_receptions"], d0["unanswered_turns"], d0["answered_turns"]) == (0, 0, 0)
    d1 = day_report(shop, msgs, [], 1)[0][A]
    assert (d1["answered_turns"], d1["response_seconds"], d1["slow_turns"]) == (1, 23 * 3600.0, 1)


def test_unanswered_turn_counts_once_on_its_start_day(shop):
    msgs = [msg("1", "buyer", A, at(0, "23:00:00")), msg("2", "buyer", A, at(1, "01:00:00"))]
    agents, _ = run(shop, msgs)
    assert (agents[A]["receptions"], agents[A]["unanswered_turns"], agents[A]["answered_turns"]) == (2, 1, 0)
    assert day_report(shop, msgs, [], 0)[0][A]["unanswered_turns"] == 1
    assert day_report(shop, msgs, [], 1)[0][A]["unanswered_turns"] == 0


def test_medians_and_slow_turns(shop):
    msgs = []
    for i, (buyer, wait) in enumerate([("b1", 10), ("b2", 100), ("b3", 200), ("b4", 1000)]):
        msgs += [msg(f"q{i}", "buyer", A, at(0, "12:00:00"), buyer=buyer),
                 msg(f"r{i}", "agent", A, at(0, "12:00:00") + dt.timedelta(seconds=wait), buyer=buyer)]
    a = run(shop, msgs)[0][A]
    assert a["first_response_seconds"] == 327.5 and a["first_response_seconds_median"] == 150.0
    assert a["response_seconds_median"] == 150.0 and a["slow_turns"] == 2


def test_attribution_window_counts_the_inquiry_day_as_day_one(shop):
    msgs = [msg("1", "buyer", A, at(0, "10:00:00")), msg("2", "agent", A, at(0, "10:01:00"))]
    orders = [
        order("in", at(2, "23:59:59"), at(3, "00:00:10"), "50.00"),  # day 3 of the window: credited
        order("out", at(3, "00:00:01"), at(3, "00:00:02"), "70.00"),  # day 4: silent
        order("before", at(0, "09:00:00"), at(0, "09:00:00"), "5.00", buyer="tb_y"),  # no reply before it
        order("unpaid", at(0, "10:30:00"), None, "9.00"),  # unpaid: neither credited nor silent
    ]
    agents, totals = run(shop, msgs, orders)
    a = agents[A]
    assert (a["orders"], a["sales"], a["paying_buyers"], a["avg_order_value"]) == (1, "50.00", 1, "50.00")
    assert (a["inquiries"], a["inquiries_paid_same_day"], a["inquiries_paid_next_day"], a["inquiries_paid"]) == (1, 0, 0, 1)
    assert a["conversion_rate"] == 1.0
    assert (totals["silent_orders"], totals["silent_sales"]) == (2, "75.00")
    # sales belong to the day of payment (day 3), the inquiry to day 0
    assert day_report(shop, msgs, orders, 3)[0][A]["sales"] == "50.00"
    assert day_report(shop, msgs, orders, 0)[0][A]["inquiries_paid"] == 1


def test_same_and_next_day_conversion(shop):
    msgs = [msg("1", "buyer", A, at(0, "23:00:00")), msg("2", "agent", A, at(0, "23:00:30")),
            msg("3", "buyer", B, at(0, "09:00:00"), buyer="tb_y"), msg("4", "agent", B, at(0, "09:00:10"), buyer="tb_y")]
    orders = [order("o1", at(1, "00:10:00"), at(1, "00:11:00")),
              order("o2", at(0, "09:30:00"), at(0, "09:31:00"), buyer="tb_y")]
    agents, _ = run(shop, msgs, orders)
    assert (agents[A]["inquiries_paid_same_day"], agents[A]["inquiries_paid_next_day"], agents[A]["inquiries_paid"]) == (0, 1, 1)
    assert (agents[B]["inquiries_paid_same_day"], agents[B]["inquiries_paid_next_day"], agents[B]["inquiries_paid"]) == (1, 1, 1)


def test_credit_goes_to_the_last_replier_at_or_before_the_order(shop):
    msgs = [msg("1", "buyer", A, at(0, "10:00:00")), msg("2", "agent", A, at(0, "10:01:00")),
            msg("3", "buyer", B, at(0, "10:02:00")), msg("4", "agent", B, at(0, "10:05:00")),
            msg("5", "agent", A, at(0, "10:06:00"))]  # after the order: does not take the credit
    orders = [order("o1", at(0, "10:05:00"), at(0, "10:07:00"), "88.00")]
    agents, totals = run(shop, msgs, orders)
    assert agents[B]["sales"] == "88.00" and agents[A]["sales"] == "0.00"
    assert agents[B]["inquiries_paid"] == 1 and agents[A]["inquiries_paid"] == 0
    assert totals["silent_orders"] == 0


def test_basis_paid_setting(shop):
    shop = shop_settings_update(shop=shop, attribution_basis="paid")
    msgs = [msg("1", "buyer", A, at(0, "10:00:00")), msg("2", "agent", A, at(0, "10:05:00"))]
    orders = [order("o1", at(0, "10:00:30"), at(0, "10:06:00"))]  # created before the reply, paid after
    agents, totals = run(shop, msgs, orders)
    assert agents[A]["orders"] == 1 and totals["silent_orders"] == 0
    shop = shop_settings_update(shop=shop, attribution_basis="created")
    agents, totals = assert_matches_oracle(shop, msgs, orders, D0, D0)
    assert agents[A]["orders"] == 0 and totals["silent_orders"] == 1


def test_refunds_and_takeback(shop):
    msgs = [msg("1", "buyer", A, at(0, "10:00:00")), msg("2", "agent", A, at(0, "10:01:00"))]
    paid = at(0, "11:00:00")
    orders = [
        order("full", at(0, "11:00:00"), paid, "100.00", refund="100.00", refunded=paid + dt.timedelta(days=3)),
        order("part", at(0, "11:00:00"), paid, "60.00", refund="20.00", refunded=paid + dt.timedelta(days=3)),
        order("late", at(0, "11:00:00"), paid, "40.00", refund="40.00", refunded=paid + dt.timedelta(days=16)),
        order("closed", at(0, "11:00:00"), paid, "30.00", closed=paid + dt.timedelta(days=15)),
    ]
    a = run(shop, msgs, orders)[0][A]
    assert (a["orders"], a["sales"], a["net_sales"], a["refunds"]) == (4, "230.00", "100.00", "160.00")
    assert a["refund_rate"] == round(160 / 230, 6) and a["paying_buyers"] == 1 and a["avg_order_value"] == "230.00"


def test_order_card_makes_an_after_sales_reception(shop):
    msgs = [msg("1", "buyer", A, at(0, "10:00:00"), order="TB123"), msg("2", "agent", A, at(0, "10:01:00")),
            msg("3", "buyer", A, at(1, "10:00:00")), msg("4", "buyer", A, at(1, "10:00:05"), order="TB123")]
    agents, _ = run(shop, msgs)
    # day 0: the first message carries the card (after-sales); day 1: its first message does not
    assert (agents[A]["receptions"], agents[A]["inquiries"]) == (2, 1)


def test_recent_paid_order_makes_receptions_after_sales(shop):
    orders = [
        order("r14", at(-14, "10:00:00"), at(-14, "10:00:00"), buyer="tb_14"),
        order("r16", at(-16, "10:00:00"), at(-16, "10:00:00"), buyer="tb_16"),
        order("closed", at(-5, "10:00:00"), at(-5, "10:00:00"), buyer="tb_cl", closed=at(-4, "10:00:00")),
        order("closed_later", at(-5, "10:00:00"), at(-5, "10:00:00"), buyer="tb_cl2", closed=at(1, "10:00:00")),
        order("unpaid", at(-2, "10:00:00"), None, buyer="tb_un"),
    ]
    msgs = [msg(f"m{b}", "buyer", A, at(0, "09:00:00"), buyer=b) for b in ("tb_14", "tb_16", "tb_cl", "tb_cl2", "tb_un")]
    agents, totals = run(shop, msgs, orders)
    # after-sales: tb_14 (paid 14 days before), tb_cl2 (not yet closed); inquiries: the other three
    assert (agents[A]["receptions"], agents[A]["inquiries"]) == (5, 3)
    assert totals["silent_orders"] == 4


def test_lookback_and_takeback_boundaries(shop):
    t = at(0, "09:00:00")
    orders = [
        order("exact15", t - dt.timedelta(days=15), t - dt.timedelta(days=15), buyer="tb_15"),  # in: after-sales
        order("same_second", t, t, buyer="tb_now"),  # paid at the message's second: not "previous"
        order("closed_at_msg", t - dt.timedelta(days=1), t - dt.timedelta(days=1), buyer="tb_cl", closed=t),
    ]
    msgs = [msg(f"m{b}", "buyer", A, t, buyer=b) for b in ("tb_15", "tb_now", "tb_cl")]
    agents, _ = run(shop, msgs, orders)
    assert (agents[A]["receptions"], agents[A]["inquiries"]) == (3, 2)


def test_reply_at_the_order_second_takes_the_credit(shop):
    msgs = [msg("1", "buyer", A, at(0, "10:00:00")), msg("2", "agent", A, at(0, "10:00:10"))]
    orders = [order("o1", at(0, "10:00:10"), at(0, "10:00:10"), "12.34"),
              order("o2", at(0, "10:00:09"), at(0, "10:00:10"), "1.00")]
    agents, totals = run(shop, msgs, orders)
    assert agents[A]["sales"] == "12.34" and totals["silent_sales"] == "1.00"


def test_spam_buyers_are_left_out(shop):
    Customer.objects.create(shop=shop, buyer_id="ad", is_spam=True)
    msgs = [msg("1", "buyer", A, at(0, "10:00:00"), buyer="ad"), msg("2", "agent", A, at(0, "10:01:00"), buyer="ad"),
            msg("3", "buyer", A, at(0, "10:00:00")), msg("4", "agent", A, at(0, "10:30:00"))]
    orders = [order("o1", at(0, "11:00:00"), at(0, "11:00:00"), buyer="ad"),
              order("o2", at(0, "11:00:00"), at(0, "11:00:00"), buyer="ad_silent")]
    Customer.objects.create(shop=shop, buyer_id="ad_silent", is_spam=True)
    agents, totals = run(shop, msgs, orders, spam={"ad", "ad_silent"})
    assert (agents[A]["receptions"], agents[A]["orders"], agents[A]["first_response_seconds"]) == (1, 0, 1800.0)
    assert totals["silent_orders"] == 0


def test_resend_and_reordered_batches_change_nothing(shop):
    msgs = [msg("1", "buyer", A, at(0, "10:00:00")), msg("2", "agent", A, at(0, "10:01:00")),
            msg("3", "agent", B, at(0, "10:02:00"))]
    orders = [order("o1", at(0, "10:03:00"), at(0, "10:03:00"))]
    send_orders(shop, orders)  # silent at first ...
    send_messages(shop, msgs[2:])  # ... then credited to B ...
    send_messages(shop, msgs[:2])
    send_messages(shop, msgs)  # resend
    agents, totals = run(shop, msgs, orders)
    assert agents[B]["orders"] == 1 and totals["silent_orders"] == 0


def test_credit_moving_away_leaves_no_empty_agent_row(shop):
    """An agent whose only fact moved to another agent is not listed with zeros."""
    msgs = [msg("1", "agent", A, at(0, "10:00:00"))]
    orders = [order("o1", at(0, "10:05:00"), at(0, "10:05:00"))]
    send_messages(shop, msgs)
    send_orders(shop, orders)  # credited to A
    later = [msg("2", "agent", B, at(0, "10:04:00"))]  # arrives late: B replied last
    agents, _ = run(shop, msgs + later, orders)
    assert set(agents) == {B}


def test_business_hours_and_holiday(shop):
    hours = {"weekly": {str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(5)},
             "holidays": ["2026-03-16"]}  # Mon–Fri; Monday 16 March is a holiday
    shop = shop_settings_update(shop=shop, service_hours=hours)
    friday, tuesday = 4, 8
    msgs = [
        # Friday 17:59 → Tuesday 09:01 (weekend and the Monday holiday closed): 60 + 60 business s
        msg("1", "buyer", A, at(friday, "17:59:00")), msg("2", "agent", A, at(tuesday, "09:01:00")),
        # Tuesday 11:58 → 13:03: lunch break closed: 120 + 180 = 300 business s (slow)
        msg("3", "buyer", A, at(tuesday, "11:58:00"), buyer="tb_y"), msg("4", "agent", A, at(tuesday, "13:03:00"), buyer="tb_y"),
        # Saturday 10:00 → 10:30 the same day: 0 business s
        msg("5", "buyer", B, at(5, "10:00:00"), buyer="tb_z"), msg("6", "agent", B, at(5, "10:30:00"), buyer="tb_z"),
    ]
    agents, _ = run(shop, msgs)
    a, b = agents[A], agents[B]
    assert a["answered_turns"] == 2 and a["response_business_seconds"] == (120 + 300) / 2
    assert a["response_seconds"] == ((4 * 86400 - 17 * 60 * 60 - 59 * 60 + 9 * 3600 + 60) + 65 * 60) / 2
    assert a["slow_turns"] == 1  # only the 300 s one; the weekend wait is 120 business s
    assert a["first_response_business_seconds"] == 300.0  # the only replied reception is tb_y's (Friday's reply came Tuesday)
    assert (b["first_response_seconds"], b["first_response_business_seconds"], b["slow_turns"]) == (1800.0, 0.0, 0)


def test_settings_change_rebuilds_the_figures(shop):
    msgs = [msg("1", "buyer", A, at(0, "10:00:00")), msg("2", "agent", A, at(0, "10:01:00"))]
    orders = [order("o1", at(1, "12:00:00"), at(1, "12:00:00"), "66.00")]  # day 2 of the window
    agents, totals = run(shop, msgs, orders)
    assert agents[A]["sales"] == "66.00" and agents[A]["inquiries_paid"] == 1
    shop = shop_settings_update(shop=shop, attribution_window_days=1)
    agents, totals = assert_matches_oracle(shop, msgs, orders, D0 - dt.timedelta(days=30), D0 + dt.timedelta(days=30))
    assert agents[A]["sales"] == "0.00" and agents[A]["inquiries_paid"] == 0
    assert (totals["silent_orders"], totals["silent_sales"]) == (1, "66.00")
    assert_rollup_clean(shop)
    shop = shop_settings_update(shop=shop, attribution_window_days=2, slow_turn_seconds=30)
    agents, totals = assert_matches_oracle(shop, msgs, orders, D0 - dt.timedelta(days=30), D0 + dt.timedelta(days=30))
    assert agents[A]["sales"] == "66.00" and agents[A]["slow_turns"] == 1
    assert_rollup_clean(shop)


def test_longer_window_setting(shop):
    shop = shop_settings_update(shop=shop, attribution_window_days=7)
    msgs = [msg("1", "buyer", A, at(0, "10:00:00")), msg("2", "agent", A, at(0, "10:01:00"))]
    orders = [order("o1", at(6, "23:00:00"), at(6, "23:00:00"), "10.00"),  # day 7: credited, converts
              order("o2", at(7, "00:00:00"), at(7, "00:00:00"), "20.00")]  # day 8: silent
    agents, totals = run(shop, msgs, orders)
    assert (agents[A]["orders"], agents[A]["inquiries_paid"], agents[A]["inquiries_paid_next_day"]) == (1, 1, 0)
    assert totals["silent_sales"] == "20.00"


def test_oracle_business_seconds_by_hand():
    cfg = O.Config(hours={"weekly": {"0": [["09:00", "18:00"]]}, "holidays": []})
    assert O.business_seconds(at(0, "08:00:00"), at(0, "10:00:00"), cfg) == 3600
    assert O.business_seconds(at(0, "17:00:00"), at(7, "09:30:00"), cfg) == 3600 + 1800
    assert O.business_seconds(at(0, "10:00:00"), at(0, "10:00:00"), cfg) == 0
    assert O.business_seconds(at(0, "10:00:00"), at(1, "10:00:00"), O.Config()) == 86400
