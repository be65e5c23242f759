"""Item 7 of issue 11: generated import files, through `kefu import` as a person runs it.

A valid file (any text a CSV cell can hold: commas, quotes, line breaks, Chinese, emoji) is
imported exactly: every row stored with its values, nothing more. A file with one defect
(a bad value in any row, a missing column, a cut-off quote) is refused with an error that names
the line, and nothing is written. Examples are bounded so the test fits the suite.
"""

import csv
import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.conversations.models import Message
from kefu.core.models import AgentAccount
from kefu.core.services import shop_create
from kefu.customers.models import Customer
from kefu.metrics.audit import rollup_differences
from kefu.metrics.models import AgentDay, OrderCredit, Reception
from kefu.orders.models import Order

pytestmark = pytest.mark.django_db

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MSG_HEAD = ["message_id", "buyer_id", "agent_id", "sender", "sent_at", "text"]
ORD_HEAD = ["order_id", "buyer_id", "created_at", "paid_at", "total_amount", "paid_amount", "refund_amount"]
_SHOPS = itertools.count(1)

ids = st.text(alphabet="abcXYZ019_-:张三李四店铺小美", min_size=1, max_size=16).map(str.strip).filter(bool)
# Any text a cell can hold; NUL and lone surrogates excluded (refused or dropped by design).
cell_text = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=("Cs", "Cc")),
                       st.sampled_from([",", '"', "\n", "\r", "\t", " ", "'", "；", "😀"])),
    max_size=40,
)
moments = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31))
money = st.decimals(min_value=0, max_value=Decimal("99999.99"), places=2)


@st.composite
def message_rows(draw):
    keys = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    rows = []
    for key in keys:
        sender = draw(st.sampled_from(["buyer", "agent", "bot"]))
        agent = draw(ids) if sender != "bot" else draw(st.sampled_from(["", "店铺:小美"]))
        rows.append([key, draw(ids), agent, sender, draw(moments).strftime("%Y-%m-%d %H:%M:%S"), draw(cell_text)])
    return rows


@st.composite
def order_rows(draw):
    keys = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    rows = []
    for key in keys:
        created = draw(moments)
        paid = created + dt.timedelta(seconds=draw(st.integers(0, 10**6))) if draw(st.booleans()) else None
        total = draw(money)
        paid_amount = draw(money) if paid else Decimal("0.00")
        refund = draw(st.decimals(min_value=0, max_value=paid_amount, places=2)) if paid else Decimal("0.00")
        rows.append([key, draw(ids), created.strftime("%Y-%m-%d %H:%M:%S"),
                     paid.strftime("%Y-%m-%d %H:%M:%S") if paid else "",
                     draw(st.sampled_from(["{}", "¥{:,}", " {} "])).format(total), str(paid_amount), str(refund)])
    return rows


