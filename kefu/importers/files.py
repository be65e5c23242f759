"""Reading CSV (UTF-8 or GBK) and XLSX files into rows of text cells."""

import csv
import io
from pathlib import Path

from kefu.core.errors import KefuError


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise KefuError("the file is neither UTF-8 nor GBK text", field="file")


def read_table(path: str | Path) -> tuple[list[str], list[dict]]:
    """(headers, rows) where each row maps header → cell. Blank lines are skipped."""
    path = Path(path)
    if not path.exists():
        raise KefuError(f"no such file: {path}", field="file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        from python_calamine import CalamineWorkbook

        try:
            wb = CalamineWorkbook.from_path(str(path))
            sheet = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine raises its own error types for broken files
            raise KefuError(f"cannot read the spreadsheet: {exc}", field="file") from exc
        table = [[("" if c is None else c) for c in row] for row in sheet]
    else:
        text = _decode(path.read_bytes())
        try:
            table = list(csv.reader(io.StringIO(text)))
        except csv.Error as exc:
            raise KefuError(f"broken CSV: {exc}", field="file") from exc
    if not table:
        raise KefuError("the file is empty", field="file")
    headers = [str(h).strip() for h in table[0]]
    rows = []
    for cells in table[1:]:
        if not any(str(c).strip() for c in cells):
            continue
        rows.append({h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers) if h})
    return headers, rows
