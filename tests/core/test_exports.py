"""The shared spreadsheet writer (issue 12 item 4): formats, total row, sheet names, formula guard."""

import csv
import datetime as dt
import io
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from kefu.core.exports import (
    COUNT,
    MONEY,
    RATE,
    SHEET_NAME_MAX,
    Sheet,
    column_sums,
    csv_bytes,
    period_text,
    sheet_name,
    xlsx_bytes,
)

ROWS = [{"agent": "小美", "receptions": 3, "reply_rate": 0.6667, "sales": "1187.1"},
        {"agent": "=HYPERLINK(1)", "receptions": 2, "reply_rate": 1, "sales": Decimal("59.90")}]
SHEET = Sheet(title="客服排名", columns=["agent", "receptions", "reply_rate", "sales"], rows=ROWS,
              labels={"agent": "客服", "receptions": "接待人数", "reply_rate": "回复率", "sales": "客服销售额"},
              kinds={"receptions": COUNT, "reply_rate": RATE, "sales": MONEY}, period="2026-11-01~11-30",
              total={"receptions": 5, "reply_rate": 0.8, "sales": Decimal("1247.00")}, total_label="全店")


def test_xlsx_is_finished():
    wb = load_workbook(io.BytesIO(xlsx_bytes([SHEET, SHEET])))
    assert wb.sheetnames == ["客服排名 2026-11-01~11-30", "客服排名 2026-11-01~11-30(2)"]
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == ["客服", "接待人数", "回复率", "客服销售额"] and all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:D3"
    assert [c.value for c in ws[2]] == ["小美", 3, 0.6667, 1187.1]
    assert ws["A3"].value == "'=HYPERLINK(1)" and ws["A3"].data_type != "f"
    assert [c.value for c in ws[4]] == ["全店", 5, 0.8, 1247] and all(c.font.b for c in ws[4])
    assert {ws.cell(r, 3).number_format for r in (2, 3, 4)} == {"0.00%"}
    assert {ws.cell(r, 4).number_format for r in (2, 3, 4)} == {"#,##0.00"}
    assert ws.cell(2, 2).number_format == "#,##0"
    # Widths fit the longest text (CJK counts double): 客服销售额 is 10 columns wide.
    assert ws.column_dimensions["D"].width >= 10 and ws.column_dimensions["A"].width >= len("'=HYPERLINK(1)")


def test_csv_keeps_the_rows_money_with_two_decimals_and_the_formula_guard():
    rows = list(csv.reader(io.StringIO(csv_bytes(SHEET).decode("utf-8-sig"))))
    assert rows == [["客服", "接待人数", "回复率", "客服销售额"], ["小美", "3", "0.6667", "1187.10"],
                    ["'=HYPERLINK(1)", "2", "1", "59.90"]]


def test_period_text():
    d = dt.date
    assert period_text(d(2026, 11, 1), d(2026, 11, 1)) == "2026-11-01"
    assert period_text(d(2026, 11, 1), d(2026, 11, 30)) == "2026-11-01~11-30"
    assert period_text(d(2025, 12, 1), d(2026, 1, 31)) == "2025-12-01~2026-01-31"


@settings(deadline=None, max_examples=50)  # writes a workbook per example
@given(st.lists(st.text(min_size=0, max_size=60), min_size=1, max_size=8), st.sampled_from(["", "2026-11-01~11-30",
                                                                                           "2025-12-01~2026-01-31"]))
def test_sheet_names_are_short_valid_and_unique(titles, period):
    taken: set[str] = set()
    names = [sheet_name(t, period, taken) for t in titles]
    assert all(0 < len(n) <= SHEET_NAME_MAX for n in names)
    assert not [n for n in names if set(n) & set("[]:*?/\\")]
    assert len({n.lower() for n in names}) == len(names)
    if period:
        assert all(period in n for n in names[:1])
    xlsx_bytes([Sheet(title=t, columns=["a"], rows=[], period=period) for t in titles])  # Excel would accept them


def test_column_sums_are_exact():
    rows = [{"n": 1, "m": "0.10"}, {"n": 2, "m": Decimal("0.20")}, {"n": None, "m": ""}]
    assert column_sums(rows, ("n", "m")) == {"n": 3, "m": Decimal("0.30")}
