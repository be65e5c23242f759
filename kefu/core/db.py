"""Database helpers that work the same on SQLite and PostgreSQL."""

import datetime as dt
from collections.abc import Iterable
from functools import cache

from django.db import connection


@cache
def _converters(field, vendor: str) -> tuple[list, object]:
    col = field.get_col(field.model._meta.db_table)
    return connection.ops.get_db_converters(col) + col.get_db_converters(connection), col


def value_from_db(field, value):
    """A column's raw value as the ORM gives it (aware datetimes on SQLite, JSON, decimals)."""
    fns, col = _converters(field, connection.vendor)
    for fn in fns:
        value = fn(value, col, connection)
    return value


def model_columns(model) -> str:
    """`"table"."col", …` of every concrete field of `model`, the select list `model_from_row` reads."""
    return _columns(model, connection.vendor)


@cache
def _columns(model, vendor: str) -> str:
    qn = connection.ops.quote_name
    return ", ".join(f"{qn(model._meta.db_table)}.{qn(f.column)}" for f in model._meta.concrete_fields)


@cache
def _reader(model, vendor: str) -> tuple[list[str], list]:
    fields = model._meta.concrete_fields
    return [f.attname for f in fields], [_converters(f, vendor) for f in fields]


def model_from_row(model, values) -> object:
    """An instance from the values of `model_columns(model)`, converted as the ORM converts them:
    for hot paths that run a fixed hand-written statement instead of compiling a queryset on every
    request (the compilation costs more than the database's work)."""
    attnames, converters = _reader(model, connection.vendor)
    out = []
    for (fns, col), value in zip(converters, values, strict=True):
        for fn in fns:
            value = fn(value, col, connection)
        out.append(value)
    return model.from_db(connection.alias, attnames, out)


def bulk_update_rows(model, objs: list, fields: list[str]) -> None:
    """UPDATE many rows in one statement per 200 rows: `SET f = CASE id WHEN … END`.

    Django's bulk_update builds the same statement through expressions, which costs more than the
    database work for the row counts of an ingest batch; this builds it as text with parameters.
    """
    if not objs:
        return
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    pk = meta.pk
    pk_col = connection.ops.quote_name(pk.column)
    columns = [meta.get_field(f) for f in fields]
    with connection.cursor() as cursor:
        for i in range(0, len(objs), 200):
            part = objs[i : i + 200]
            sets, params = [], []
            for field in columns:
                whens = []
                for obj in part:
                    whens.append("WHEN %s THEN %s")
                    params.append(pk.get_db_prep_value(obj.pk, connection))
                    params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
                case = f"CASE {pk_col} {' '.join(whens)} END"
                # PostgreSQL types the CASE from its text parameters; SQLite must not cast (a CAST to
                # "datetime" would give the number 2026).
                if connection.features.requires_casted_case_in_updates:
                    case = f"CAST({case} AS {field.db_type(connection)})"
                sets.append(f"{connection.ops.quote_name(field.column)} = {case}")
            ids = [pk.get_db_prep_value(obj.pk, connection) for obj in part]
            params.extend(ids)
            placeholders = ", ".join(["%s"] * len(ids))
            cursor.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {pk_col} IN ({placeholders})", params)


def insert_new(model, objs: list, *, conflict: tuple[str, ...] = (), returning: tuple[str, ...] = ()) -> list[tuple]:
    """INSERT … ON CONFLICT (conflict) DO NOTHING RETURNING (returning), 500 rows per statement
    (PostgreSQL; SQLite ≥ 3.35). Returns the rows this statement inserted: a true count of what
    was new even when another transaction stores the same rows at the same moment (PostgreSQL
    makes the later inserter wait for the earlier one's commit, then skips the row). Every
    concrete field is written from the objects (auto_now fields too: set them first). Without
    `conflict` and `returning` it is a plain multi-row INSERT (a bulk_create without its ORM work).
    """
    if not objs:
        return []
    meta = model._meta
    qn = connection.ops.quote_name
    columns = [f for f in meta.concrete_fields if not f.primary_key]
    prep = []
    for field in columns:
        internal = field.get_internal_type()
        if internal == "DateTimeField":
            prep.append(connection.ops.adapt_datetimefield_value)
        elif internal in ("CharField", "TextField", "BooleanField", "IntegerField", "BigIntegerField",
                          "PositiveIntegerField", "ForeignKey", "BigAutoField", "AutoField"):
            prep.append(None)  # the driver takes these as they are
        else:
            prep.append(lambda v, f=field: f.get_db_prep_save(v, connection))
    attrs = [f.attname for f in columns]
    head = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in columns)}) VALUES ")
    tail = ""
    if conflict:
        tail += f" ON CONFLICT ({', '.join(qn(meta.get_field(f).column) for f in conflict)}) DO NOTHING"
    if returning:
        tail += f" RETURNING {', '.join(qn(meta.get_field(f).column) for f in returning)}"
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    out: list[tuple] = []
    with connection.cursor() as cursor:
        for i in range(0, len(objs), 500):
            part = objs[i : i + 500]
            params: list = []
            for obj in part:
                for attr, p in zip(attrs, prep, strict=True):
                    v = getattr(obj, attr)
                    params.append(v if p is None or v is None else p(v))
            cursor.execute(head + ", ".join([row] * len(part)) + tail, params)
            if returning:
                out += cursor.fetchall()
    return out



