"""The rebuild of buyers who have orders and nothing else, in a few set-based statements.

A file of orders (the Tmall sample: one anonymous buyer per order) marks thousands of buyers who
never wrote a message. For such a buyer every step of `kefu.metrics.rebuild` is known in advance:
no messages and no conversation, so the conversations and flags steps do nothing; no reception
and no turn; each paid order is a silent credit (no agent), and the only roll-up that moves is the
shop day's silent orders and sales. `orders_only_rebuild` does exactly that for the buyers of a
batch that qualify — the credits computed by the same `facts.buyer_facts` as every rebuild, the
changed ones written with plain SQL and one array parameter instead of ORM objects and IN lists —
and hands the other buyers back to the full rebuild.

A buyer qualifies when, locked: not spam, no message, no conversation, reception, turn or credit
with an agent stored (left over from messages it had before a merge moved them: the full rebuild
takes those away), and none of its orders still credited to another buyer (an order that changed
hands: the full rebuild of both, in one pass, moves the credit). Steps other than the known three turn the fast path off, since what
they would do for such a buyer is not known here.
"""

import datetime as dt
from decimal import Decimal

from django.db import connection

from kefu.conversations.models import Conversation
from kefu.core.models import Shop
from kefu.orders.models import Order

from . import facts as F
from . import rows as R
from .models import OrderCredit, Reception, Turn

# Steps that do nothing for a buyer with no message and no conversation; facts_step is done here.
NOTHING_TO_DO = {"kefu.conversations.rebuild.conversations_step", "kefu.quality.flags.flags_step"}
DONE_HERE = "kefu.metrics.services.facts_step"
CREDIT_COLUMNS = ("order_id", "customer_id", "pay_day", "created_day", "paid_amount", "refund_amount", "taken_back")


def enabled() -> bool:
    from .rebuild import REBUILD_STEPS

    return DONE_HERE in REBUILD_STEPS and set(REBUILD_STEPS) <= NOTHING_TO_DO | {DONE_HERE}


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def orders_only_rebuild(*, shop: Shop, ids: list[int], spam: set[int], messages: dict, settings: F.Settings) -> list[int]:
    """Rebuild the buyers of `ids` (locked by the caller, in its transaction) who have orders only;
    returns the others, in their order, for the full rebuild."""
    if not enabled():
        return ids
    maybe = [i for i in ids if i not in spam and not messages.get(i)]
    if not maybe:
        return ids
    qn = connection.ops.quote_name
    cid = qn("customer_id")
    where, params = R.any_in(cid, maybe)
    with connection.cursor() as cur:
        cur.execute(f"SELECT {cid} FROM {_table(Conversation)} WHERE {where} "
                    f"UNION SELECT {cid} FROM {_table(Reception)} WHERE {where} "
                    f"UNION SELECT {cid} FROM {_table(Turn)} WHERE {where} "
                    f"UNION SELECT {cid} FROM {_table(OrderCredit)} WHERE {where} AND {qn('agent_id')} IS NOT NULL "
                    f"UNION SELECT o.{cid} FROM {_table(Order)} o JOIN {_table(OrderCredit)} c "
                    f"ON c.{qn('order_id')} = o.{qn('id')} WHERE o.{where} AND c.{cid} <> o.{cid}",
                    params * 5)
        others = {r[0] for r in cur.fetchall()}
        plain = [i for i in maybe if i not in others]
        if not plain:
            return ids
        where, params = R.any_in(cid, plain)
        orders: dict[int, list[F.Ord]] = {}
        cur.execute(f"SELECT {qn('id')}, {cid}, {qn('created_at')}, {qn('paid_at')}, {qn('closed_at')}, "
                    f"{qn('refunded_at')}, {qn('paid_amount')}, {qn('refund_amount')} FROM {_table(Order)} "
                    f"WHERE {qn('shop_id')} = %s AND {where}", [shop.id, *params])
        for oid, c, created, paid, closed, refunded, amount, refund in cur.fetchall():
            orders.setdefault(c, []).append(F.Ord(oid, *_aware(created, paid, closed, refunded),
                                                  _money(amount), _money(refund)))
        new = {}
        for c in plain:
            for cr in F.buyer_facts([], orders.get(c, []), settings).credits:
                new[cr.order_id] = (cr.order_id, c, cr.pay_day, cr.created_day, cr.paid_amount, cr.refund_amount,
                                    cr.taken_back)
        cur.execute(f"SELECT {qn('id')}, {', '.join(qn(c) for c in CREDIT_COLUMNS)} FROM {_table(OrderCredit)} "
                    f"WHERE {where}", params)
        old = {}
        for row in cur.fetchall():
            old[row[1]] = (row[0], (row[1], row[2], *_days(row[3], row[4]), _money(row[5]), _money(row[6]),
                                    bool(row[7])))
        gone = [(pk, val) for oid, (pk, val) in old.items() if new.get(oid) != val]
        added = [val for oid, val in new.items() if oid not in old or old[oid][1] != val]
        if gone:
            where_gone, p = R.any_in(qn("id"), [pk for pk, _ in gone])
            cur.execute(f"DELETE FROM {_table(OrderCredit)} WHERE {where_gone}", p)
        if added:
            _insert_credits(cur, shop, added)
    silent = _silent_change([v for _, v in gone], added)
    if silent:
        from .services import _apply_delta

        nobody = {"day": {}, "month": {}, "shop_day": {}, "shop_month": {}}
        _apply_delta(shop, {}, {}, nobody, nobody, silent)
    done = set(plain)
    return [i for i in ids if i not in done]


