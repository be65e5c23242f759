"""Malformed CSV in every importer (issue 11, defect 3): an error naming the line, nothing written.

Before: an unterminated quote on row 3 of 5 imported "3 created" and exited 0, rows 4-5 ending
up inside row 3's text (Python's csv module reads to the end of the file looking for the quote).
"""

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kefu.complaints.models import Review
from kefu.conversations.models import Message
from kefu.core.errors import KefuError
from kefu.importers.files import read_table, xlsx_check
from kefu.integrations.models import TrackingEvent
from kefu.orders.models import Order
from tests.importers.test_bad_input import (
    MSG_HEAD,
    MSG_ROWS,
    ORD_HEAD,
    ORD_ROWS,
    TB_HEAD,
    TB_ROWS,
    counts,
    fails,
    imp,
)

pytestmark = pytest.mark.django_db
FIX = Path(__file__).parent / "fixtures"
FIVE = MSG_ROWS + [["m5", "tb_王五", "店铺:小美", "buyer", "2026-11-02 09:00:00", "还没发货吗", ""]]


def line_of(cells, opened: int | None = None) -> str:
    """One CSV line; the cell at `opened` gets an opening quote that is never closed."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    if opened is None:
        return buf.getvalue()
    out = []
    for i, c in enumerate(cells):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow([c])
        out.append('"' + c if i == opened else buf.getvalue())
    return ",".join(out)


def broken(path, head, rows, bad: int, col: int | None = None, encoding="utf-8"):
    """A file whose data row `bad` (0-based; file line bad + 2) opens a quote it never closes."""
    if col is None:
        col = max(i for i, c in enumerate(rows[bad]) if c and '"' not in c)
    lines = [line_of(head)] + [line_of(r, col if i == bad else None) for i, r in enumerate(rows)]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_unterminated_quote_in_row_3_of_5_imports_nothing(shop, tmp_path):
    """The reported case: before the fix "3 created", exit 0, rows 4-5 inside row 3's text."""
    path = broken(tmp_path / "m.csv", MSG_HEAD, FIVE, bad=2, col=5)
    text = fails("messages", path, "row 4", "never closed")
    assert "1 bad row" in text
    assert Message.objects.count() == 0


def test_a_quote_closed_further_down_is_named_too(shop, tmp_path):
    """The quote is closed by a later quoted cell: the record is broken there, named by its first line."""
    rows = [r[:] for r in FIVE]
    rows[4][5] = '她说"好的"'  # written quoted: "她说""好的""" — the first quote closes row 3's cell
    path = broken(tmp_path / "m.csv", MSG_HEAD, rows, bad=2, col=5)
    fails("messages", path, "row 4", "broken CSV")


@pytest.mark.parametrize("line, why", [
    ('m3,tb_李四,店铺:小美,buyer,2026-11-01 23:59:00,我的快递,到哪了,TB1001', "8 cell(s), the header has 7"),
    ('m3,tb_李四,店铺:小美,buyer,2026-11-01 23:59:00,我的快递到哪了', "6 cell(s), the header has 7"),
    ('m3,tb_李四,店铺:小美,buyer,2026-11-01 23:59:00,"我的"快递,TB1001', "stray or unescaped quote"),
])
def test_cell_count_and_stray_quote(seeded_shop, tmp_path, line, why):
    lines = [line_of(MSG_HEAD), line_of(FIVE[0]), line_of(FIVE[1]), line, line_of(FIVE[3])]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fails("messages", path, "row 4, file", why)


@pytest.fixture
def seeded_shop(shop, tmp_path):
    from tests.importers.test_bad_input import write_csv

    imp("messages", write_csv(tmp_path / "seed.csv", MSG_HEAD, MSG_ROWS[:2]))
    return shop


def test_good_multiline_cells_blank_lines_and_trailing_commas_still_import(shop, tmp_path):
    """Quoted line breaks are text; a blank line is skipped; an empty cell past the header is allowed;
    and a bad row further down is named by its real file line, not its index."""
    path = tmp_path / "m.csv"
    good = [line_of(MSG_HEAD),
            line_of(["m1", "b1", "a1", "buyer", "2026-11-01 10:00:00", "第一行\n第二行,还有逗号", ""]),
            "",
            line_of(FIVE[1]) + ",",
            line_of(FIVE[2])]
    path.write_text("\n".join(good) + "\n", encoding="utf-8")
    assert "3 created" in imp("messages", path)[0]
    assert Message.objects.get(message_id="m1").text == "第一行\n第二行,还有逗号"
    bad = good[:4] + [line_of(["m9", "b1", "a1", "martian", "2026-11-01 10:00:00", "x", ""])]
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    fails("messages", path, "row 6, sender")  # header 1, m1 on 2-3, blank 4, m2 on 5


