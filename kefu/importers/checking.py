"""The validating pass of a file import: every row read and cleaned before anything is written.

Memory stays flat whatever the file's size: clean rows are spilled to temporary files `BATCH` at a
time, and only what the rules need is kept (a 64-bit hash of each id, for ids repeated in the
file). A bad row (or a malformed line) raises ValidationFailed naming its file line, before the
writing pass starts.

On several cores: a large CSV in a format read one line per order (generic orders and messages,
taobao) is cut into byte ranges at record ends — the first newline after each cut with an even
number of quotes before it — and each range is read, mapped and cleaned by its own process
(forked: the same code, the same hash seed), the first one in this process. The answer is the one
of a single reader: the ranges' rows are written back in file order and re-batched `BATCH` at a
time, their bad rows listed in file order, ids repeated across ranges found from all the hashes.
Whenever a range cannot be read cleanly (a broken line, a cut that fell inside a quoted cell, a
worker that died) the file is read again by this process alone, which gives the exact answer.
"""

import io
import multiprocessing as mp
import os
import pickle
import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kefu.conversations.services import message_clean
from kefu.core.errors import KefuError, ValidationFailed, row_number
from kefu.orders.services import order_clean

from .files import _csv_read, file_encoding, iter_table, table_rows
from .formats import group_key, map_format, map_prepare, map_rows
from .formats.base import lines_regrouped

BATCH = 1000  # rows per write transaction: well under a second at the import's pace
DUPLICATES_SHOWN = 10
MAX_ERRORS = 1000  # bad rows listed (all are counted)
# Validating processes: one per core this process may use, unless KEFU_IMPORT_WORKERS says fewer
# (1: never fork). A range is at least MIN_RANGE_BYTES, so small files are read by one process.
MIN_RANGE_BYTES = 512 * 1024
PARALLEL_FORMATS = ("generic", "taobao")  # one line per order and no note that counts the file's rows
_CHUNK = 2**20


def workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    asked = os.environ.get("KEFU_IMPORT_WORKERS", "").strip()
    return max(1, min(cores, int(asked))) if asked.isdigit() and int(asked) else cores


def _repeats_message(kind: str, repeated: dict[str, list[int]]) -> str:
    key = "message_id" if kind == "messages" else "order_id"
    keep = "the first line is kept (a stored message never changes)" if kind == "messages" else \
        "the last line is kept (a later row updates the order)"
    shown = "; ".join(f"{k} (lines {', '.join(map(str, v))})" for k, v in list(repeated.items())[:DUPLICATES_SHOWN])
    more = len(repeated) - DUPLICATES_SHOWN
    return f"{len(repeated)} {key}(s) repeated in the file, {keep}: {shown}" + (f"; and {more} more" if more > 0 else "")


def _repeated_hashes(hashes: array) -> set[int]:
    """Hashes that occur more than once, looked for in 8 slices (memory: an eighth of a set of all)."""
    out: set[int] = set()
    for part in range(8):
        seen: set[int] = set()
        for h in hashes:
            if h & 7 == part:
                if h in seen:
                    out.add(h)
                else:
                    seen.add(h)
    return out


class Spill:
    """Clean rows on disk between the validating pass and the writing one: one temporary file per
    reader (range), read back in order, BATCH rows at a time whatever each file's last batch held."""

    def __init__(self):
        self.files = [tempfile.TemporaryFile(prefix="kefu-import-")]
        self.batch: list[tuple[int, dict]] = []
        self.rows = 0

    def add(self, line: int, row: dict) -> None:
        self.batch.append((line, row))
        self.rows += 1
        if len(self.batch) == BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            pickle.dump(self.batch, self.files[-1], protocol=pickle.HIGHEST_PROTOCOL)
            self.batch = []
        self.files[-1].flush()

    def extend(self, other: "Spill", rows: int) -> None:
        """Append the rows another process wrote to `other`'s file (after this spill's)."""
        self.flush()
        self.files += other.files
        self.rows += rows

    def batches(self) -> Iterator[list[tuple[int, dict]]]:
        self.flush()
        pending: list[tuple[int, dict]] = []
        for f in self.files:
            f.seek(0)
            while True:
                try:
                    pending += pickle.load(f)
                except EOFError:
                    break
                while len(pending) >= BATCH:
                    yield pending[:BATCH]
                    pending = pending[BATCH:]
        if pending:
            yield pending

    def close(self) -> None:
        for f in self.files:
            f.close()


@dataclass
class Checked:
    spill: Spill
    warnings: list[str]
    regroup: bool = False


