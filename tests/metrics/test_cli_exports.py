"""Defect 4 of issue 11: `kefu kpi --format csv|xlsx` writes names that look like formulas as text."""

import csv
import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.exports import safe_cell

NAMES = ["=1+1", '=HYPERLINK("http://evil.example","点我")', "+86-1", "-2+3", "@SUM(A1)", "\t=1"]


@pytest.fixture
def data(shop):
    rows = []
    for i, name in enumerate(NAMES):
        rows.append({"message_id": f"q{i}", "buyer_id": f"b{i}", "agent_id": name, "sender": "buyer",
                     "sent_at": "2026-11-01 10:00:00"})
        rows.append({"message_id": f"a{i}", "buyer_id": f"b{i}", "agent_id": name, "sender": "agent",
                     "sent_at": "2026-11-01 10:00:30"})
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))


def test_safe_cell_rules():
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("@x") == "'@x" and safe_cell("\r=1") == "'\r=1"
    assert safe_cell("-12.50") == "-12.50" and safe_cell("+3") == "+3"  # numbers stay numbers
    assert safe_cell("小美") == "小美" and safe_cell(5) == 5 and safe_cell(None) is None


@pytest.mark.django_db
def test_kpi_xlsx_has_no_formulas(data, tmp_path):
    out = tmp_path / "kpi.xlsx"
    call_command("kpi", "--shop", "s1", "--from", "2026-11-01", "--to", "2026-11-01", "--format", "xlsx",
                 "--out", str(out))
    ws = load_workbook(out).active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = {row[0] for row in ws.iter_rows(min_row=2, max_row=ws.max_row - 1, values_only=True)}
    assert names == {"'" + n.strip() for n in NAMES}
    # The finished sheet: range in its name, header frozen, the 全店 row last, rates as % numbers.
    assert ws.title == "客服绩效 2026-11-01" and ws.freeze_panes == "A2"
    head = [c.value for c in ws[1]]
    total = dict(zip(head, [c for c in ws[ws.max_row]], strict=True))
    assert total["客服"].value == "全店" and total["接待人数"].value == len(NAMES)
    assert total["回复率"].number_format == "0.00%" and total["回复率"].value == 1.0
    assert total["组"].value is None and ws["B2"].value == "售前接待组"


@pytest.mark.django_db
def test_kpi_csv_neutralises_formulas(data, capsysbinary, tmp_path):
    out = tmp_path / "kpi.csv"
    call_command("kpi", "--shop", "s1", "--from", "2026-11-01", "--to", "2026-11-01", "--format", "csv",
                 "--out", str(out))
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    names = {r[0] for r in rows[1:]}
    assert names == {"'" + n.strip() for n in NAMES}
    assert all(not cell or cell[0] not in "=+-@" or cell.lstrip("+-").replace(".", "").isdigit()
               for r in rows[1:] for cell in r)