# --- orders, in every format --------------------------------------------------------------------


def fixture_rows(name, encoding="utf-8-sig"):
    table = list(csv.reader(io.StringIO((FIX / name).read_bytes().decode(encoding))))
    return table[0], table[1:]


ORDER_FILES = {
    "generic": lambda: (ORD_HEAD, ORD_ROWS + [["TB1004", "tb_赵六", "2026-11-02 10:00:00", "", "5.00", "0", "0"]]),
    "taobao": lambda: (TB_HEAD, TB_ROWS + [["5003", "tb_孙八", "20", "20", "交易成功", "2026/11/1 10:00", "2026/11/1 10:01", "0"],
                                           ["5004", "tb_周九", "21", "21", "交易成功", "2026/11/1 11:00", "2026/11/1 11:01", "0"]]),
    "jd": lambda: fixture_rows("jd_orders.csv", "gb18030"),
    "pdd": lambda: fixture_rows("pdd_orders.csv"),
    "douyin": lambda: fixture_rows("douyin_orders.csv"),
    "shopify": lambda: fixture_rows("shopify_orders.csv"),
}


@pytest.mark.parametrize("fmt", [*ORDER_FILES, "auto"])
def test_orders_in_every_format(seeded_shop, tmp_path, fmt):
    head, rows = ORDER_FILES["taobao" if fmt == "auto" else fmt]()
    assert len(rows) >= 4
    good = tmp_path / "good.csv"
    good.write_text("\n".join(line_of(r) for r in [head, *rows]) + "\n", encoding="utf-8")
    path = broken(tmp_path / f"{fmt}.csv", head, rows, bad=2)
    fails("orders", path, "row 4, file", "never closed", fmt=fmt)
    # the same file without the broken quote imports (so the error above was the quote's)
    assert "created" in imp("orders", good, fmt=fmt)[0]
    assert Order.objects.count() > 0


def test_gbk_file_with_a_broken_quote(seeded_shop, tmp_path):
    path = broken(tmp_path / "m.csv", MSG_HEAD, FIVE, bad=3, col=5, encoding="gbk")
    fails("messages", path, "row 5", "never closed")


# --- the other file importers --------------------------------------------------------------------


def test_tracking_file(shop, tmp_path):
    head = ["number", "state", "time", "context"]
    rows = [["ZT1", "1", f"2026-11-03 1{i}:00:00", f"到达{i}"] for i in range(5)]
    with pytest.raises(CommandError, match=r"row 4, file: broken CSV.*never closed"):
        call_command("import_tracking", str(broken(tmp_path / "t.csv", head, rows, bad=2)), shop="s1")
    assert not TrackingEvent.objects.exists()


def test_ratings_file(shop, tmp_path):
    from kefu.catalog.models import Sku

    for code in "ABCDE":
        Sku.objects.create(shop=shop, code=code, title=code)
    rows = [[c, "4.5", "10"] for c in "ABCDE"]
    with pytest.raises(CommandError, match=r"row 4, file: broken CSV.*never closed"):
        call_command("import_ratings", str(broken(tmp_path / "r.csv", ["sku", "rating", "count"], rows, bad=2)), shop="s1")
    assert not Sku.objects.filter(rating__isnull=False).exists()


def test_reviews_file(shop, tmp_path):
    from kefu.complaints.reviews import reviews_import_file
    from kefu.core.errors import ValidationFailed

    head = ["review_id", "order_id", "buyer_id", "sku", "rating", "text", "created_at", "agent_id"]
    rows = [[f"R{i}", f"T{i}", f"b{i}", "S", "5", "很好", "2026-11-01 10:00", "x"] for i in range(5)]
    with pytest.raises(ValidationFailed) as exc:
        reviews_import_file(shop=shop, path=broken(tmp_path / "r.csv", head, rows, bad=2, col=5))
    assert exc.value.errors[0]["row"] == 4 and "never closed" in exc.value.errors[0]["message"]
    assert not Review.objects.exists()


