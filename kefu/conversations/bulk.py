"""Loading many messages at once (file imports of history): a staged batch and set-based SQL.

`messages_load` is `messages_ingest(route=False, regroup=False)` with the same results — stored
rows, created / duplicate counts, buyers and agents met for the first time, marked buyers — written
in a handful of statements whatever the batch's size: the rows into a temporary table (COPY on
PostgreSQL, executemany on SQLite: kefu.core.db.stage_create), the new buyers inserted and every
row's buyer resolved from it, then one INSERT … SELECT … ON CONFLICT DO NOTHING in message-id
order, and the buyers of the rows it inserted marked (on PostgreSQL in the same statement), in the
caller's transaction. The API's request path (messages_ingest) is untouched: live messages are
routed and announced.
"""

from django.db import connection, transaction
from django.utils import timezone

from kefu.core.db import insert_new, stage_create, stage_drop
from kefu.core.inputs import IngestResult
from kefu.core.models import Shop
from kefu.core.services import agents_resolve
from kefu.customers.bulk import customers_from_stage, marks_inserted
from kefu.customers.models import Customer
from kefu.metrics.models import DirtyBuyer

from .models import Message
from .services import _nicks

STAGE = "kefu_messages_stage"
COLUMNS = ("message_id", "channel", "sender", "sent_at", "text")  # stored as the clean row has them


def messages_load(*, shop: Shop, rows: list[dict]) -> IngestResult:
    """Store clean message rows of imported history by message id (the first row of an id wins;
    a stored message never changes) and mark the buyers of the new ones for the rebuild."""
    result = IngestResult()
    fresh: dict[str, dict] = {}
    for r in rows:
        fresh.setdefault(r["message_id"], r)
    result.duplicates = len(rows) - len(fresh)
    if not fresh:
        return result
    nicks = _nicks(list(fresh.values()))
    qn = connection.ops.quote_name
    table, customers, marks = (qn(m._meta.db_table) for m in (Message, Customer, DirtyBuyer))
    cols = [qn(Message._meta.get_field(f).column) for f in COLUMNS]
    order_ref, customer_id, agent_id = (qn(Message._meta.get_field(f).column) for f in ("order_ref", "customer", "agent"))
    with transaction.atomic():
        now = timezone.now()
        agents = agents_resolve(shop=shop, platform_ids={r["agent_id"] for r in fresh.values()})
        with connection.cursor() as cur:
            stage_create(
                cur, name=STAGE,
                select=f"SELECT c.{qn('buyer_id')}, c.{qn('nick')}, {', '.join('m.' + c for c in cols)}, "
                       f"m.{order_ref}, m.{customer_id}, m.{agent_id} FROM {table} m, {customers} c",
                columns=[qn("buyer_id"), qn("nick"), *cols, order_ref, agent_id],
                rows=[(r["buyer_id"], nicks[r["buyer_id"]], *[r[f] for f in COLUMNS], r["order_id"],
                       agents.get(r["agent_id"])) for r in fresh.values()])
            customers_from_stage(cur, shop=shop, stage=STAGE, now=now)
            # The insert in key order (concurrent loads of overlapping files wait for each other on
            # the unique index in one order instead of deadlocking); a mark for every buyer of a
            # message it inserted, in id order — buyers_mark's rows.
            insert = (f"""INSERT INTO {table} ({qn('shop_id')}, {', '.join(cols)}, {order_ref}, {customer_id},
                                               {agent_id}, {qn('received_at')})
                          SELECT %s, {', '.join(cols)}, {order_ref}, {customer_id}, {agent_id}, %s FROM {STAGE}
                          WHERE true ORDER BY {qn('message_id')}
                          ON CONFLICT ({qn('shop_id')}, {qn('message_id')}) DO NOTHING
                          RETURNING {customer_id}""")
            stamp = connection.ops.adapt_datetimefield_value(now)
            if connection.vendor == "postgresql":
                cur.execute(
                    f"""WITH ins AS ({insert}),
                        marked AS (
                            INSERT INTO {marks} ({qn('shop_id')}, {qn('customer_id')}, {qn('marked_at')})
                            SELECT %s, c, %s FROM (SELECT DISTINCT {customer_id} AS c FROM ins) t ORDER BY c
                            RETURNING {qn('customer_id')})
                        SELECT (SELECT count(*) FROM ins), ARRAY(SELECT {qn('customer_id')} FROM marked)""",
                    [shop.id, stamp, shop.id, stamp])
                created, touched = cur.fetchone()
            else:  # no data-modifying WITH: the marks by a second statement
                cur.execute(insert, [shop.id, stamp])
                got = [cid for (cid,) in cur.fetchall()]
                created, touched = len(got), sorted(set(got))
                insert_new(DirtyBuyer, [DirtyBuyer(shop_id=shop.id, customer_id=c, marked_at=now) for c in touched])
            stage_drop(cur, STAGE)  # a caller's outer transaction may hold several batches
        result.created = created
        result.duplicates += len(fresh) - created
        if touched:
            result.customer_ids = set(touched)
            marks_inserted(shop=shop, customer_ids=result.customer_ids)
    return result