@dataclass
class _Part:
    """What one reader found in its rows."""

    hashes: array
    errors: list[dict]
    bad: int
    rows: int = 0


def _validate(kind: str, rows: Iterator[dict], tz, spill: Spill) -> _Part:
    """Clean each row; spill the clean ones while none is bad; hash every id."""
    clean_one = message_clean if kind == "messages" else order_clean
    caught = (KefuError,) if kind == "messages" else (KefuError, TypeError, ValueError)
    key = "message_id" if kind == "messages" else "order_id"
    hashes, errors, bad = array("q"), [], 0
    for n, r in enumerate(rows):
        line = row_number(r, n + 2)
        oid = str(r.get(key) or "").strip()
        if oid:
            hashes.append(hash(oid))
        try:
            clean = clean_one(r, tz=tz)
        except caught as exc:
            bad += 1
            if len(errors) < MAX_ERRORS:
                errors.append({"row": line, "field": getattr(exc, "field", "items"),
                               "message": getattr(exc, "message", str(exc))})
            continue
        if not bad:
            spill.add(line, clean)
    spill.flush()
    return _Part(hashes=hashes, errors=errors, bad=bad, rows=spill.rows)


def check(*, kind: str, fmt: str, path: Path, options: dict, tz, regroup: bool = False) -> Checked:
    """The validating pass: every row read, cleaned and spilled; ValidationFailed lists the bad ones
    (the first MAX_ERRORS) with their file lines. For a format with one line per item whose order
    lines are not next to each other, the file is read again grouped in memory."""
    headers, raw = iter_table(path)
    gkey = group_key(kind, fmt, headers)
    if not regroup and not gkey:
        got = _check_ranges(kind=kind, fmt=fmt, path=path, options=options, tz=tz, headers=headers)
        if got is not None:
            return got
    if regroup:
        raw = iter(lines_regrouped(raw, gkey))
    rows, notes = map_rows(kind, fmt, headers, raw, again=lambda: iter_table(path)[1], **options)
    spill = Spill()
    try:
        part = _validate(kind, rows, tz, spill)
        return _checked(kind=kind, fmt=fmt, path=path, options=options, tz=tz, parts=[part], spill=spill,
                        notes=notes, gkey=gkey, regroup=regroup)
    except BaseException:
        spill.close()
        raise


def _checked(*, kind, fmt, path, options, tz, parts: list[_Part], spill: Spill, notes, gkey, regroup) -> Checked:
    """The readers' findings as one answer: the bad rows in file order, or the warnings."""
    bad = sum(p.bad for p in parts)
    if bad:
        raise ValidationFailed([e for p in parts for e in p.errors][:MAX_ERRORS], total=bad)
    hashes = parts[0].hashes
    for p in parts[1:]:
        hashes.extend(p.hashes)
    repeated_hashes = _repeated_hashes(hashes)
    for p in parts:
        p.hashes = array("q")
    warnings = list(notes)
    if repeated_hashes:  # which ids, on which lines (a hash may collide: ids are compared)
        key = "message_id" if kind == "messages" else "order_id"
        lines: dict[str, list[int]] = {}
        for batch in spill.batches():
            for line, c in batch:
                if hash(c[key]) in repeated_hashes:
                    lines.setdefault(c[key], []).append(line)
        repeated = {k: v for k, v in lines.items() if len(v) > 1}
        if repeated and gkey and not regroup:
            spill.close()
            return check(kind=kind, fmt=fmt, path=path, options=options, tz=tz, regroup=True)
        if repeated:
            warnings.append(_repeats_message(kind, repeated))
    if regroup:
        warnings.append(f"reading: the lines of some orders are not next to each other (by {gkey}); "
                        "the file was grouped in memory")
    return Checked(spill=spill, warnings=warnings, regroup=regroup)


# ---------------------------------------------------------------- several readers