def test_read_table_names_lines(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('a,b\n1,"two\nlines"\n\n3,4\n5,"six\n7,8\n', encoding="utf-8")
    headers, rows_iter = __import__("kefu.importers.files", fromlist=["iter_table"]).iter_table(path)
    assert headers == ["a", "b"]
    assert next(rows_iter) == {"a": "1", "b": "two\nlines", "_line": 2}
    assert next(rows_iter) == {"a": "3", "b": "4", "_line": 5}
    from kefu.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        next(rows_iter)
    assert exc.value.errors == [{"row": 6, "field": "file", "message": exc.value.errors[0]["message"]}]
    with pytest.raises(ValidationFailed):
        read_table(path)


# --- .xlsx that inflates (defect 9) ---------------------------------------------------------------


def bomb(path, spaces_mb=60):
    """A real .xlsx whose sheet XML carries `spaces_mb` MB of blanks between elements (legal XML):
    a few tens of KB on disk, inflating ~1,000x."""
    src = path.with_suffix(".src.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(MSG_HEAD)
    ws.append(MSG_ROWS[0])
    wb.save(src)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info, data)
                continue
            head, tail = data.split(b"<sheetData>")
            with zout.open(info.filename, "w", force_zip64=True) as part:
                part.write(head + b"<sheetData>")
                block = b" " * 2**20
                for _ in range(spaces_mb):
                    part.write(block)
                part.write(tail)
    return path


def test_xlsx_bomb_is_refused_unread(shop, tmp_path):
    path = bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 2**20
    before = counts()
    with pytest.raises(CommandError, match="inflates to more than .* refused unread"):
        imp("messages", path)
    assert counts() == before
    # the absolute ceiling holds whatever the ratio (a limit of 4 MB here)
    with pytest.raises(KefuError, match="inflates"):
        xlsx_check(bomb(tmp_path / "small.xlsx", spaces_mb=5), max_bytes=4 * 2**20)
    xlsx_check(tmp_path / "small.xlsx")  # 5 MB is under the default limits: read normally


def test_xlsx_within_limits_imports(shop, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ORD_HEAD)
    for r in ORD_ROWS:
        ws.append(r)
    path = tmp_path / "o.xlsx"
    wb.save(path)
    xlsx_check(path)
    assert "3 created" in imp("orders", path)[0]
    assert Order.objects.get(order_id="TB1003").paid_amount == Decimal("1200.50")


def test_not_a_zip_named_xlsx(shop, tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"order_id,buyer_id\n")
    with pytest.raises(CommandError, match="not an .xlsx"):
        imp("orders", path)


# --- errors found after cleaning name the file line too (issue 11, item 4) --------------------------


def test_unknown_sku_in_ratings_names_its_file_line(shop, tmp_path):
    """A blank line and a two-line cell push the unknown SKU's row to line 6 (its index + 2 is 4)."""
    from kefu.catalog.models import Sku
    from kefu.catalog.services import ratings_file_import
    from kefu.core.errors import ValidationFailed

    for code in "AB":
        Sku.objects.create(shop=shop, code=code, title=code)
    path = tmp_path / "r.csv"
    path.write_text('sku,rating,count,note\nA,4.5,10,"two\nlines"\n\nB,4.0,3,\nNOPE,3.0,1,\n', encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        ratings_file_import(shop=shop, path=path)
    assert exc.value.errors == [{"row": 6, "field": "sku", "message": "no SKU 'NOPE' in this shop"}]
    assert not Sku.objects.filter(rating__isnull=False).exists()


def test_repeated_review_id_names_both_file_lines(shop, tmp_path):
    from kefu.complaints.reviews import reviews_import_file
    from kefu.core.errors import ValidationFailed

    head = "review_id,order_id,buyer_id,sku,rating,text,created_at,agent_id\n"
    path = tmp_path / "r.csv"
    path.write_text(head + 'R1,T1,b1,S,5,"很好\n真的",2026-11-01 10:00,\n\nR2,T2,b2,S,4,好,2026-11-01 10:00,\n'
                    'R1,T3,b3,S,1,差,2026-11-01 10:00,\nR3,T4,b4,S,5,好,2026-11-01 10:00,ghost\n', encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        reviews_import_file(shop=shop, path=path)
    assert exc.value.errors == [
        {"row": 6, "field": "review_id", "message": "repeats row 2"},
        {"row": 7, "field": "agent_id", "message": "unknown agent 'ghost'"},
    ]
    assert not Review.objects.exists()
