"""Imports of the real public data sets in ../shared/data through the CLI, with the figures
recomputed here by a separate route (csv module + plain loops, and tests/metrics/oracle.py)."""

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kefu.conversations.models import Message
from kefu.metrics.audit import rollup_differences
from kefu.metrics.kpi import kpi_report
from kefu.orders.models import Order
from tests.conftest import shared_data
from tests.metrics import oracle as O
from tests.metrics.kit import diff, report_by_agent

pytestmark = pytest.mark.django_db
EVER = (dt.date(2000, 1, 1), dt.date(2030, 12, 31))
TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"


def run_import(kind, path, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import", kind, str(path), shop="s1", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


# --- Twitter customer support: brands as agents ----------------------------------------------


def twcs_messages(path) -> list[dict]:
    """Tweets → generic message dicts (see the module docstring of the test for the rules)."""
    text = path.read_bytes().decode("utf-8")
    # tweet 3399 has bare carriage returns inside an unquoted field: they are not line breaks
    text = re.sub(r"\r(?!\n)", " ", text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5000
    by_id = {r["tweet_id"]: r for r in rows}
    brands = {r["author_id"] for r in rows if r["inbound"] == "False"}

    def parent(r):
        p = r["in_response_to_tweet_id"]
        return by_id.get(str(int(float(p)))) if p else None

    out = []
    for r in sorted(rows, key=lambda r: int(r["tweet_id"])):
        p = parent(r)
        if r["inbound"] == "True":
            # the brand the customer answers, else the brand that answered, else the first brand named
            agent = None
            if p is not None and p["inbound"] == "False":
                agent = p["author_id"]
            if agent is None:
                answers = [by_id[x] for x in r["response_tweet_id"].split(",") if x in by_id]
                agent = next((a["author_id"] for a in answers if a["inbound"] == "False"), None)
            if agent is None:
                agent = next((h for h in re.findall(r"@(\w+)", r["text"]) if h in brands), None)
            if agent is None:
                continue
            sender, buyer = "buyer", r["author_id"]
        else:
            agent = r["author_id"]
            if p is not None and p["inbound"] == "True":
                buyer = p["author_id"]
            else:
                m = re.match(r"\s*@(\d+)", r["text"])
                if not m:
                    continue
                buyer = m.group(1)
            sender = "agent"
        out.append({
            "message_id": f"tw{int(r['tweet_id']):06d}", "buyer_id": buyer, "agent_id": agent, "sender": sender,
            "sent_at": dt.datetime.strptime(r["created_at"], TWITTER_TIME), "created_at_text": r["created_at"],
            "text": r["text"], "order_id": "",
        })
    return out


def test_twitter_support_by_brand(shop, tmp_path):
    msgs = twcs_messages(shared_data("twitter_customer_support_twcs_head5000", "twcs_head5000.csv"))
    path = tmp_path / "twcs_generic.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["message_id", "channel", "buyer_id", "agent_id", "sender", "sent_at", "text"])
        for m in msgs:
            w.writerow([m["message_id"], "twitter", m["buyer_id"], m["agent_id"], m["sender"], m["created_at_text"], m["text"]])
    out, err = run_import("messages", path)
    assert f"{len(msgs)} created" in out
    assert Message.objects.filter(shop=shop).count() == len(msgs)

    cfg = O.Config(tz=shop.tz)
    want = O.report(msgs, [], cfg, *EVER)
    have, totals = report_by_agent(shop, *EVER)
    assert not diff(have, want["agents"]), "\n".join(diff(have, want["agents"]))
    # and straight from the CSV rows, without the oracle: receptions per brand
    receptions = defaultdict(set)
    for m in msgs:
        if m["sender"] == "buyer":
            receptions[m["agent_id"]].add((m["buyer_id"], m["sent_at"].astimezone(shop.tz).date()))
    assert {b: r["receptions"] for b, r in have.items() if r["receptions"]} == {b: len(s) for b, s in receptions.items()}
    assert totals["receptions"] == sum(len(s) for s in receptions.values())
    assert have["AmazonHelp"]["receptions"] > 50 and have["AppleSupport"]["replied_receptions"] > 30
    assert rollup_differences(shop=shop) == []
    # the whole shop, every day on its own, adds up to the whole range
    days = sorted({m["sent_at"].astimezone(shop.tz).date() for m in msgs})
    per_day = sum(kpi_report(shop=shop, date_from=d, date_to=d, by="shop")["shop_totals"]["receptions"] for d in days)
    assert per_day == totals["receptions"]


# --- Olist: orders with no messages are all silent ---------------------------------------------


def olist_orders(folder) -> tuple[list[dict], dict]:
    customers = {r["customer_id"]: r["customer_unique_id"] for r in csv.DictReader(folder.joinpath("olist_customers_dataset.csv").open())}
    paid = defaultdict(Decimal)
    for p in csv.DictReader(folder.joinpath("olist_order_payments_dataset.csv").open()):
        paid[p["order_id"]] += Decimal(p["payment_value"])
    orders = list(csv.DictReader(folder.joinpath("olist_orders_dataset.csv").open()))
    return orders, {"customers": customers, "paid": paid}


def write_olist(path, orders, ctx, change=None):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["order_id", "buyer_id", "created_at", "paid_at", "total_amount", "paid_amount"])
        for o in orders:
            amount = ctx["paid"][o["order_id"]]
            if change and o["order_id"] == change[0]:
                amount = change[1]
            w.writerow([o["order_id"], ctx["customers"][o["customer_id"]], o["order_purchase_timestamp"],
                        o["order_approved_at"], amount, amount])


def test_olist_orders_are_silent_and_reimport_is_idempotent(shop, tmp_path):
    folder = shared_data("olist_sample_4000_orders")
    orders, ctx = olist_orders(folder)
    path = tmp_path / "olist_orders.csv"
    write_olist(path, orders, ctx)
    out, _ = run_import("orders", path)
    assert "4000 created" in out
    paid_orders = [o for o in orders if o["order_approved_at"].strip()]
    silent_sales = sum((ctx["paid"][o["order_id"]] for o in paid_orders), Decimal(0))
    rep = kpi_report(shop=shop, date_from=EVER[0], date_to=EVER[1], by="shop")["shop_totals"]
    assert (rep["silent_orders"], rep["silent_sales"]) == (len(paid_orders), f"{silent_sales:.2f}")
    assert (rep["orders"], rep["receptions"]) == (0, 0)
    assert len(paid_orders) == 3994
    assert Order.objects.filter(shop=shop).count() == 4000

    # the same file again changes nothing
    before = list(Order.objects.filter(shop=shop).order_by("id").values())
    out, _ = run_import("orders", path)
    assert "0 created, 0 updated, 4000 unchanged" in out
    assert list(Order.objects.filter(shop=shop).order_by("id").values()) == before

    # one changed order is updated, and the figures follow
    target = paid_orders[0]
    old = ctx["paid"][target["order_id"]]
    write_olist(path, orders, ctx, change=(target["order_id"], old + Decimal("100.00")))
    out, _ = run_import("orders", path)
    assert "0 created, 1 updated, 3999 unchanged" in out
    assert Order.objects.get(shop=shop, order_id=target["order_id"]).paid_amount == old + 100
    rep = kpi_report(shop=shop, date_from=EVER[0], date_to=EVER[1], by="shop")["shop_totals"]
    assert rep["silent_sales"] == f"{silent_sales + 100:.2f}"
    assert rollup_differences(shop=shop) == []


# --- Tmall order report through the Taobao format ----------------------------------------------


def test_tmall_order_report_taobao_format(shop):
    """The Tmall cut gives 买家实际支付金额 net of refunds: it is read as such, no refund is lost."""
    path = shared_data("tmall_order_report", "tmall_order_report.csv")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    paid_rows = [r for r in rows if r["订单付款时间"].strip()]
    net_paid = sum((Decimal(r["买家实际支付金额"]) for r in paid_rows), Decimal(0))
    refunds = sum((Decimal(r["退款金额"]) for r in rows), Decimal(0))
    assert (len(rows), len(paid_rows), net_paid, refunds) == (28010, 24087, Decimal("1902487.15"), Decimal("572335.92"))
    # the net form, checked on the file itself: paid + refund = total on every refunded row
    refunded = [r for r in rows if Decimal(r["退款金额"]) > 0]
    assert all(Decimal(r["买家实际支付金额"]) + Decimal(r["退款金额"]) == Decimal(r["总金额"]) for r in refunded)
    partial = [r for r in refunded if Decimal(r["买家实际支付金额"]) > 0]
    over = [r for r in partial if Decimal(r["退款金额"]) > Decimal(r["买家实际支付金额"])]
    assert (len(partial), len(over)) == (514, 204)  # the 204 a capped reading lost 15,637.90 on

    out, err = run_import("orders", path, format="taobao")
    assert "28010 created" in out
    assert "reading: 买家实际支付金额 is net of refunds" in out and "5646 refunded orders" in out
    assert "买家会员名" in err  # no buyer column: a warning, not a failure
    orders = Order.objects.filter(shop=shop)
    assert orders.count() == 28010 and orders.filter(paid_at__isnull=False).count() == 24087
    # refunds are whole, and each order's net sale (paid − refund) is the file's 买家实际支付金额
    db = list(orders.values_list("order_id", "paid_amount", "refund_amount"))
    assert sum((r for _, _, r in db), Decimal(0)) == Decimal("572335.92")
    by_id = {r["订单编号"]: r for r in rows}
    assert all(p - r == Decimal(by_id[oid]["买家实际支付金额"]) for oid, p, r in db if by_id[oid]["订单付款时间"].strip())
    assert sum((p - r for _, p, r in db), Decimal(0)) == net_paid
    for r in over[:20] + partial[:20]:
        o = orders.get(order_id=r["订单编号"])
        assert (o.paid_amount, o.refund_amount) == (Decimal(r["总金额"]), Decimal(r["退款金额"]))
        assert o.paid_amount - o.refund_amount == Decimal(r["买家实际支付金额"]) > 0
    # what was paid (before refunds), from the file: 买家实际支付金额 + 退款金额 over the paid rows
    gross = sum((Decimal(r["买家实际支付金额"]) + Decimal(r["退款金额"]) for r in paid_rows), Decimal(0))
    rep = kpi_report(shop=shop, date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 12, 31), by="shop")["shop_totals"]
    assert (rep["silent_orders"], rep["silent_sales"]) == (24087, f"{gross:.2f}")
    # order 2: created 2020/2/20 23:59, paid 2020/2/21 0:00 (shop time), 21 yuan
    o = Order.objects.get(shop=shop, order_id="2")
    assert o.paid_amount == Decimal("21.00") and o.paid_at.astimezone(shop.tz) == dt.datetime(2020, 2, 21, tzinfo=shop.tz)
    # silent sales by payment day, recomputed from the file
    by_day = defaultdict(Decimal)
    for r in paid_rows:
        by_day[dt.datetime.strptime(r["订单付款时间"], "%Y/%m/%d %H:%M").date()] += (
            Decimal(r["买家实际支付金额"]) + Decimal(r["退款金额"]))
    for day in (dt.date(2020, 2, 1), dt.date(2020, 2, 14), dt.date(2020, 2, 29)):
        rep = kpi_report(shop=shop, date_from=day, date_to=day, by="shop")["shop_totals"]
        assert rep["silent_sales"] == f"{by_day[day]:.2f}"


def test_tmall_order_report_read_gross_on_request(shop):
    """--amounts gross refuses the net-form file, naming a row whose refund exceeds the paid amount."""
    path = shared_data("tmall_order_report", "tmall_order_report.csv")
    with pytest.raises(CommandError) as exc:
        run_import("orders", path, format="taobao", amounts="gross")
    assert "refund larger than the paid amount" in str(exc.value) and "nothing imported" in str(exc.value)
    assert not Order.objects.filter(shop=shop).exists()
