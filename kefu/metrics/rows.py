"""Set-based reads and writes of derived rows for the rebuild of buyers (kefu.metrics.rebuild).

A drain pass writes thousands of conversations, flags, receptions, turns and credits. Building a
model instance per row and letting `bulk_create` compile its INSERT cost several times the
database's own work (docs/bench.md, "Facts drain"); here rows are plain tuples: COPY on
PostgreSQL, one executemany on SQLite, with the values adapted as the ORM adapts them (so a row
written here reads back exactly as one written by the ORM).
"""

import datetime as dt
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections

from kefu.core.db import value_from_db


def any_in(column: str, ids) -> tuple[str, list]:
    """`column IN ids` as one array parameter on PostgreSQL (no thousand placeholders to build,
    send and parse), a plain IN list on SQLite."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [ids]  # typed: an untyped list may go numeric (no index)
    if not ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _conn():
    """The current connection itself (the `connection` proxy costs a thread-local lookup per use)."""
    return connections[DEFAULT_DB_ALIAS]


@cache
def _to_db(field, vendor: str):
    """A function turning a Python value of this field into what the driver stores for the ORM,
    or None when the driver takes the value as it is."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        return lambda v, c: None if v is None else field.get_db_prep_save(v, c)
    if vendor == "postgresql":
        return None  # psycopg adapts datetimes, dates, decimals and booleans by their type
    if kind == "DateTimeField":  # as DatabaseOperations.adapt_datetimefield_value: naive UTC text
        return lambda v, c: None if v is None else str(v.astimezone(dt.UTC).replace(tzinfo=None))
    if kind == "DateField":
        return lambda v, c: None if v is None else str(v)
    return None  # SQLite's adapters: Decimal → str, bool → int


@cache
def _from_db(field, vendor: str):
    """A function turning a fetched value into what the ORM returns, or None when it is already."""
    kind = field.get_internal_type()
    if vendor == "sqlite" and kind == "DateTimeField":  # Django's sqlite3 converter parsed it (naive UTC)
        def conv(v, c):
            if isinstance(v, dt.datetime) and v.tzinfo is None:
                return v.replace(tzinfo=dt.UTC)
            return value_from_db(field, v)
        return conv
    if vendor == "sqlite" and kind in ("DateField", "BooleanField"):
        return None  # the "date" and "bool" converters Django registers
    if kind == "JSONField" or (vendor == "sqlite" and kind == "DecimalField"):
        return lambda v, c: value_from_db(field, v)
    return None


@cache
def _plan(model, fields: tuple[str, ...], vendor: str) -> tuple[list, list, tuple]:
    """(columns, adapter per given field, prepared defaults of every other concrete field)."""
    meta = model._meta
    given = [meta.get_field(f) for f in fields]
    others = [f for f in meta.concrete_fields if not f.primary_key and f not in given]
    defaults = tuple(f.get_db_prep_save(f.get_default(), _conn()) for f in others)
    return [f.column for f in given] + [f.column for f in others], [_to_db(f, vendor) for f in given], defaults


def _prepared(rows, adapt: list, conn) -> list:
    if not any(adapt):
        return rows
    return [tuple(v if a is None or v is None else a(v, conn) for a, v in zip(adapt, r, strict=True)) for r in rows]


def rows_insert(model, fields: tuple[str, ...], rows, *, ignore_conflicts: bool = False) -> int:
    """Insert rows (tuples of `fields`, attnames like "customer_id"); every other column gets its
    field default. `ignore_conflicts`: rows whose unique key exists are skipped (one INSERT … ON
    CONFLICT DO NOTHING per row, in the order given: the roll-up rows' key order). Returns the
    number of rows given."""
    rows = list(rows)
    if not rows:
        return 0
    conn = _conn()
    columns, adapt, tail = _plan(model, tuple(fields), conn.vendor)
    rows = _prepared(rows, adapt, conn)
    names = ", ".join(qn(c) for c in columns)
    with conn.cursor() as cur:
        if conn.vendor == "postgresql" and not ignore_conflicts:
            with cur.cursor.copy(f"COPY {table(model)} ({names}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row((*r, *tail))
            return len(rows)
        marks = ", ".join(["%s"] * len(columns))
        conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        cur.executemany(f"INSERT INTO {table(model)} ({names}) VALUES ({marks}){conflict}",
                        [(*r, *tail) for r in rows])
    return len(rows)


def rows_delete(model, ids) -> None:
    """DELETE rows by id (plain SQL: for rows nothing else refers to)."""
    ids = list(ids)
    if not ids:
        return
    with connection.cursor() as cur:
        for i in range(0, len(ids), 10000):
            where, params = any_in(qn("id"), ids[i : i + 10000])
            cur.execute(f"DELETE FROM {table(model)} WHERE {where}", params)


def rows_update(model, fields: tuple[str, ...], rows) -> None:
    """UPDATE rows by id: `rows` are tuples (id, *values of fields), one executemany."""
    rows = list(rows)
    if not rows:
        return
    conn = _conn()
    meta = model._meta
    cols = [meta.get_field(f) for f in fields]
    adapt = [None, *(_to_db(f, conn.vendor) for f in cols)]
    sets = ", ".join(f"{qn(f.column)} = %s" for f in cols)
    with conn.cursor() as cur:
        cur.executemany(f"UPDATE {table(model)} SET {sets} WHERE {qn('id')} = %s",
                        [(*r[1:], r[0]) for r in _prepared(rows, adapt, conn)])


def rows_select(model, fields: tuple[str, ...], where: str, params, order: str = "", lock: bool = False) -> list:
    """Rows of `fields` (converted as the ORM converts them) matching a hand-written WHERE;
    `lock` adds FOR UPDATE on PostgreSQL (SQLite has one writer: nothing to lock)."""
    conn = _conn()
    meta = model._meta
    cols = [meta.get_field(f) for f in fields]
    sql = f"SELECT {', '.join(qn(f.column) for f in cols)} FROM {table(model)} WHERE {where}"
    if order:
        sql += f" ORDER BY {order}"
    if lock and conn.features.has_select_for_update:
        sql += " FOR UPDATE"
    with conn.cursor() as cur:
        cur.execute(sql, params)
        got = cur.fetchall()
    conv = [_from_db(f, conn.vendor) for f in cols]
    if not any(conv):
        return got
    return [tuple(v if c is None or v is None else c(v, conn) for c, v in zip(conv, r, strict=True)) for r in got]
