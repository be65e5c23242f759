"""Bad input for every import: a clear CommandError naming the row and field, nothing written."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kefu.conversations.models import Message
from kefu.customers.models import Customer
from kefu.metrics.audit import rollup_differences
from kefu.metrics.models import AgentDay, OrderCredit, Reception
from kefu.orders.models import Order

pytestmark = pytest.mark.django_db

MSG_HEAD = ["message_id", "buyer_id", "agent_id", "sender", "sent_at", "text", "order_id"]
MSG_ROWS = [
    ["m1", "tb_张三", "店铺:小美", "buyer", "2026-11-01 10:00:00", "在吗？这件有货吗", ""],
    ["m2", "tb_张三", "店铺:小美", "agent", "2026-11-01 10:01:30", "亲，有货的哦", ""],
    ["m3", "tb_李四", "店铺:小美", "buyer", "2026-11-01 23:59:00", "我的快递到哪了", "TB1001"],
    ["m4", "tb_李四", "", "bot", "2026-11-02 00:00:01", "自动回复：您好", ""],
]
ORD_HEAD = ["order_id", "buyer_id", "created_at", "paid_at", "total_amount", "paid_amount", "refund_amount"]
ORD_ROWS = [
    ["TB1001", "tb_张三", "2026-11-01 10:05:00", "2026-11-01 10:06:00", "99.00", "99.00", "0"],
    ["TB1002", "tb_李四", "2026-11-01 11:00:00", "", "20.00", "0", "0"],
    ["TB1003", "tb_王五", "2026-11-01 12:00:00", "2026-11-01 12:00:30", "¥1,200.50", "1200.50", "200"],
]
TB_HEAD = ["订单编号", "买家会员名", "总金额", "买家实际支付金额", "订单状态", "订单创建时间", "订单付款时间", "退款金额"]
TB_ROWS = [
    ["5001", "tb_赵六", "58", "58", "交易成功", "2026/11/1 9:00", "2026/11/1 9:01", "0"],
    ["5002", "tb_钱七", "30", "0", "等待买家付款", "2026/11/1 9:30", "", "0"],
]


def write_csv(path, head, rows, encoding="utf-8"):
    buf = io.StringIO()
    w = csv.writer(buf)
    if head is not None:
        w.writerow(head)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def counts():
    return (Message.objects.count(), Order.objects.count(), Customer.objects.count(),
            AgentDay.objects.count(), Reception.objects.count(), OrderCredit.objects.count())


def imp(kind, path, fmt="generic"):
    out, err = io.StringIO(), io.StringIO()
    call_command("import", kind, str(path), shop="s1", format=fmt, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(kind, path, *needles, fmt="generic"):
    """The import raises a CommandError containing every needle, and writes nothing."""
    before = counts()
    with pytest.raises(CommandError) as exc:
        imp(kind, path, fmt)
    text = str(exc.value)
    assert "nothing imported" in text
    for n in needles:
        assert n in text, f"{n!r} not in {text!r}"
    assert counts() == before
    return text


@pytest.fixture
def seeded(shop, tmp_path):
    """A shop with some rows already, so 'nothing written' is checked against non-empty tables."""
    imp("messages", write_csv(tmp_path / "seed_m.csv", MSG_HEAD, MSG_ROWS))
    imp("orders", write_csv(tmp_path / "seed_o.csv", ORD_HEAD, ORD_ROWS))
    assert counts()[:2] == (4, 3)
    return shop


# --- good files -------------------------------------------------------------------------------


def test_generic_files_import_and_reimport_is_idempotent(shop, tmp_path):
    m = write_csv(tmp_path / "m.csv", MSG_HEAD, MSG_ROWS)
    o = write_csv(tmp_path / "o.csv", ORD_HEAD, ORD_ROWS)
    assert "4 created" in imp("messages", m)[0]
    assert "3 created" in imp("orders", o)[0]
    state = counts()
    days = list(AgentDay.objects.order_by("id").values())
    assert "0 created, 0 updated, 4 unchanged/duplicate" in imp("messages", m)[0]
    assert "0 created, 0 updated, 3 unchanged/duplicate" in imp("orders", o)[0]
    assert counts() == state and list(AgentDay.objects.order_by("id").values()) == days
    # TB1001 paid 4.5 min after 小美's reply: credited; 李四's first message carries an order card
    a = AgentDay.objects.get(day=dt.date(2026, 11, 1))
    assert (a.receptions, a.replied_receptions, a.inquiries, a.orders, a.sales) == (2, 1, 1, 1, Decimal("99.00"))
    assert Order.objects.get(order_id="TB1003").paid_amount == Decimal("1200.50")
    # a changed order is updated, not duplicated
    rows = [r[:] for r in ORD_ROWS]
    rows[1][3], rows[1][5] = "2026-11-01 11:00:10", "20.00"
    out, _ = imp("orders", write_csv(tmp_path / "o2.csv", ORD_HEAD, rows))
    assert "0 created, 1 updated, 2 unchanged" in out
    assert Order.objects.count() == 3 and Order.objects.get(order_id="TB1002").paid_amount == Decimal("20.00")
    assert rollup_differences(shop=shop) == []


def test_gbk_encoded_files_import(shop, tmp_path):
    m = write_csv(tmp_path / "m_gbk.csv", MSG_HEAD, MSG_ROWS, encoding="gbk")
    assert "4 created" in imp("messages", m)[0]
    assert Message.objects.get(message_id="m2").text == "亲，有货的哦"
    assert Customer.objects.filter(buyer_id="tb_张三").exists()
    tb = write_csv(tmp_path / "tb_gbk.csv", TB_HEAD, TB_ROWS, encoding="gbk")
    assert "2 created" in imp("orders", tb, fmt="taobao")[0]
    o = Order.objects.get(order_id="5001")
    assert (o.status, o.paid_amount, o.customer.buyer_id) == ("completed", Decimal("58.00"), "tb_赵六")


def test_xlsx_files_import(shop, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(MSG_HEAD)
    for r in MSG_ROWS:
        ws.append(r)
    ws.append(["m5", "tb_张三", "店铺:小美", "buyer", "2026/11/2 9:00", "还在吗", 1002])  # a number cell
    wb.save(tmp_path / "m.xlsx")
    assert "5 created" in imp("messages", tmp_path / "m.xlsx")[0]
    m5 = Message.objects.get(message_id="m5")
    assert (m5.sent_at, m5.order_ref) == (dt.datetime(2026, 11, 2, 9, tzinfo=shop.tz), "1002")

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ORD_HEAD)
    ws.append([1001, "tb_张三", "2026-11-01 10:05:00", dt.datetime(2026, 11, 1, 10, 6), 99, 99.5, 0])  # numbers
    wb.save(tmp_path / "o.xlsx")
    assert "1 created" in imp("orders", tmp_path / "o.xlsx")[0]
    o = Order.objects.get(order_id="1001")
    assert o.paid_amount == Decimal("99.50") and o.total_amount == Decimal("99.00")


def test_xlsx_message_with_a_date_cell(shop, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(MSG_HEAD)
    ws.append(["m1", "tb_张三", "店铺:小美", "buyer", dt.datetime(2026, 11, 2, 9, 0, 0), "还在吗", ""])
    wb.save(tmp_path / "m.xlsx")
    assert "1 created" in imp("messages", tmp_path / "m.xlsx")[0]
    assert Message.objects.get(message_id="m1").sent_at == dt.datetime(2026, 11, 2, 9, tzinfo=shop.tz)


def test_header_only_file_imports_nothing(shop, tmp_path):
    assert "0 created" in imp("messages", write_csv(tmp_path / "m.csv", MSG_HEAD, []))[0]


# --- bad files --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,head,rows,drop", [
    ("messages", MSG_HEAD, MSG_ROWS, "sent_at"),
    ("messages", MSG_HEAD, MSG_ROWS, "sender"),
    ("orders", ORD_HEAD, ORD_ROWS, "created_at"),
    ("orders", ORD_HEAD, ORD_ROWS, "order_id"),
])
def test_missing_required_column(seeded, tmp_path, kind, head, rows, drop):
    i = head.index(drop)
    path = write_csv(tmp_path / "f.csv", [h for h in head if h != drop], [r[:i] + r[i + 1:] for r in rows])
    fails(kind, path, drop)


def test_missing_taobao_column(seeded, tmp_path):
    i = TB_HEAD.index("订单创建时间")
    path = write_csv(tmp_path / "tb.csv", [h for h in TB_HEAD if h != "订单创建时间"], [r[:i] + r[i + 1:] for r in TB_ROWS])
    fails("orders", path, "订单创建时间", fmt="taobao")


def _one_bad(rows, row_index, col, value, head):
    rows = [r[:] for r in rows]
    rows[row_index][head.index(col)] = value
    return rows


@pytest.mark.parametrize("col,value,field", [
    ("sent_at", "yesterday", "sent_at"),
    ("sent_at", "2026-13-45 10:00:00", "sent_at"),
    ("sender", "robot", "sender"),
    ("sender", "", "sender"),
    ("agent_id", "", "agent_id"),  # a buyer message must say which agent it was routed to
    ("buyer_id", "", "buyer_id"),
])
def test_bad_message_row_among_good_ones(seeded, tmp_path, col, value, field):
    path = write_csv(tmp_path / "m.csv", MSG_HEAD, _one_bad(
        [[f"n{i}", "tb_新", "店铺:小美", "buyer", f"2026-11-03 10:0{i}:00", "你好", ""] for i in range(5)],
        2, col, value, MSG_HEAD))
    fails("messages", path, f"row 4, {field}")  # the header is line 1: the third data row is row 4


@pytest.mark.parametrize("col,value,field", [
    ("paid_amount", "12.3.4", "paid_amount"),
    ("paid_amount", "-5", "paid_amount"),
    ("paid_amount", "1.005", "paid_amount"),
    ("total_amount", "abc", "total_amount"),
    ("created_at", "not a date", "created_at"),
    ("created_at", "", "created_at"),
    ("paid_at", "2026-10-01 00:00:00", "paid_at"),  # paid before it was created
    ("refund_amount", "500", "refund_amount"),  # more than paid
])
def test_bad_order_row_among_good_ones(seeded, tmp_path, col, value, field):
    rows = [[f"N{i}", "tb_新", "2026-11-03 10:00:00", "2026-11-03 10:01:00", "50", "50", "0"] for i in range(5)]
    path = write_csv(tmp_path / "o.csv", ORD_HEAD, _one_bad(rows, 3, col, value, ORD_HEAD))
    fails("orders", path, f"row 5, {field}")


def test_bad_taobao_rows(seeded, tmp_path):
    rows = [r[:] for r in TB_ROWS] + [["5003", "tb_孙八", "10", "x10", "交易成功", "2026/11/1 9:00", "2026/11/1 9:01", "0"],
                                      ["5004", "tb_孙八", "10", "10", "火星状态", "2026/11/1 9:00", "2026/11/1 9:01", "0"],
                                      ["5005", "tb_孙八", "10", "10", "交易成功", "2026/11/1 9:00", "明天", "0"]]
    text = fails("orders", write_csv(tmp_path / "tb.csv", TB_HEAD, rows), "3 bad row(s)", fmt="taobao")
    assert "row 4, paid_amount" in text and "row 5, status" in text and "火星状态" in text and "row 6, paid_at" in text


def test_several_bad_rows_are_all_named(seeded, tmp_path):
    rows = [[f"n{i}", "tb_新", "店铺:小美", "buyer", "2026-11-03 10:00:00", "你好", ""] for i in range(30)]
    for i in (0, 10, 29):
        rows[i][3] = "robot"
    text = fails("messages", write_csv(tmp_path / "m.csv", MSG_HEAD, rows), "3 bad row(s)")
    assert "row 2, sender" in text and "row 12, sender" in text and "row 31, sender" in text


@pytest.mark.parametrize("kind", ["messages", "orders"])
def test_empty_file(seeded, tmp_path, kind):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    fails(kind, path, "empty")


def test_not_text_and_not_a_spreadsheet(seeded, tmp_path):
    bad = tmp_path / "m.csv"
    bad.write_bytes(b"\xff\xfe\x00\x81\x82" * 50)
    fails("messages", bad, "file")
    broken = tmp_path / "m.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not a workbook")
    fails("messages", broken, "file")


def test_missing_file_and_unknown_format(seeded, tmp_path):
    fails("messages", tmp_path / "nope.csv", "no such file")
    fails("messages", write_csv(tmp_path / "m.csv", MSG_HEAD, MSG_ROWS), "format", fmt="taobao")


def test_unknown_shop(db, tmp_path):
    with pytest.raises(CommandError, match="no shop"):
        imp("messages", write_csv(tmp_path / "m.csv", MSG_HEAD, MSG_ROWS))
