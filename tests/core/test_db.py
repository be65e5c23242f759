import datetime as dt
from decimal import Decimal

import pytest

from kefu.core.db import bulk_update_rows
from kefu.metrics.models import AgentDay
from kefu.orders.models import Order
from kefu.orders.services import orders_clean, orders_upsert


@pytest.mark.django_db
def test_bulk_update_rows_keeps_every_type(shop):
    orders_upsert(shop=shop, rows=orders_clean(
        [{"order_id": f"o{i}", "buyer_id": "b", "created_at": "2026-11-01 10:00"} for i in range(3)], tz=shop.tz))
    objs = list(Order.objects.filter(shop=shop).order_by("order_id"))
    when = dt.datetime(2026, 11, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
    for i, o in enumerate(objs):
        o.paid_at, o.paid_amount, o.title, o.status = when, Decimal(f"{i}.05"), f"标题{i}", "paid"
    objs[0].paid_at = None
    bulk_update_rows(Order, objs, ["paid_at", "paid_amount", "title", "status"])
    got = list(Order.objects.filter(shop=shop).order_by("order_id").values_list("paid_at", "paid_amount", "title"))
    assert got == [(None, Decimal("0.05"), "标题0"), (when, Decimal("1.05"), "标题1"), (when, Decimal("2.05"), "标题2")]
    day = AgentDay.objects.create(shop=shop, agent=shop.agents.create(name="x"), day=dt.date(2026, 11, 1))
    day.response_hist, day.receptions = {"12": 3}, 4
    bulk_update_rows(AgentDay, [day], ["response_hist", "receptions"])
    day.refresh_from_db()
    assert (day.response_hist, day.receptions) == ({"12": 3}, 4)