def csv_ranges(path: Path, parts: int) -> list[tuple[int, int, int]]:
    """(first byte, end byte, file line of the first byte) of up to `parts` ranges of a CSV file,
    each starting right after a newline with an even number of quotes before it: a record's start
    in a well-formed file (a quote inside an unquoted cell can fool it; the reader of the range
    before then ends inside a quoted cell, and the caller reads the file alone). [] when the file
    has a line break this cannot count (a lone carriage return)."""
    size = path.stat().st_size
    targets = [size * k // parts for k in range(1, parts)]
    starts = [(0, 1)]
    quotes = lines = pos = 0
    with open(path, "rb") as f:
        while targets and (chunk := f.read(_CHUNK)):
            if chunk.count(b"\r") != chunk.count(b"\r\n"):
                return []
            at = 0
            while targets:
                nl = chunk.find(b"\n", max(targets[0] - pos, at))
                if nl < 0:
                    break
                at = nl + 1
                if (quotes + chunk.count(b'"', 0, nl)) % 2 == 0:
                    starts.append((pos + at, lines + chunk.count(b"\n", 0, at) + 1))
                    targets.pop(0)
            quotes += chunk.count(b'"')
            lines += chunk.count(b"\n")
            pos += len(chunk)
    ends = [s for s, _ in starts[1:]] + [size]
    return [(s, e, line) for (s, line), e in zip(starts, ends, strict=True) if e > s]


class _Slice(io.RawIOBase):
    """Bytes [start, end) of a file."""

    def __init__(self, path: Path, start: int, end: int):
        self.f = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.f.seek(start)
        self.left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self.left)
        if n <= 0:
            return 0
        got = self.f.readinto(memoryview(b)[:n])
        self.left -= got
        return got

    def close(self) -> None:
        self.f.close()
        super().close()


def _read_range(*, kind, fmt, path, tz, headers, prepared, encoding, start, end, line, spill) -> tuple[_Part, list]:
    """Read, map and clean the records of one byte range (the first one holds the header)."""
    with io.TextIOWrapper(io.BufferedReader(_Slice(path, start, end)), encoding=encoding, newline="") as text:
        records = _csv_read(text, first_line=line)
        if start == 0:  # the header is the first record that is not blank (iter_table's rule)
            next((r for r in records if any(str(c).strip() for c in r[1])), None)
        rows, notes = map_rows(kind, fmt, headers, table_rows(records, headers), prepared=prepared)
        return _validate(kind, rows, tz, spill), notes


def _range_child(send, job: dict) -> None:
    """A forked reader: its findings through the pipe (the clean rows are in its spill file)."""
    try:
        part, _ = _read_range(**job)
        send.send(("ok", part))
    except BaseException as exc:  # the parent reads the file alone and gives the real error
        send.send(("failed", f"{type(exc).__name__}: {exc}"[:300]))
    finally:
        send.close()


def _check_ranges(*, kind, fmt, path, options, tz, headers) -> Checked | None:
    """The validating pass on several processes, or None when this file is read by one."""
    n = min(workers(), path.stat().st_size // MIN_RANGE_BYTES)
    fmt_used = map_format(kind, fmt, headers)
    if (n < 2 or fmt_used not in PARALLEL_FORMATS or path.suffix.lower() in (".xlsx", ".xlsm", ".xls")
            or "fork" not in mp.get_all_start_methods()):
        return None
    ranges = csv_ranges(path, n)
    if len(ranges) < 2:
        return None
    prepared = map_prepare(kind, fmt, headers, again=lambda: iter_table(path)[1], **options)
    encoding = file_encoding(path)
    ctx = mp.get_context("fork")
    spills = [Spill() for _ in ranges]
    jobs = [dict(kind=kind, fmt=fmt, path=path, tz=tz, headers=headers, prepared=prepared, encoding=encoding,
                 start=s, end=e, line=line, spill=spill) for (s, e, line), spill in zip(ranges, spills, strict=True)]
    children = []
    try:
        for job in jobs[1:]:
            recv, send = ctx.Pipe(duplex=False)
            child = ctx.Process(target=_range_child, args=(send, job), daemon=True)
            child.start()
            send.close()
            children.append((child, recv))
        try:
            first, notes = _read_range(**jobs[0])
        except (KefuError, ValueError, TypeError):
            return _read_alone(spills)
        parts = [first]
        for _child, recv in children:
            try:
                status, got = recv.recv()
            except EOFError:  # it died
                return _read_alone(spills)
            if status != "ok":
                return _read_alone(spills)
            parts.append(got)
        spill = spills[0]
        for other, part in zip(spills[1:], parts[1:], strict=True):
            spill.extend(other, part.rows)
        spills = [spill]
        return _checked(kind=kind, fmt=fmt, path=path, options=options, tz=tz, parts=parts, spill=spill,
                        notes=notes, gkey="", regroup=False)
    except BaseException:
        for s in spills:
            s.close()
        raise
    finally:
        for child, recv in children:
            recv.close()
            if child.is_alive():
                child.terminate()
            child.join()


def _read_alone(spills: list[Spill]) -> None:
    for s in spills:
        s.close()
    return None