def _silent_change(gone: list[tuple], added: list[tuple]) -> dict:
    """pay day → [orders, paid amount] the changed silent credits add (services._silent's rule)."""
    out: dict = {}
    for rows, sign in ((gone, -1), (added, 1)):
        for _oid, _c, pay_day, _created, paid, _refund, _back in rows:
            d = out.setdefault(pay_day, [0, Decimal(0)])
            d[0] += sign
            d[1] += sign * paid
    return {day: d for day, d in out.items() if d[0] or d[1]}


def _insert_credits(cur, shop: Shop, rows: list[tuple]) -> None:
    qn = connection.ops.quote_name
    cols = ["shop_id", "agent_id", *CREDIT_COLUMNS]
    names = ", ".join(qn(c) for c in cols)
    if connection.vendor == "postgresql":
        with cur.cursor.copy(f"COPY {_table(OrderCredit)} ({names}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row((shop.id, None, *r))
        return
    ops = connection.ops
    cur.executemany(f"INSERT INTO {_table(OrderCredit)} ({names}) VALUES ({', '.join(['%s'] * len(cols))})", [(shop.id, None, oid, c, ops.adapt_datefield_value(pay), ops.adapt_datefield_value(made),
                           ops.adapt_decimalfield_value(paid, 12, 2), ops.adapt_decimalfield_value(refund, 12, 2),
                           back)
                          for oid, c, pay, made, paid, refund, back in rows])


def _aware(*values):
    """Datetimes as the ORM returns them (SQLite gives naive UTC text-converted values)."""
    if connection.vendor == "postgresql":
        return values
    field = Order._meta.get_field("created_at")
    conv = connection.ops.convert_datetimefield_value
    return tuple(None if v is None else conv(v, field, connection) for v in values)


def _days(*values):
    if connection.vendor == "postgresql":
        return values
    return tuple(v if v is None or isinstance(v, dt.date) else dt.date.fromisoformat(v) for v in values)


def _money(v):
    """A stored amount as the ORM gives it: Decimal with two places (SQLite may hand back a float
    or an int for a decimal column)."""
    if isinstance(v, Decimal):
        return v.quantize(CENT)
    return Decimal(str(v)).quantize(CENT) if v is not None else v


CENT = Decimal("0.01")
