"""Every spreadsheet Kefu hands out (web exports, `kefu kpi`): one writer, so every file reads the same.

XLSX: headers in the UI's language, rates as % number formats, money as numbers with two decimals,
durations as whole seconds, a 合计/全店 row in bold, column widths that fit, the header frozen, and the
range in the sheet's name (Excel allows 31 characters and no two sheets of one name). CSV: the same
headers and values (money with two decimals), without styling and without the total row, so programs
read it as a plain table. Text a spreadsheet would run as a formula is neutralised in both.
"""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

# Kinds of column: how the value is written and formatted.
TEXT, COUNT, RATE, MONEY, SECONDS = "text", "count", "rate", "money", "seconds"
FORMATS = {COUNT: "#,##0", RATE: "0.00%", MONEY: "#,##0.00", SECONDS: "#,##0"}
SHEET_NAME_MAX = 31
SHEET_NAME_BAD = set('[]:*?/\\')
WIDTH_MIN, WIDTH_MAX = 6, 48


@dataclass
class Sheet:
    """One table: `columns` are row keys, `labels` their headers (already in the UI's language),
    `kinds` maps a key to count/rate/money/seconds (text otherwise), `total` is the 全店/合计 row
    computed by the figure's own code (never summed here from rates)."""

    title: str
    columns: list[str]
    rows: list[dict]
    labels: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)
    period: str = ""
    total: dict | None = None
    total_label: str = "合计"


def safe_cell(value):
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading quote.

    Agent names, buyer nicks and notes come from buyers and platforms; every CSV/XLSX Kefu writes
    passes through xlsx_bytes/csv_bytes, which apply this to each text cell.
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _number(value, kind):
    """The cell's number for a numeric kind, or the (neutralised) text when it is not a number."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or kind == TEXT:
        return safe_cell(value) if isinstance(value, str) else value
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return safe_cell(str(value))
    if kind == MONEY:
        return d.quantize(Decimal("0.01"))
    if kind == RATE:
        return float(d)
    return int(d) if d == d.to_integral_value() else float(d)


def sheet_name(title: str, period: str, taken: set[str]) -> str:
    """`title period` within Excel's 31 characters (the range kept whole, the title cut), without the
    characters Excel refuses, unique within the workbook (Excel compares case-insensitively)."""
    title = "".join(ch for ch in title if ch not in SHEET_NAME_BAD).strip() or "Kefu"
    period = "".join("~" if ch == "/" else ch for ch in period if ch not in SHEET_NAME_BAD - {"/"}).strip()
    room = SHEET_NAME_MAX - (len(period) + 1 if period else 0)
    name = (f"{title[:max(room, 1)]} {period}" if period else title)[:SHEET_NAME_MAX].strip()
    base, n = name, 2
    while name.lower() in taken:
        suffix = f"({n})"
        name, n = base[:SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _width(value) -> int:
    """Characters a cell needs: CJK characters take two columns."""
    text = f"{value:,.2f}" if isinstance(value, Decimal) else str(value if value is not None else "")
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def period_text(date_from, date_to) -> str:
    """A range as short as it reads unambiguously: "2026-11-01", "2026-11-01~11-30", "2025-12-01~2026-01-31"."""
    if date_from == date_to:
        return date_from.isoformat()
    end = date_to.strftime("%m-%d") if date_from.year == date_to.year else date_to.isoformat()
    return f"{date_from.isoformat()}~{end}"


def xlsx_bytes(sheets: list[Sheet]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet_name(sheet.title, sheet.period, taken))
        kinds = [sheet.kinds.get(c, TEXT) for c in sheet.columns]
        ws.append([str(sheet.labels.get(c, c)) for c in sheet.columns])
        body = list(sheet.rows)
        if sheet.total is not None:
            first = sheet.columns[0] if sheet.columns else None
            body.append({**sheet.total, **({first: sheet.total.get(first) or str(sheet.total_label)} if first else {})})
        for r in body:
            ws.append([_number(r.get(c), k) for c, k in zip(sheet.columns, kinds, strict=True)])
        for cell in ws[1]:
            cell.font = bold
            cell.alignment = Alignment(vertical="center", wrap_text=False)
        if sheet.total is not None:
            for cell in ws[ws.max_row]:
                cell.font = bold
        widths = [_width(str(sheet.labels.get(c, c))) for c in sheet.columns]
        for row in ws.iter_rows(min_row=2):
            for i, (cell, kind) in enumerate(zip(row, kinds, strict=True)):
                if kind in FORMATS and isinstance(cell.value, (int, float, Decimal)):
                    cell.number_format = FORMATS[kind]
                shown = (f"{cell.value:.2%}" if kind == RATE and isinstance(cell.value, float) else cell.value)
                widths[i] = max(widths[i], _width(shown))
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = min(max(w + 2, WIDTH_MIN), WIDTH_MAX)
        ws.freeze_panes = "A2"
        if sheet.columns:  # the filter covers the rows, not the total under them
            ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{1 + len(sheet.rows)}"
    if not sheets:
        wb.create_sheet("Kefu")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(sheet: Sheet) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([str(sheet.labels.get(c, c)) for c in sheet.columns])
    for r in sheet.rows:
        line = []
        for c in sheet.columns:
            v = r.get(c)
            if v is None:
                line.append("")
            elif sheet.kinds.get(c) == MONEY:
                n = _number(v, MONEY)
                line.append(f"{n:.2f}" if isinstance(n, Decimal) else n)
            else:
                line.append(safe_cell(v))
        w.writerow(line)
    return out.getvalue().encode("utf-8-sig")


def column_sums(rows: list[dict], keys) -> dict:
    """The 合计 row of a list whose columns add up (counts, money): each key's exact sum (Decimal for money).
    Ratios never go through here; their total is computed by the figure's own code."""
    out = {}
    for k in keys:
        values = [r.get(k) for r in rows if r.get(k) not in (None, "")]
        if values:
            out[k] = sum((v if isinstance(v, (int, Decimal)) else Decimal(str(v)) for v in values), 0)
    return out
