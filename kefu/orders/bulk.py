"""Loading many orders at once (file imports): COPY on PostgreSQL, the batched upsert elsewhere.

`orders_load` is `orders_upsert(events=False)` with the same results — stored rows, created /
updated / unchanged counts, marked buyers, closed follow-ups and late-shipment rows, replaced
items — written on PostgreSQL by COPY into a temporary table and one INSERT … SELECT … ON
CONFLICT DO UPDATE … WHERE the row differs … RETURNING, in the caller's transaction. SQLite has
no COPY: there it is `orders_upsert` (multi-row INSERT … ON CONFLICT DO NOTHING, CASE updates).
"""

from django.db import connection, transaction
from django.utils import timezone

from kefu.core.inputs import IngestResult
from kefu.core.models import Shop
from kefu.customers.services import customers_resolve
from kefu.followups.services import followups_close_for_orders
from kefu.metrics.queue import buyers_mark

from .models import Order
from .services import ORDER_COLUMNS, _items_replace, orders_upsert

STAGE = "kefu_orders_stage"


def _column(name: str) -> str:
    return Order._meta.get_field(name).column


def orders_load(*, shop: Shop, rows: list[dict]) -> IngestResult:
    """Create or update clean order rows by order id, as a file import does (no webhook events)."""
    if connection.vendor != "postgresql":
        return orders_upsert(shop=shop, rows=rows, events=False)
    result = IngestResult()
    by_id = {r["order_id"]: r for r in rows}  # an id repeated in one batch: the last row wins
    result.duplicates = len(rows) - len(by_id)
    if not by_id:
        return result
    qn = connection.ops.quote_name
    table = qn(Order._meta.db_table)
    cols = [qn(_column(f)) for f in ORDER_COLUMNS]
    compared = [qn("customer_id"), *cols]
    with transaction.atomic():
        customers = customers_resolve(shop=shop, nicks={r["buyer_id"]: r["buyer_nick"] for r in by_id.values()})
        now = timezone.now()
        with connection.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS "
                        f"SELECT {qn('order_id')}, {', '.join(compared)} FROM {table} WITH NO DATA")
            with cur.cursor.copy(f"COPY {STAGE} ({qn('order_id')}, {', '.join(compared)}) FROM STDIN") as copy:
                for oid, r in by_id.items():
                    copy.write_row((oid, customers[r["buyer_id"]], *[r[f] for f in ORDER_COLUMNS]))
            # One statement: the stored customer of each order first (its buyer's figures move too
            # when an order changes hands), then the upsert in key order (no deadlock between two
            # loads), changing only rows that differ; xmax = 0 on the rows it inserted.
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
                        RETURNING {qn('order_id')}, {qn('customer_id')}, (xmax = 0) AS inserted)
                    SELECT up.{qn('order_id')}, up.{qn('customer_id')}, up.inserted, old.{qn('customer_id')}
                    FROM up LEFT JOIN old ON old.{qn('order_id')} = up.{qn('order_id')}""",
                [shop.id, shop.id, now])
            changed = cur.fetchall()
            # gone with this transaction's commit; dropped now too, since a caller's outer
            # transaction may hold several batches (a rollback drops it as well)
            cur.execute(f"DROP TABLE {STAGE}")
        touched, inserted, updated = set(), [], []
        for oid, cid, is_new, old_cid in changed:
            (inserted if is_new else updated).append(oid)
            touched.add(cid)
            if old_cid is not None:
                touched.add(old_cid)
        result.created, result.updated = len(inserted), len(updated)
        result.duplicates += len(by_id) - len(changed)
        with_items = {oid: r["items"] for oid, r in by_id.items() if r["items"] is not None}
        if with_items:
            _items_replace(shop, with_items)
        if touched:
            result.customer_ids = touched
            buyers_mark(shop=shop, customer_ids=touched)
            ids = [*inserted, *updated]
            followups_close_for_orders(shop=shop, order_ids=ids)
            from kefu.shipping.services import issues_close_for_orders

            issues_close_for_orders(shop=shop, order_ids=ids)
    return result