def _csv(head, rows, encoding="utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(head)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def _counts():
    return (Message.objects.count(), Order.objects.count(), Customer.objects.count(),
            AgentDay.objects.count(), Reception.objects.count(), OrderCredit.objects.count())


def _import(tmp_path, kind, data: bytes, suffix=".csv"):
    shop = shop_create(code=f"g{next(_SHOPS)}", name="生成")
    path = tmp_path / f"{shop.code}{suffix}"
    path.write_bytes(data)
    out = io.StringIO()
    call_command("import", kind, str(path), shop=shop.code, stdout=out, stderr=io.StringIO())
    return shop, out.getvalue()


def _refused(tmp_path, kind, data: bytes, *needles):
    before = _counts()
    with pytest.raises(CommandError) as exc:
        _import(tmp_path, kind, data)
    text = str(exc.value)
    assert "nothing imported" in text
    for n in needles:
        assert n in text, f"{n!r} not in {text!r}"
    assert _counts() == before


@SETTINGS
@given(rows=message_rows())
def test_a_valid_messages_file_is_imported_exactly(tmp_path, rows):
    shop, out = _import(tmp_path, "messages", _csv(MSG_HEAD, rows))
    assert f"messages: {len(rows)} created" in out
    account = dict(AgentAccount.objects.filter(shop=shop).values_list("agent_id", "platform_id"))
    stored = {
        m.message_id: [m.message_id, m.customer.buyer_id, account.get(m.agent_id, ""), m.sender,
                       m.sent_at.astimezone(shop.tz).strftime("%Y-%m-%d %H:%M:%S"), m.text]
        for m in Message.objects.filter(shop=shop).select_related("customer")
    }
    assert stored == {r[0]: r for r in rows}
    assert rollup_differences(shop=shop) == []


@SETTINGS
@given(rows=order_rows())
def test_a_valid_orders_file_is_imported_exactly(tmp_path, rows):
    shop, out = _import(tmp_path, "orders", _csv(ORD_HEAD, rows))
    assert f"orders: {len(rows)} created" in out

    def moment(v):
        return v.astimezone(shop.tz).strftime("%Y-%m-%d %H:%M:%S") if v else ""

    stored = {
        o.order_id: [o.order_id, o.customer.buyer_id, moment(o.created_at), moment(o.paid_at),
                     o.total_amount, o.paid_amount, o.refund_amount]
        for o in Order.objects.filter(shop=shop).select_related("customer")
    }
    expected = {r[0]: [*r[:4], Decimal(r[4].strip().lstrip("¥").replace(",", "")), Decimal(r[5]), Decimal(r[6])]
                for r in rows}
    assert stored == expected


# One defect per file, in any row: (column, bad value, what the error must name).
MESSAGE_DEFECTS = [
    ("sent_at", "yesterday", "sent_at"),
    ("sent_at", "2026-02-30 10:00:00", "sent_at"),
    ("sent_at", "0001-01-01 00:00:00", "sent_at"),
    ("sent_at", "9999-12-31 23:59:59", "sent_at"),
    ("sent_at", "", "sent_at"),
    ("sender", "robot", "sender"),
    ("message_id", "", "message_id"),
    ("buyer_id", " ", "buyer_id"),
    ("buyer_id", "x" * 121, "buyer_id"),
    ("message_id", "m" * 121, "message_id"),
]
ORDER_DEFECTS = [
    ("created_at", "", "created_at"),
    ("created_at", "2026-13-01", "created_at"),
    ("created_at", "0001-01-01 00:00:00", "created_at"),
    ("total_amount", "12.3.4", "total_amount"),
    ("total_amount", "1e400", "total_amount"),
    ("paid_amount", "-5", "paid_amount"),
    ("order_id", "", "order_id"),
    ("order_id", "o" * 65, "order_id"),
]


@SETTINGS
@given(rows=message_rows(), defect=st.sampled_from(MESSAGE_DEFECTS), data=st.data())
def test_a_messages_file_with_one_bad_value_is_refused_naming_the_line(tmp_path, rows, defect, data):
    col, value, field = defect
    i = data.draw(st.integers(0, len(rows) - 1))
    rows[i][MSG_HEAD.index(col)] = value
    _refused(tmp_path, "messages", _csv(MSG_HEAD, rows), f"row {i + 2}, {field}")


@SETTINGS
@given(rows=order_rows(), defect=st.sampled_from(ORDER_DEFECTS), data=st.data())
def test_an_orders_file_with_one_bad_value_is_refused_naming_the_line(tmp_path, rows, defect, data):
    col, value, field = defect
    i = data.draw(st.integers(0, len(rows) - 1))
    rows[i][ORD_HEAD.index(col)] = value
    _refused(tmp_path, "orders", _csv(ORD_HEAD, rows), f"row {i + 2}, {field}")


@SETTINGS
@given(rows=message_rows(), column=st.sampled_from(["message_id", "buyer_id", "sender", "sent_at"]))
def test_a_messages_file_without_a_required_column_is_refused(tmp_path, rows, column):
    j = MSG_HEAD.index(column)
    data = _csv([h for h in MSG_HEAD if h != column], [r[:j] + r[j + 1:] for r in rows])
    _refused(tmp_path, "messages", data, column)