def stage_create(cur, *, name: str, select: str, columns: list[str], rows: Iterable[tuple]) -> None:
    """A batch of rows in a temporary table, for the set-based SQL of bulk loads (file imports).

    The table `name` gets the columns of `select` — a SELECT of the real tables' columns, so each
    staged column has its column's type (on SQLite its affinity: a value is stored and compared
    as the real column would have it) — and no rows; then `rows` (values for `columns`, quoted
    names) go in by COPY on PostgreSQL, by executemany on SQLite (datetimes adapted as the ORM
    adapts them). It is dropped with the transaction on PostgreSQL; call `stage_drop` when done
    anyway, since a caller's outer transaction may hold several batches."""
    if connection.vendor == "postgresql":
        cur.execute(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select} WITH NO DATA")
        with cur.cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    adapt = connection.ops.adapt_datetimefield_value
    cur.execute(f"DROP TABLE IF EXISTS temp.{name}")  # a rolled-back batch leaves none; to be sure
    cur.execute(f"CREATE TEMP TABLE {name} AS {select} LIMIT 0")
    cur.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
                    [tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row) for row in rows])


def stage_drop(cur, name: str) -> None:
    cur.execute(f"DROP TABLE {name}")

# The audit log is append-only in the database itself: UPDATE and DELETE of its rows are refused by
# triggers, whoever connects (a script, the admin, a raw SQL console of the app's own user).
AUDIT_TABLE = "core_auditlog"
AUDIT_GUARD_SQL = {
    "postgresql": {
        "create": [
            """CREATE OR REPLACE FUNCTION kefu_audit_append_only() RETURNS trigger AS $$
               BEGIN RAISE EXCEPTION 'audit rows are append-only (% refused)', TG_OP
                     USING ERRCODE = 'insufficient_privilege'; END; $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER kefu_audit_append_only BEFORE UPDATE OR DELETE ON {AUDIT_TABLE}
                FOR EACH ROW EXECUTE FUNCTION kefu_audit_append_only()""",
        ],
        "drop": [
            f"DROP TRIGGER IF EXISTS kefu_audit_append_only ON {AUDIT_TABLE}",
            "DROP FUNCTION IF EXISTS kefu_audit_append_only()",
        ],
    },
    "sqlite": {
        "create": [
            f"""CREATE TRIGGER IF NOT EXISTS kefu_audit_no_update BEFORE UPDATE ON {AUDIT_TABLE}
                BEGIN SELECT RAISE(ABORT, 'audit rows are append-only (UPDATE refused)'); END""",
            f"""CREATE TRIGGER IF NOT EXISTS kefu_audit_no_delete BEFORE DELETE ON {AUDIT_TABLE}
                BEGIN SELECT RAISE(ABORT, 'audit rows are append-only (DELETE refused)'); END""",
        ],
        "drop": ["DROP TRIGGER IF EXISTS kefu_audit_no_update", "DROP TRIGGER IF EXISTS kefu_audit_no_delete"],
    },
}


def audit_guard(schema_connection, action: str) -> None:
    """Create or drop the audit triggers ("create" | "drop") on this connection's database."""
    statements = AUDIT_GUARD_SQL.get(schema_connection.vendor, {}).get(action, [])
    with schema_connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
