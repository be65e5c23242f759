"""Ties at one instant are broken by the sender's message id, so arrival order never changes a figure."""

import datetime as dt

import pytest

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import shop_create
from kefu.metrics.kpi import kpi_report
from kefu.orders.services import orders_clean, orders_upsert

ROWS = [
    {"message_id": "m1", "buyer_id": "b", "agent_id": "A", "sender": "buyer", "sent_at": "2026-11-01 10:00:00"},
    {"message_id": "m2", "buyer_id": "b", "agent_id": "B", "sender": "buyer", "sent_at": "2026-11-01 10:00:00"},
    {"message_id": "m3", "buyer_id": "b", "agent_id": "A", "sender": "agent", "sent_at": "2026-11-01 10:00:30"},
    {"message_id": "m4", "buyer_id": "b", "agent_id": "B", "sender": "agent", "sent_at": "2026-11-01 10:00:30"},
]
ORDER = {"order_id": "o1", "buyer_id": "b", "created_at": "2026-11-01 10:05", "paid_at": "2026-11-01 10:06",
         "paid_amount": "50.00", "total_amount": "50.00"}


@pytest.mark.django_db
@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]])
def test_same_second_replies_credit_the_same_agent_whatever_arrives_first(order):
    shop = shop_create(code="tie" + "".join(map(str, order)), name="t")
    for i in order:
        messages_ingest(shop=shop, rows=messages_clean([ROWS[i]], tz=shop.tz))
    orders_upsert(shop=shop, rows=orders_clean([ORDER], tz=shop.tz))
    day = dt.date(2026, 11, 1)
    by_agent = {a["agent"]: a for a in kpi_report(shop=shop, date_from=day, date_to=day)["agents"]}
    # m4 sorts after m3 at 10:00:30, so B sent the last reply before the order.
    assert by_agent["B"]["sales"] == "50.00" and by_agent["A"]["sales"] == "0.00"


def test_hist_keys_are_exact_below_ten_minutes_and_within_one_percent_above():
    from kefu.metrics.facts import hist_key

    assert [hist_key(s) for s in (0, 1, 599)] == [0, 1, 599]
    keys = set()
    for s in range(600, 3 * 86400, 7):
        k = hist_key(s)
        assert s * 0.99 <= k <= s
        keys.add(k)
    assert len(keys) < 1000
