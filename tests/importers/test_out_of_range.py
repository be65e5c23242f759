"""Defect 5 of issue 11 in files: years 1/9999 and numbers past the columns are clear errors, nothing written."""

import datetime as dt

import openpyxl
import pytest

from .test_bad_input import (
    MSG_HEAD,
    MSG_ROWS,
    ORD_HEAD,
    ORD_ROWS,
    TB_HEAD,
    TB_ROWS,
    counts,
    fails,
    imp,
    write_csv,
)

pytestmark = pytest.mark.django_db



@pytest.fixture
def seeded(shop, tmp_path):
    """Rows already there, so "nothing written" is checked against non-empty tables."""
    imp("messages", write_csv(tmp_path / "seed_m.csv", MSG_HEAD, MSG_ROWS))
    imp("orders", write_csv(tmp_path / "seed_o.csv", ORD_HEAD, ORD_ROWS))
    assert counts()[:2] == (4, 3)
    return shop


BAD_TIMES = ["0001-01-01 00:00:00", "9999-12-31 23:59:59", "0001/1/1 0:00", "9999-12-31T23:59:59-08:00"]


@pytest.mark.parametrize("when", BAD_TIMES)
def test_messages_file_with_a_year_out_of_range(seeded, tmp_path, when):
    rows = [r[:] for r in MSG_ROWS]
    rows[2][4] = when
    fails("messages", write_csv(tmp_path / "m.csv", MSG_HEAD, rows), "row 4", "sent_at", "out of range")


@pytest.mark.parametrize("when", BAD_TIMES)
def test_orders_files_with_a_year_out_of_range(seeded, tmp_path, when):
    rows = [r[:] for r in ORD_ROWS]
    rows[1][3] = when
    fails("orders", write_csv(tmp_path / "o.csv", ORD_HEAD, rows), "row 3", "paid_at", "out of range")
    tb = [r[:] for r in TB_ROWS]
    tb[0][5] = when
    fails("orders", write_csv(tmp_path / "tb.csv", TB_HEAD, tb), "row 2", "created_at", "out of range", fmt="taobao")


def test_xlsx_date_cells_out_of_range(seeded, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(TB_HEAD)
    ws.append(["5001", "tb_赵六", 58, 58, "交易成功", dt.datetime(9999, 12, 31, 23, 0), None, 0])
    path = tmp_path / "tb.xlsx"
    wb.save(path)
    fails("orders", path, "row 2", "created_at", "out of range", fmt="taobao")


@pytest.mark.parametrize("column, value, field", [
    ("items", "SKU1:1e20:10.00", "items"),
    ("items", "SKU1:100000000000000000000:10.00", "items"),
    ("items", "SKU1:1:1e20", "items"),
    ("paid_amount", "1e20", "paid_amount"),
    ("total_amount", "12345678901234.00", "total_amount"),
])
def test_orders_file_with_numbers_past_the_columns(seeded, tmp_path, column, value, field):
    head = [*ORD_HEAD, "items"]
    rows = [[*r, "SKU1:1:10.00"] for r in ORD_ROWS]
    rows[0][head.index(column)] = value
    fails("orders", write_csv(tmp_path / "o.csv", head, rows), "row 2", field)
