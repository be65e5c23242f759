"""File imports: validate every row first, then write in short transactions that a re-run resumes.

- Two passes, memory flat whatever the file's size: the first (`checking.check`, on several
  cores for a large CSV) reads the file row by row, validates each row and spills the clean rows
  to temporary files, keeping only what the rules need (a 64-bit hash of each id, for ids repeated
  in the file). A bad row (or a malformed line) raises ValidationFailed before anything is
  written. The second pass writes the spilled rows.
- Rows are written `BATCH` at a time, each batch its own transaction, so the web and the worker
  never wait long behind an import (ADR 0004 keeps the facts rebuild out of those transactions:
  the batches mark their buyers and the import drains the marks afterwards, also in short
  transactions).
- Each batch moves the file's `ImportRun` in the same transaction: after a crash, a kill or a lost
  database, running the same command again finishes the file from the first unwritten batch, and
  the summary counts the whole file once. Writes are upserts by the sender's ids, so two imports
  of one file at once are harmless too: their counts add up to what was stored.
"""

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from kefu.conversations.bulk import messages_load
from kefu.core.errors import KefuError
from kefu.core.inputs import IngestResult
from kefu.core.models import Shop
from kefu.core.sqlite3.base import writers_yield
from kefu.metrics.queue import PASS_SECONDS, facts_drain
from kefu.orders.bulk import orders_load

from .checking import Checked, _repeats_message, check
from .models import ImportRun

# The drain after an import: its first transaction rebuilds this many buyers, and each next one as
# many as take about PASS_SECONDS at the last one's pace (kefu.metrics.queue.pass_size, never
# fewer than 100): large passes while the box is quiet, short ones under load (docs/bench.md).
DRAIN_BUYERS = 100
RESUME_AFTER = 60  # seconds of silence after which another host's unfinished run is taken over


class ImportInterrupted(KefuError):
    """The database failed part way (busy past the lock wait, gone): what was written is recorded."""

    code = "import_interrupted"

    def __init__(self, *, done: int, total: int, cause: BaseException):
        self.done, self.total = done, total
        super().__init__(
            f"stopped after {done} of {total} rows ({type(cause).__name__}: {str(cause).strip()[:200]}); "
            "run the same command again to finish the file (rows already written are not counted twice)",
            field="database")


@dataclass
class FileImport:
    """What an import did: counts for the whole file (a resumed run includes what it wrote before)."""

    result: IngestResult
    warnings: list[str]
    run: ImportRun
    resumed_from: int = 0  # rows an earlier, interrupted run had written
    seconds: float = 0.0
    written: int = 0  # rows this call wrote
    timings: dict = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(2**20):
            h.update(chunk)
    return h.hexdigest()


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(run: ImportRun, now) -> bool:
    """The process writing this run has stopped: it let go (an error), its pid is gone on this
    host, or it has written nothing for RESUME_AFTER seconds."""
    if not run.owner:
        return True
    host, _, pid = run.owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    return (now - run.updated_at).total_seconds() > RESUME_AFTER


def duplicate_ids(kind: str, rows: list[dict]) -> list[str]:
    """Warnings naming ids repeated in one file and which line counts.

    The rule is the one of the same rows sent one after another: a message never changes once
    stored, so the first line of a message id is kept; an order is updated by later rows, so the
    last line of an order id is kept. (Formats with one line per item group an order's lines
    first: those are not repeats.)
    """
    key = "message_id" if kind == "messages" else "order_id"
    lines: dict[str, list] = {}
    for i, r in enumerate(rows):
        oid = str(r.get(key) or "").strip()
        if oid:
            lines.setdefault(oid, []).append(r.get("_line", i + 2))
    repeated = {k: v for k, v in lines.items() if len(v) > 1}
    return [_repeats_message(kind, repeated)] if repeated else []


