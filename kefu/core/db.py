"""Database helpers that work the same on SQLite and PostgreSQL."""

from django.db import connection


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
