"""Reading CSV (UTF-8 or GBK) and XLSX files into rows of text cells.

A malformed file is refused, never guessed at: an unterminated quote, a stray quote, or a line
with more (or fewer) cells than the header is an error naming the file line where that record
starts, so no row is silently swallowed into another row's text. An .xlsx is a zip archive: one
whose parts inflate past MAX_XLSX_BYTES, or more than MAX_XLSX_RATIO times their packed size, is
refused before it is read.
"""

import csv
import zipfile
from collections.abc import Iterator
from pathlib import Path

from kefu.core.errors import KefuError, ValidationFailed

MAX_XLSX_BYTES = 512 * 2**20  # the XML of ~2M order rows; the Tmall sample's sheet is ~9 MB
MAX_XLSX_RATIO = 100  # real sheets pack 5-20x; a zip bomb packs 1,000x and more
_CHUNK = 2**20


def file_encoding(path: Path) -> str:
    """utf-8-sig or gb18030, checked over the whole file in chunks (memory stays flat)."""
    import codecs

    for enc in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    raise KefuError("the file is neither UTF-8 nor GBK text", field="file")


def _bad_line(line: int, message: str) -> ValidationFailed:
    return ValidationFailed([{"row": line, "field": "file", "message": message}])


def xlsx_check(path: Path, *, max_bytes: int = MAX_XLSX_BYTES, max_ratio: int = MAX_XLSX_RATIO) -> None:
    """Refuse a spreadsheet that inflates too much, by what its parts really inflate to.

    The sizes a zip's directory declares can lie, so each part is inflated in chunks and counted,
    stopping at the first chunk past the limit: a bomb costs at most max_bytes of work, no memory.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise KefuError(f"cannot read the spreadsheet: not an .xlsx (zip) file ({exc})", field="file") from exc
    with zf:
        packed = sum(i.compress_size for i in zf.infolist()) or 1
        total = 0
        for info in zf.infolist():
            try:
                with zf.open(info) as part:
                    while chunk := part.read(_CHUNK):
                        total += len(chunk)
                        if total > max_bytes or (total > 10 * _CHUNK and total > max_ratio * packed):
                            raise KefuError(
                                f"the spreadsheet inflates to more than {total // 2**20} MB from "
                                f"{max(packed // 1024, 1)} KB (limit {max_bytes // 2**20} MB and {max_ratio}x its size); "
                                "refused unread — export it as CSV or split it", field="file")
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
                raise KefuError(f"cannot read the spreadsheet: {info.filename}: {exc}", field="file") from exc


def _csv_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    with open(path, encoding=file_encoding(path), newline="") as f:
        yield from _csv_read(f)


def _csv_read(f, first_line: int = 1) -> Iterator[tuple[int, list[str]]]:
    """(file line the record starts on, cells) of each CSV record of `f`, whose first line is the
    file's line `first_line` (a range of the file read by another process starts further down)."""
    reader = csv.reader(f, strict=True)
    start = first_line
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            why = str(exc)
            if "unexpected end of data" in why:
                why = "a quote opened here is never closed (unterminated quoted cell)"
            elif "expected after" in why:
                why = "a quote ends a quoted cell in the middle of it (stray or unescaped quote)"
            elif "field larger than field limit" in why:
                why = "a cell longer than 128 KB (usually an unterminated quote that swallowed the lines below)"
            raise _bad_line(start, f"broken CSV: {why}; nothing was imported") from exc
        yield start, cells
        start = first_line + reader.line_num


def _xlsx_records(path: Path) -> Iterator[tuple[int, list]]:
    from python_calamine import CalamineWorkbook

    if path.suffix.lower() != ".xls":  # .xls is not a zip (and holds at most 65,536 rows)
        xlsx_check(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        for i, row in enumerate(wb.get_sheet_by_index(0).iter_rows()):  # from the sheet's row 1
            yield i + 1, [("" if c is None else c) for c in row]
    except KefuError:
        raise
    except Exception as exc:  # calamine raises its own error types for broken files
        raise KefuError(f"cannot read the spreadsheet: {exc}", field="file") from exc


def iter_table(path: str | Path) -> tuple[list[str], Iterator[dict]]:
    """(headers, rows) where each row maps header → cell and `_line` → the file line it starts on.

    Rows come one at a time, the file read as they are asked for (memory stays flat whatever its
    size; a CSV's encoding is checked over the whole file first). Blank lines are
    skipped; the header is the first line that is not blank. A CSV line whose cell count differs
    from the header's is an error naming it (empty cells past the header's last are allowed).
    """
    path = Path(path)
    if not path.is_file():
        raise KefuError(f"no such file: {path}", field="file")
    is_xlsx = path.suffix.lower() in (".xlsx", ".xlsm", ".xls")
    records = _xlsx_records(path) if is_xlsx else _csv_records(path)
    first = next((r for r in records if any(str(c).strip() for c in r[1])), None)
    if first is None:
        raise KefuError("the file is empty", field="file")
    headers = [str(h).strip() for h in first[1]]
    return headers, table_rows(records, headers, is_xlsx=is_xlsx)


def table_rows(records, headers: list[str], *, is_xlsx: bool = False) -> Iterator[dict]:
    """The data records after the header as rows (header → cell, `_line` → file line)."""
    width = len(headers)
    while width and not headers[width - 1]:
        width -= 1
    for line, cells in records:
        if not any(str(c).strip() for c in cells):
            continue
        n = len(cells)
        while n > width and not str(cells[n - 1]).strip():
            n -= 1
        if n != width and not is_xlsx:
            raise _bad_line(line, f"broken CSV: this line has {n} cell(s), the header has {width}; "
                                  "a quote or separator is missing or extra; nothing was imported")
        row = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers) if h}
        row["_line"] = line
        yield row


def read_table(path: str | Path) -> tuple[list[str], list[dict]]:
    """iter_table's rows as a list (the whole file read and checked before the caller sees a row)."""
    headers, rows = iter_table(path)
    return headers, list(rows)