def file_import(
    *, shop: Shop, kind: str, path: str | Path, fmt: str = "generic",
    progress: Callable[[int, int], None] | None = None, options: dict | None = None,
) -> FileImport:
    """Import a messages or orders file. A bad row raises ValidationFailed and changes nothing.

    Row numbers in errors are the file's line numbers (the header is line 1). `options` go to
    the format (`amounts` for taobao); notes starting with "reading:" say how the file was read.
    `progress(rows written, rows in the file)` is called after each batch.
    """
    started = time.monotonic()
    options = {k: v for k, v in (options or {}).items() if v is not None}
    path = Path(path)
    checked = check(kind=kind, fmt=fmt, path=path, options=options, tz=shop.tz)
    try:
        return _write(shop=shop, kind=kind, fmt=fmt, path=path, options=options, checked=checked,
                      progress=progress, started=started)
    finally:
        checked.spill.close()


def _write(*, shop, kind, fmt, path, options, checked: Checked, progress, started) -> FileImport:
    """The writing pass: the spilled rows, BATCH to a transaction, the run moved in each."""
    sha = file_sha256(path)
    warnings, total_rows = checked.warnings, checked.spill.rows
    validated = time.monotonic()
    if kind == "messages":
        ingest = messages_load  # imported history: no routing, no events; COPY on PostgreSQL
    else:
        ingest = orders_load  # history: no order.created/updated events; COPY on PostgreSQL
    opts = json.dumps(options, sort_keys=True)

    now = timezone.now()
    run, resumed_from = None, 0
    with transaction.atomic():
        for old in (ImportRun.objects.select_for_update(skip_locked=True)
                    .filter(shop=shop, kind=kind, fmt=fmt, options=opts, file_sha256=sha,
                            state=ImportRun.State.RUNNING, rows_total=total_rows).order_by("-id")):
            if _owner_gone(old, now):
                run, resumed_from = old, old.rows_done
                run.owner, run.updated_at = _owner(), now
                run.save(update_fields=["owner", "updated_at"])
                break
        if run is None:
            run = ImportRun.objects.create(
                shop=shop, kind=kind, fmt=fmt, options=opts, file_name=str(path)[-500:], file_sha256=sha,
                rows_total=total_rows, owner=_owner(), started_at=now, updated_at=now)

    done = resumed_from
    if progress:
        progress(done, total_rows)
    try:
        i = 0
        for batch in checked.spill.batches():
            if i + len(batch) <= resumed_from:  # written by the interrupted run
                i += len(batch)
                continue
            part = [c for _, c in batch]
            writers_yield()  # on SQLite, an API write waiting for the lock goes before the next batch
            with transaction.atomic():
                got = ingest(shop=shop, rows=part)
                ImportRun.objects.filter(pk=run.pk).update(
                    rows_done=i + len(part), created=F("created") + got.created, updated=F("updated") + got.updated,
                    duplicates=F("duplicates") + got.duplicates, updated_at=timezone.now())
            done = i = i + len(part)
            if progress:
                progress(done, total_rows)
    except BaseException as exc:
        try:  # let go of the run, so the next import of this file resumes it at once
            ImportRun.objects.filter(pk=run.pk).update(owner="")
        except Exception:  # the database is gone: the next run finds this pid gone instead
            pass
        if isinstance(exc, DatabaseError):
            raise ImportInterrupted(done=done, total=total_rows, cause=exc) from exc
        raise
    written = time.monotonic()
    # The batches marked their buyers; their figures are brought up to date now, in short passes
    # (the worker would do the same; this way the figures are current when the command returns).
    facts_drain(shop=shop, buyers=DRAIN_BUYERS, pass_seconds=PASS_SECONDS)
    ImportRun.objects.filter(pk=run.pk).update(state=ImportRun.State.DONE, finished_at=timezone.now(),
                                               updated_at=timezone.now())
    run.refresh_from_db()
    total = IngestResult(created=run.created, updated=run.updated, duplicates=run.duplicates)
    if resumed_from:
        warnings.append(f"reading: resumed an interrupted import of this file at row {resumed_from + 1} "
                        f"of {total_rows}; the counts are the whole file's")
    finished = time.monotonic()
    return FileImport(result=total, warnings=warnings, run=run, resumed_from=resumed_from,
                      seconds=finished - started, written=total_rows - resumed_from,
                      timings={"validate": validated - started, "write": written - validated,
                               "rebuild": finished - written})
