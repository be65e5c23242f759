"""Loading many orders at once (file imports): a staged batch and set-based SQL.

`orders_load` is `orders_upsert(events=False)` with the same results — stored rows, created /
updated / unchanged counts, marked buyers, closed follow-ups and late-shipment rows, replaced
items — written in a handful of statements whatever the batch's size: the rows into a temporary
table (COPY on PostgreSQL, executemany on SQLite: kefu.core.db.stage_create), the new buyers
inserted and every row's buyer resolved from it, then the orders that differ written from it —
on PostgreSQL one INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE the row differs … RETURNING that
also marks the buyers; on SQLite (no data-modifying WITH, no xmax; the batch's transaction holds
the write lock from its start, so what it reads stays true) the changed rows selected, then one
UPDATE … FROM and one INSERT … SELECT — in the caller's transaction.
"""

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.expressions import RawSQL
from django.utils import timezone

from kefu.core.db import insert_new, stage_create, stage_drop
from kefu.core.inputs import IngestResult
from kefu.core.models import Shop
from kefu.customers.bulk import customers_from_stage, marks_inserted
from kefu.customers.models import Customer
from kefu.followups.services import followups_close_for_orders
from kefu.metrics.models import DirtyBuyer

from .models import Order
from .services import ORDER_COLUMNS, _items_replace

STAGE = "kefu_orders_stage"


def _column(name: str) -> str:
    return Order._meta.get_field(name).column


def orders_load(*, shop: Shop, rows: list[dict]) -> IngestResult:
    """Create or update clean order rows by order id, as a file import does (no webhook events)."""
    result = IngestResult()
    by_id = {r["order_id"]: r for r in rows}  # an id repeated in one batch: the last row wins
    result.duplicates = len(rows) - len(by_id)
    if not by_id:
        return result
    nicks = {r["buyer_id"]: r["buyer_nick"] for r in by_id.values()}  # a buyer's last nick in the batch
    qn = connection.ops.quote_name
    table, customers, marks = (qn(m._meta.db_table) for m in (Order, Customer, DirtyBuyer))
    cols = [qn(_column(f)) for f in ORDER_COLUMNS]
    compared = [qn("customer_id"), *cols]
    with transaction.atomic():
        now = timezone.now()
        with connection.cursor() as cur:
            stage_create(
                cur, name=STAGE,
                select=f"SELECT o.{qn('order_id')}, c.{qn('buyer_id')}, c.{qn('nick')}, "
                       f"{', '.join('o.' + c for c in compared)} FROM {table} o, {customers} c",
                columns=[qn("order_id"), qn("buyer_id"), qn("nick"), *cols],
                rows=[(oid, r["buyer_id"], nicks[r["buyer_id"]], *[r[f] for f in ORDER_COLUMNS])
                      for oid, r in by_id.items()])
            customers_from_stage(cur, shop=shop, stage=STAGE, now=now)
            if connection.vendor == "postgresql":
                # One statement: the stored customer of each order first (its buyer's figures move too
                # when an order changes hands), then the upsert in key order (no deadlock between two
                # loads), changing only rows that differ (xmax = 0 on the rows it inserted), and a mark
                # (kefu.metrics.queue) for every buyer of a changed order, old or new, in id order.
                cur.execute(
                    f"""WITH old AS (
                            SELECT o.{qn('order_id')}, o.{qn('customer_id')} FROM {table} o
                            JOIN {STAGE} s ON s.{qn('order_id')} = o.{qn('order_id')} WHERE o.{qn('shop_id')} = %s),
                        up AS (
                            INSERT INTO {table} ({qn('shop_id')}, {qn('order_id')}, {', '.join(compared)},
                                                 {qn('adjustment_amount')}, {qn('updated_at')})
                            SELECT %s, {qn('order_id')}, {', '.join(compared)}, 0, %s FROM {STAGE}
                            ORDER BY {qn('order_id')}
                            ON CONFLICT ({qn('shop_id')}, {qn('order_id')}) DO UPDATE SET
                                {', '.join(f'{c} = EXCLUDED.{c}' for c in compared)}, {qn('updated_at')} = EXCLUDED.{qn('updated_at')}
                            WHERE ({', '.join(f'{table}.{c}' for c in compared)})
                                  IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in compared)})
                            RETURNING {qn('order_id')}, {qn('customer_id')}, (xmax = 0) AS inserted),
                        changed AS (
                            SELECT up.{qn('order_id')}, up.{qn('customer_id')}, up.inserted,
                                   old.{qn('customer_id')} AS old_customer_id
                            FROM up LEFT JOIN old ON old.{qn('order_id')} = up.{qn('order_id')}),
                        marked AS (
                            INSERT INTO {marks} ({qn('shop_id')}, {qn('customer_id')}, {qn('marked_at')})
                            SELECT %s, t.c, %s FROM (
                                SELECT {qn('customer_id')} AS c FROM changed
                                UNION SELECT old_customer_id FROM changed WHERE old_customer_id IS NOT NULL) t
                            ORDER BY t.c
                            RETURNING {qn('customer_id')})
                        SELECT {qn('order_id')}, inserted, NULL FROM changed
                        UNION ALL SELECT NULL, NULL, {qn('customer_id')} FROM marked""",
                    [shop.id, shop.id, now, shop.id, now])
                got = cur.fetchall()
            else:
                got = _upsert_sqlite(cur, shop=shop, table=table, compared=compared, now=now)
            changed = {oid for oid, _, _ in got if oid is not None}
            settle = _with_open_tasks(shop) if changed else []
            # gone with this transaction's commit; dropped now too, since a caller's outer
            # transaction may hold several batches (a rollback drops it as well)
            stage_drop(cur, STAGE)
        inserted = [oid for oid, is_new, _ in got if oid is not None and is_new]
        updated = [oid for oid, is_new, _ in got if oid is not None and not is_new]
        touched = {cid for oid, _, cid in got if oid is None}
        result.created, result.updated = len(inserted), len(updated)
        result.duplicates += len(by_id) - len(inserted) - len(updated)
        with_items = {oid: r["items"] for oid, r in by_id.items() if r["items"] is not None}
        if with_items:
            _items_replace(shop, with_items)
        if touched:
            result.customer_ids = touched
            marks_inserted(shop=shop, customer_ids=touched)
            # the 催付 tasks, leads and late-shipping rows these orders settle (orders_upsert's rules)
            ids = [oid for oid in settle if oid in changed]
            if ids:
                from kefu.shipping.services import issues_close_for_orders

                followups_close_for_orders(shop=shop, order_ids=ids)
                issues_close_for_orders(shop=shop, order_ids=ids)
    return result


