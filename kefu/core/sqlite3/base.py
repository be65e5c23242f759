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
"""

import threading
from decimal import ROUND_HALF_UP, Decimal

from django.db.backends.sqlite3 import base, operations
from django.db.models.expressions import Col


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
        return params

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
