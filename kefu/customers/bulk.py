"""Buyers of bulk loads (file imports): created and resolved set-based from a staged batch.

A load stages its rows in a temporary table (kefu.core.db.stage_create) with `buyer_id`, `nick`
and an empty `customer_id`; `customers_from_stage` applies customers_resolve's rule to all of them
in two statements (the same SQL on PostgreSQL and SQLite), and `marks_inserted` does what
buyers_mark does after its marks are inserted.
"""

from django.db import connection, transaction

from kefu.core.models import Shop
from kefu.metrics.queue import buyers_rebuild_now, drain_kick, inline

from .models import Customer

_NOW = object()  # stands for the transaction's time in _new_customer_columns


def _new_customer_columns() -> dict:
    """column → value of a new buyer's other columns: the model's defaults (auto_now_add: now)."""
    out = {}
    for f in Customer._meta.concrete_fields:
        if f.primary_key or f.attname in ("shop_id", "buyer_id", "nick"):
            continue
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            out[f.column] = _NOW
        else:
            out[f.column] = f.get_db_prep_save(f.get_default(), connection)
    return out


def customers_from_stage(cur, *, shop: Shop, stage: str, now) -> None:
    """customers_resolve's rule, set-based: buyers met for the first time created in key order with
    the staged nick (no deadlock between two loads); each staged row gets its buyer's record, or the
    record an alias was merged into. ON CONFLICT waits for a concurrent load's commit, and the
    UPDATE's snapshot is taken after it, so a buyer that load created is found."""
    qn = connection.ops.quote_name
    customers = qn(Customer._meta.db_table)
    new_customer = _new_customer_columns()
    now = connection.ops.adapt_datetimefield_value(now)
    # WHERE true: SQLite would read ON CONFLICT as a join constraint of the SELECT without it
    cur.execute(
        f"""INSERT INTO {customers} ({qn('shop_id')}, {qn('buyer_id')}, {qn('nick')},
                                     {', '.join(qn(c) for c in new_customer)})
            SELECT %s, {qn('buyer_id')}, {qn('nick')}, {', '.join(['%s'] * len(new_customer))}
            FROM (SELECT DISTINCT {qn('buyer_id')}, {qn('nick')} FROM {stage}) b WHERE true ORDER BY {qn('buyer_id')}
            ON CONFLICT ({qn('shop_id')}, {qn('buyer_id')}) DO NOTHING""",
        [shop.id, *(now if v is _NOW else v for v in new_customer.values())])
    cur.execute(
        f"""UPDATE {stage} AS s SET {qn('customer_id')} = COALESCE(c.{qn('merged_into_id')}, c.{qn('id')})
            FROM {customers} c WHERE c.{qn('shop_id')} = %s AND c.{qn('buyer_id')} = s.{qn('buyer_id')}""",
        [shop.id])


def marks_inserted(*, shop: Shop, customer_ids) -> None:
    """After the marks of these buyers were inserted with the rows: what buyers_mark does next
    (tests rebuild them now, in this transaction; otherwise a drain is queued after the commit)."""
    if inline():
        buyers_rebuild_now(shop=shop, customer_ids=customer_ids)
    else:
        transaction.on_commit(drain_kick)