def _upsert_sqlite(cur, *, shop: Shop, table: str, compared: list[str], now) -> list[tuple]:
    """The PostgreSQL statement's answer on SQLite: (order id, inserted?, None) for each order
    inserted or changed, then (None, None, customer id) for each buyer marked. The batch's
    transaction holds the write lock since it began (transaction_mode IMMEDIATE), so the stored
    rows read first are the ones the UPDATE and the INSERT meet."""
    qn = connection.ops.quote_name
    oid, cid = qn("order_id"), qn("customer_id")
    differs = f"({', '.join(f'o.{c}' for c in compared)}) IS NOT ({', '.join(f's.{c}' for c in compared)})"
    cur.execute(
        f"""SELECT s.{oid}, o.{qn('id')} IS NULL, s.{cid}, o.{cid} FROM {STAGE} s
            LEFT JOIN {table} o ON o.{qn('shop_id')} = %s AND o.{oid} = s.{oid}
            WHERE o.{qn('id')} IS NULL OR {differs} ORDER BY s.{oid}""",
        [shop.id])
    changed = cur.fetchall()
    stamp = connection.ops.adapt_datetimefield_value(now)
    if any(not is_new for _, is_new, _, _ in changed):
        cur.execute(
            f"""UPDATE {table} AS o SET {', '.join(f'{c} = s.{c}' for c in compared)}, {qn('updated_at')} = %s
                FROM {STAGE} s WHERE o.{qn('shop_id')} = %s AND o.{oid} = s.{oid} AND {differs}""",
            [stamp, shop.id])
    if any(is_new for _, is_new, _, _ in changed):
        cur.execute(
            f"""INSERT INTO {table} ({qn('shop_id')}, {oid}, {', '.join(compared)}, {qn('adjustment_amount')},
                                     {qn('updated_at')})
                SELECT %s, s.{oid}, {', '.join(f's.{c}' for c in compared)}, 0, %s FROM {STAGE} s
                WHERE NOT EXISTS (SELECT 1 FROM {table} o WHERE o.{qn('shop_id')} = %s AND o.{oid} = s.{oid})
                ORDER BY s.{oid}""",
            [shop.id, stamp, shop.id])
    touched = sorted({c for _, _, new, old in changed for c in (new, old) if c is not None})
    insert_new(DirtyBuyer, [DirtyBuyer(shop_id=shop.id, customer_id=c, marked_at=now) for c in touched])
    return [(o, bool(is_new), None) for o, is_new, _, _ in changed] + [(None, None, c) for c in touched]


def _with_open_tasks(shop: Shop) -> list[str]:
    """The staged orders that have an open follow-up (on the order or on its buyer) or an open
    shipping issue: the only ones followups_close_for_orders and issues_close_for_orders may act
    on. One query instead of theirs with a thousand order ids each (most imported orders have none)."""
    from kefu.followups.enums import ACTIVE_STATES
    from kefu.followups.models import FollowUp
    from kefu.shipping.enums import IssueState
    from kefu.shipping.models import ShippingIssue

    active = FollowUp.objects.filter(shop=shop, state__in=ACTIVE_STATES)
    return list(
        Order.objects.filter(shop=shop, order_id__in=RawSQL(f"SELECT {connection.ops.quote_name('order_id')} "
                                                            f"FROM {STAGE}", ()))
        .filter(Exists(active.filter(order=OuterRef("pk"))) | Exists(active.filter(customer=OuterRef("customer_id")))
                | Exists(ShippingIssue.objects.filter(order=OuterRef("pk"), state=IssueState.OPEN)))
        .values_list("order_id", flat=True))
