"""Silent orders (静默下单, §12) come from the shop-day roll-up: moved by deltas as orders change,
checked by the audit, and filled for existing data by the migration."""

import datetime as dt
import importlib
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.apps import apps

from kefu.metrics.audit import rollup_differences
from kefu.metrics.kpi import kpi_report
from kefu.metrics.models import ShopPeriod

from .kit import send_messages, send_orders

TZ = ZoneInfo("Asia/Shanghai")
D = dt.datetime(2026, 3, 9, 23, 59, 30, tzinfo=TZ)


def order(oid, buyer, paid_at, amount, **kw):
    return {"order_id": oid, "buyer_id": buyer, "created_at": paid_at - dt.timedelta(minutes=1), "paid_at": paid_at,
            "paid_amount": Decimal(amount), **kw}


def totals(shop, day_from, day_to):
    t = kpi_report(shop=shop, date_from=day_from, date_to=day_to, by="shop")["shop_totals"]
    return t["silent_orders"], t["silent_sales"]


def test_silent_orders_move_with_the_orders(shop):
    d1, d2 = D.date(), D.date() + dt.timedelta(days=1)
    send_orders(shop, [order("o1", "b1", D, "10.50"), order("o2", "b2", D + dt.timedelta(minutes=1), "20.00")])
    assert totals(shop, d1, d1) == (1, "10.50") and totals(shop, d2, d2) == (1, "20.00")
    assert totals(shop, d1, d2) == (2, "30.50")
    # A chat before o2 credits it to the agent: no longer silent.
    send_messages(shop, [
        {"message_id": "m1", "buyer_id": "b2", "agent_id": "店铺:阿美", "sender": "buyer",
         "sent_at": D - dt.timedelta(minutes=10)},
        {"message_id": "m2", "buyer_id": "b2", "agent_id": "店铺:阿美", "sender": "agent",
         "sent_at": D - dt.timedelta(minutes=9)},
    ])
    assert totals(shop, d1, d2) == (1, "10.50")
    # The amount of o1 changes on a resend.
    send_orders(shop, [order("o1", "b1", D, "12.00")])
    assert totals(shop, d1, d2) == (1, "12.00")
    assert rollup_differences(shop=shop) == []


def test_the_audit_finds_a_drifted_silent_figure(shop):
    send_orders(shop, [order("o1", "b1", D, "10.50")])
    ShopPeriod.objects.filter(shop=shop, period=ShopPeriod.DAY).update(silent_sales=Decimal("9.00"))
    assert [d["field"] for d in rollup_differences(shop=shop)] == ["silent_sales"]


def test_the_migration_fills_existing_shops(shop):
    send_orders(shop, [order("o1", "b1", D, "10.50"), order("o2", "b2", D, "1.25")])
    ShopPeriod.objects.filter(shop=shop).update(silent_orders=0, silent_sales=0)
    assert rollup_differences(shop=shop) != []
    importlib.import_module("kefu.metrics.migrations.0004_silent_orders_rollup").fill(apps, None)
    assert rollup_differences(shop=shop) == []
    assert totals(shop, D.date(), D.date()) == (2, "11.75")
