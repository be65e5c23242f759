"""The bulk-loaded demo shop (bench/kpi.py --load bulk) is the services-loaded one: same rows, same figures."""

import csv
import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Count, Sum

from bench.kpi import comparable
from kefu.conversations.models import Conversation, Message
from kefu.customers.models import Customer
from kefu.demo.bulk import demo_files_write, demo_load_bulk
from kefu.demo.generator import World
from kefu.demo.services import demo_load
from kefu.metrics.audit import rollup_differences
from kefu.metrics.kpi import kpi_report
from kefu.metrics.models import DirtyBuyer
from kefu.orders.models import Order, OrderItem
from kefu.sla.services import sla_scan

END = dt.date(2026, 10, 31)
START = END.replace(day=1)


def test_files_hold_every_generated_row():
    world = World(seed=3, end=END, scale=0.01, id_prefix="f")
    again = World(seed=3, end=END, scale=0.01, id_prefix="f")
    messages, orders = list(again.messages()), again.orders()
    with tempfile.TemporaryDirectory() as d:
        mpath, opath, n_messages, n_orders = demo_files_write(world, d)
        with open(mpath, encoding="utf-8", newline="") as f:
            read_messages = list(csv.DictReader(f))
        with open(opath, encoding="utf-8", newline="") as f:
            read_orders = list(csv.DictReader(f))
        assert Path(mpath).exists() and Path(opath).exists()
    assert n_messages == len(messages) == len(read_messages) > 100
    assert n_orders == len(orders) == len(read_orders) > 10
    assert read_messages == messages  # every field, text with commas and quotes included
    for row, o in zip(read_orders, orders, strict=True):
        assert row["order_id"] == o["order_id"] and row["paid_amount"] == o["paid_amount"]
        items = [part.split(":") for part in row["items"].split(";")]
        assert [(s, int(q), p) for s, q, p in items] == [(i["sku"], i["quantity"], i["price"]) for i in o["items"]]


def _shape(shop) -> dict:
    """What the shop holds, counted straight from its rows."""
    orders = Order.objects.filter(shop=shop)
    return {
        "messages": Message.objects.filter(shop=shop).count(),
        "by_sender": dict(Message.objects.filter(shop=shop).values_list("sender").annotate(n=Count("id"))),
        "orders": orders.count(),
        "statuses": dict(orders.values_list("status").annotate(n=Count("id"))),
        "paid": orders.aggregate(s=Sum("paid_amount"))["s"] or Decimal(0),
        "refunded": orders.aggregate(s=Sum("refund_amount"))["s"] or Decimal(0),
        "items": OrderItem.objects.filter(order__shop=shop).aggregate(q=Sum("quantity"))["q"],
        "buyers": Customer.objects.filter(shop=shop).count(),
        "conversations": Conversation.objects.filter(shop=shop).count(),
    }


@pytest.mark.django_db(transaction=True)
def test_bulk_load_equals_services_load(tmp_path, settings):
    settings.KEFU_FACTS_INLINE = False  # the importers' path as the bench runs it: marks, then the drain
    bulk = demo_load_bulk(code="kb", seed=7, scale=0.05, end=END, directory=tmp_path)
    assert not DirtyBuyer.objects.filter(shop=bulk.shop).exists()
    services = demo_load(code="ks", seed=7, scale=0.05, end=END, extensions=False)
    now = dt.datetime.combine(END + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC)
    for shop in (bulk.shop, services.shop):
        sla_scan(shop=shop, now=now)

    assert (bulk.messages, bulk.orders, bulk.buyers) == (services.messages, services.orders, services.buyers)
    a, b = _shape(bulk.shop), _shape(services.shop)
    assert a["messages"] == bulk.messages > 2000 and a["orders"] == bulk.orders > 150
    assert a == b
    for by in ("agent", "group", "shop"):
        ra = kpi_report(shop=bulk.shop, date_from=START, date_to=END, by=by)
        rb = kpi_report(shop=services.shop, date_from=START, date_to=END, by=by)
        assert ra["shop_totals"]["inquiries"] > 50
        assert comparable(ra) == comparable(rb), by
    assert rollup_differences(shop=bulk.shop, date_from=START, date_to=END) == []
    assert rollup_differences(shop=bulk.shop) == []
