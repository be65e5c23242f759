"""Django's SQLite backend with exact money in aggregates and an optional pool of open
connections (the engine Kefu uses for SQLite).

SQLite keeps decimals as binary floats. Django rounds a decimal column read back to its field's
places, but the result of an expression over decimals (SUM, AVG, MIN, MAX, paid - refund) only to 15
significant digits, so a sum of 59.90 + … came back as 59.9000000000000 and a month's sales as
1902487.15000001. Here those results are rounded to their field's decimal places like a column
(money fields have 2), in this one place for every query. The float error of SQLite's SUM is far
below half a cent for the sums Kefu makes (tests/core/test_money_sums.py adds up to a million rows
of cents against Python's Decimal).

Under ASGI every request runs its sync view in a thread of its own, and Django's connections are
per thread, so a persistent connection (CONN_MAX_AGE) would be one more open file per request
ever served. Without one, each request opened the file, registered Django's SQL functions and ran
the PRAGMAs again: about 1 ms of a 5 ms single-message ingest. With `OPTIONS["pool"] = N` (set by
settings when KEFU_DB_POOL=1, which kefu/asgi.py turns on) a closed connection goes back to a
per-process list of at most N idle ones and the next request of any thread takes it. Only a
connection outside any transaction is kept (setting isolation_level on reuse would COMMIT an open
one); in-memory databases are never closed by Django, so never pooled.

Writers take turns fairly (file databases). SQLite lets one writer in at a time, and its busy
handler makes a waiting writer sleep with growing back-off (1, 2, 5 … 100 ms between tries): it
missed the instants the lock was free while a long job (the facts drain) took it pass after pass,
and a request waited seconds behind passes of a few ms each. Here a transaction's `BEGIN
IMMEDIATE` runs with busy_timeout 0 and, when the lock is held, is tried again every millisecond
until the same overall timeout (OPTIONS["timeout"], KEFU_DB_LOCK_WAIT), then fails with "database
is locked" as before (kefu.core.busy answers 503). While it waits the writer holds a shared flock
on the file `<database>-wait`; a job between two of its transactions calls `writers_yield()`,
which steps aside while any writer waits. Statements outside a transaction keep SQLite's busy
timeout.
"""

import os
import threading
import time
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

from django.db import OperationalError, connections
from django.db.backends.sqlite3 import base, operations
from django.db.models.expressions import Col

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: writers still poll, jobs do not yield
    fcntl = None

POLL_SECONDS = 0.001  # how often a waiting writer tries BEGIN again
YIELD_SECONDS = 0.25  # how long a job steps aside at most between two of its transactions
SQLITE_BUSY = 5


class DatabaseOperations(operations.DatabaseOperations):
    def get_decimalfield_converter(self, expression):
        converter = super().get_decimalfield_converter(expression)
        places = getattr(expression.output_field, "decimal_places", None)
        if isinstance(expression, Col) or places is None:
            return converter
        quantum = Decimal(1).scaleb(-places)

        def rounded(value, expression, connection):
            value = converter(value, expression, connection)
            return None if value is None else value.quantize(quantum, rounding=ROUND_HALF_UP)

        return rounded


_idle: dict[str, list] = {}  # database file → idle sqlite3 connections of this process
_idle_lock = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    pool_size = 0

    def get_connection_params(self):
        params = super().get_connection_params()
        self.pool_size = int(params.pop("pool", 0) or 0)
        self.lock_wait = float(params.get("timeout", 5.0))  # sqlite3.connect's default
        return params

    def _start_transaction_under_autocommit(self):
        wait_file = writers_wait_file(self)
        if wait_file is None or self.transaction_mode not in ("IMMEDIATE", "EXCLUSIVE"):
            return super()._start_transaction_under_autocommit()
        raw = self.connection
        deadline = time.monotonic() + self.lock_wait
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            try:
                super()._start_transaction_under_autocommit()  # the first try, as Django logs it
                return
            except OperationalError as exc:  # Django's, wrapping sqlite3's
                if not _is_locked(exc.__cause__):
                    raise
            with _waiting(wait_file), self.wrap_database_errors:
                while True:
                    time.sleep(POLL_SECONDS)
                    try:
                        raw.execute(f"BEGIN {self.transaction_mode}")
                        return
                    except base.Database.OperationalError as exc:
                        if not _is_locked(exc) or time.monotonic() >= deadline:
                            raise
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(self.lock_wait * 1000)}")

    def get_new_connection(self, conn_params):
        if self.pool_size:
            with _idle_lock:
                idle = _idle.get(conn_params["database"])
                if idle:
                    return idle.pop()
        return super().get_new_connection(conn_params)

    def _close(self):
        conn = self.connection
        if self.pool_size and conn is not None and not conn.in_transaction:
            with _idle_lock:
                idle = _idle.setdefault(self.settings_dict["NAME"], [])
                if len(idle) < self.pool_size:
                    idle.append(conn)
                    return
        super()._close()


def _is_locked(exc) -> bool:
    return getattr(exc, "sqlite_errorcode", None) is not None and exc.sqlite_errorcode & 0xFF == SQLITE_BUSY


def writers_wait_file(conn) -> str | None:
    """The file waiting writers of this database flock, or None (not SQLite, in memory)."""
    if conn.vendor != "sqlite" or not isinstance(conn, DatabaseWrapper):
        return None
    name = str(conn.settings_dict["NAME"])
    if conn.is_in_memory_db() or name.startswith("file:"):
        return None
    return name + "-wait"


@contextmanager
def _waiting(path: str):
    """Be counted among the writers waiting for the lock (a shared flock, gone if the process dies)."""
    fd = _open(path)
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the flock


def _open(path: str) -> int | None:
    """The wait file's descriptor, or None where it cannot be had (no flock, a read-only
    directory): writers then still poll, a job just does not step aside."""
    if fcntl is None:
        return None
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None


def writers_waiting(path: str) -> bool:
    fd = _open(path)
    if fd is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def writers_yield(conn=None, *, seconds: float = YIELD_SECONDS) -> float:
    """For a job that writes in many short transactions back to back (the facts drain): call it
    between two of them. While a writer of any process waits for SQLite's write lock, step aside
    (up to `seconds`), so it gets its turn now rather than after the job. Nothing on PostgreSQL
    (writers queue for row locks there) or an in-memory database. `conn`: the job's connection
    (default: Django's default). Returns the seconds waited."""
    conn = conn or connections["default"]
    path = writers_wait_file(conn)
    if path is None or conn.in_atomic_block or (conn.connection is not None and conn.connection.in_transaction):
        return 0.0  # inside a transaction: the waiting writer waits for this one
    started = time.monotonic()
    while writers_waiting(path) and time.monotonic() - started < seconds:
        time.sleep(POLL_SECONDS)
    return time.monotonic() - started
