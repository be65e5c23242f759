"""The JD, 拼多多, 抖店 and Shopify order formats on their fixtures; every figure recomputed from the file."""

import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kefu.metrics.audit import rollup_differences
from kefu.orders.models import Order, OrderItem

pytestmark = pytest.mark.django_db
FIX = Path(__file__).parent / "fixtures"
D = Decimal


def rows_of(name, encoding="utf-8-sig"):
    return list(csv.DictReader(io.StringIO((FIX / name).read_bytes().decode(encoding))))


def run(path, fmt, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import", "orders", str(path), shop="s1", format=fmt, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def stored(shop):
    return {o.order_id: o for o in Order.objects.filter(shop=shop).prefetch_related("items")}


def items_of(o):
    return sorted((i.sku_code, i.quantity, i.price) for i in o.items.all())


def test_jd(shop):
    rows = rows_of("jd_orders.csv", "gb18030")
    out, _ = run(FIX / "jd_orders.csv", "jd")
    assert "6 created" in out
    got = stored(shop)
    by_order = defaultdict(list)
    for r in rows:
        by_order[r["订单号"]].append(r)
    paid_total = D(0)
    for oid, lines in by_order.items():
        o, f = got[oid], lines[0]
        paid = D(f["应付金额"]) + D(f["余额支付"]) if f["付款确认时间"] else D(0)
        paid_total += paid
        assert (o.total_amount, o.paid_amount, o.refund_amount) == (D(f["订单金额"]), paid, 0)
        assert o.customer.buyer_id == f["下单帐号"]
        assert items_of(o) == sorted((r["商品ID"], int(r["订购数量"]), D(r["京东价"])) for r in lines)
    assert sum((o.paid_amount for o in got.values()), D(0)) == paid_total == D("1395.00")
    status = {oid: o.status for oid, o in got.items()}
    assert status == {"231105001": "completed", "231105002": "shipped", "231105003": "unpaid",
                      "231105004": "paid", "231105005": "closed", "231105006": "closed"}
    assert got["231105004"].seller_remark == "赠品：收纳袋"
    assert len(items_of(got["231105001"])) == 2  # a multi-item order
    assert rollup_differences(shop=shop) == []
    # the same file again changes nothing
    out, _ = run(FIX / "jd_orders.csv", "jd")
    assert "0 created, 0 updated, 6 unchanged" in out


def test_pdd(shop):
    rows = rows_of("pdd_orders.csv")
    out, err = run(FIX / "pdd_orders.csv", "pdd")
    assert "5 created" in out and "1 order(s) with 售后状态 退款成功" in out
    assert "anonymous buyer" in err
    got = stored(shop)
    for r in rows:
        o = got[r["订单号"]]
        paid = D(r["用户实付金额(元)"])
        refund = paid if r["售后状态"] == "退款成功" else D(0)
        assert (o.total_amount, o.paid_amount, o.refund_amount) == (D(r["商品总价(元)"]) + D(r["邮费(元)"]), paid, refund)
        qty = int(r["商品数量(件)"])
        assert items_of(o) == [(r["商家编码-规格维度"], qty, (D(r["商品总价(元)"]) / qty).quantize(D("0.01")))]
        assert o.tracking_no == r["快递单号"] and o.courier == r["快递公司"]
    assert sum((o.paid_amount - o.refund_amount for o in got.values()), D(0)) == sum(
        (D(r["用户实付金额(元)"]) for r in rows if r["售后状态"] != "退款成功"), D(0)) == D("321.40")
    assert [got[r["订单号"]].status for r in rows] == ["completed", "shipped", "refunded", "refunding", "signed"]
    assert rollup_differences(shop=shop) == []


def test_douyin(shop):
    rows = rows_of("douyin_orders.csv")
    out, _ = run(FIX / "douyin_orders.csv", "douyin")
    assert "4 created" in out
    got = stored(shop)
    by_order = defaultdict(list)
    for r in rows:
        by_order[r["主订单编号"]].append(r)
    for oid, lines in by_order.items():
        o = got[oid]
        paid_at = lines[0]["支付完成时间"]
        paid = sum((D(r["订单应付金额"]) for r in lines), D(0)) if paid_at else D(0)
        refund = sum((D(r["订单应付金额"]) for r in lines if r["售后状态"] == "退款成功"), D(0)) if paid_at else D(0)
        total = sum((D(r["订单应付金额"]) + D(r["优惠总金额"]) for r in lines), D(0))
        assert (o.paid_amount, o.refund_amount, o.total_amount) == (paid, refund, total)
        assert items_of(o) == sorted((r["商家编码"], int(r["商品数量"]), D(r["商品单价"])) for r in lines)
    first = got["6921000000000001"]
    assert (first.courier, first.tracking_no, first.status) == ("中通快递", "75100000000001", "completed")
    assert first.refund_amount == D("109.80") and len(items_of(first)) == 2
    assert got["6921000000000006"].status == "closed" and got["6921000000000008"].status == "refunding"
    assert sum((o.paid_amount for o in got.values()), D(0)) == D("846.80")


def test_shopify(shop):
    rows = rows_of("shopify_orders.csv")
    out, _ = run(FIX / "shopify_orders.csv", "shopify")
    assert "5 created" in out
    got = stored(shop)
    firsts = {}
    lines = defaultdict(list)
    for r in rows:
        firsts.setdefault(r["Name"], r)
        lines[r["Name"]].append(r)
    paid_statuses = {"paid", "partially_paid", "partially_refunded", "refunded"}
    for name, f in firsts.items():
        o = got[name]
        is_paid = f["Financial Status"] in paid_statuses
        assert o.total_amount == D(f["Total"])
        assert o.paid_amount == (D(f["Total"]) if is_paid else 0)
        assert o.refund_amount == (D(f["Refunded Amount"]) if is_paid else 0)
        assert o.customer.buyer_id == f["Email"]
        assert items_of(o) == sorted((r["Lineitem sku"], int(r["Lineitem quantity"]), D(r["Lineitem price"]))
                                     for r in lines[name])
    assert {n: o.status for n, o in got.items()} == {
        "#1001": "shipped", "#1002": "shipped", "#1003": "unpaid", "#1004": "refunded", "#1005": "closed"}
    # times keep their own offset (-08:00)
    assert got["#1001"].paid_at.isoformat() == "2023-11-05T18:23:45+00:00"
    assert sum((o.paid_amount - o.refund_amount for o in got.values()), D(0)) == D("182.32")


def test_auto_detects_each_format(shop):
    for name, fmt in (("jd_orders.csv", "jd"), ("pdd_orders.csv", "pdd"), ("douyin_orders.csv", "douyin"),
                      ("shopify_orders.csv", "shopify")):
        out, _ = run(FIX / name, "auto")
        assert f"reading: format detected as {fmt}" in out


def test_wrong_format_names_the_formats_it_looks_like(shop):
    with pytest.raises(CommandError) as exc:
        run(FIX / "jd_orders.csv", "generic")
    text = str(exc.value)
    assert "nothing imported" in text and "looks like: jd" in text and "try --format jd" in text
    with pytest.raises(CommandError) as exc:
        run(FIX / "shopify_orders.csv", "taobao")
    assert "shopify" in str(exc.value)
    assert not Order.objects.exists()


def test_unknown_columns_name_every_format(shop, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run(path, "auto")
    assert "generic, taobao, jd, pdd, douyin, shopify" in str(exc.value)


def test_grouped_format_error_names_the_orders_first_line(shop, tmp_path):
    rows = rows_of("jd_orders.csv", "gb18030")
    rows[3]["下单时间"] = "2023-13-45 10:00:00"  # line 5 of the file: order 231105003
    path = tmp_path / "jd.csv"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("gb18030"))
    with pytest.raises(CommandError) as exc:
        run(path, "jd")
    assert "row 5, created_at" in str(exc.value)
    assert not Order.objects.exists() and not OrderItem.objects.exists()


def test_amounts_option_only_for_taobao(shop):
    with pytest.raises(CommandError) as exc:
        run(FIX / "jd_orders.csv", "jd", amounts="net")
    assert "--amounts does not apply to the jd format" in str(exc.value)
