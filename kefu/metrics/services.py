"""Writes of metric facts and roll-ups: a step of the buyers' rebuild (kefu.metrics.rebuild)."""

from collections import defaultdict, namedtuple
from collections.abc import Iterable
from operator import itemgetter
from types import SimpleNamespace

from django.db import transaction

from kefu.core.db import bulk_update_rows
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer
from kefu.customers.services import customers_lock
from kefu.orders.models import Order

from . import facts as F
from . import rows as R
from .models import ZERO, AgentDay, AgentMonth, GroupMonth, OrderCredit, Reception, ShopPeriod, Turn

CHUNK = 500


def facts_rebuild(*, shop: Shop, customer_ids: Iterable[int]) -> None:
    """Rebuild every derived row of these buyers (kefu.metrics.rebuild steps: conversations, facts,
    roll-ups) now, in the caller's transaction. Idempotent: running it twice changes nothing.

    For the few synchronous callers (spam flag, transfer, queue hand-out, a settings change);
    ingestion marks buyers instead and the worker drains them (kefu.metrics.queue). Locks the
    buyers (then the roll-up rows, in key order) so concurrent writers of one buyer or one
    agent-day serialise and never deadlock.
    """
    from .rebuild import buyers_rebuild

    ids = sorted(set(customer_ids))
    settings = F.Settings.for_shop(shop)
    with transaction.atomic():
        spam = customers_lock(shop=shop, customer_ids=ids)
        for i in range(0, len(ids), CHUNK):
            buyers_rebuild(shop=shop, ids=ids[i : i + CHUNK], spam=spam, settings=settings)


def facts_step(batch) -> None:
    """The metric facts of a BuyerBatch (kefu.metrics.rebuild): receptions, turns and order
    credits recomputed from the buyers' raw rows; the roll-ups moved by the difference. Facts are
    plain tuples read and written set-based (kefu.metrics.rows), never model instances."""
    shop, ids, s, spam, msgs = batch.shop, batch.ids, batch.settings, batch.spam, batch.messages
    orders: dict[int, list[F.Ord]] = defaultdict(list)
    where, params = R.any_in(R.qn("customer_id"), ids)
    for oid, cid, *rest in R.rows_select(Order, ORDER_FIELDS, f"{R.qn('shop_id')} = %s AND {where}",
                                         [shop.id, *params]):
        orders[cid].append(F.Ord(oid, *rest))

    old_r = _load(Reception, ids)
    old_t = _load(Turn, ids)
    old_c = _load(OrderCredit, ids)

    RR, TR, CR = _ROWS[Reception], _ROWS[Turn], _ROWS[OrderCredit]
    new_r, new_t, new_c = [], [], []
    for cid in ids:
        if cid in spam:
            continue
        bf = F.buyer_facts(msgs.get(cid, []), orders.get(cid, []), s)
        new_r += [
            RR(None, r.agent_id, cid, r.day, r.first_buyer_at, r.replied, r.first_response_seconds,
               r.first_response_business_seconds, r.is_inquiry, r.paid_same_day, r.paid_next_day, r.paid_final)
            for r in bf.receptions
        ]
        new_t += [
            TR(None, t.agent_id, cid, t.started_at, t.start_day, t.replied_at, t.reply_day, t.seconds,
               t.business_seconds)
            for t in bf.turns
        ]
        new_c += [
            CR(None, c.agent_id, c.order_id, cid, c.pay_day, c.created_day, c.paid_amount, c.refund_amount,
               c.taken_back)
            for c in bf.credits
        ]

    # Write only the facts that changed; unchanged facts add the same to both sides of the delta.
    gone_r, added_r = _sync(shop, Reception, old_r, new_r)
    gone_t, added_t = _sync(shop, Turn, old_t, new_t)
    gone_c, added_c = _sync(shop, OrderCredit, old_c, new_c)
    before = F.contributions(gone_r, gone_t, gone_c, s.slow_seconds, s.tz)
    after = F.contributions(added_r, added_t, added_c, s.slow_seconds, s.tz)

    _apply_delta(shop, before, after, _paying(old_c), _paying(new_c), _silent(gone_c, added_c))


ORDER_FIELDS = ("id", "customer_id", "created_at", "paid_at", "closed_at", "refunded_at", "paid_amount",
                "refund_amount")

# (identity fields, value fields) of each fact: a fact is rewritten only when its values change.
FACT_FIELDS = {
    Reception: (("customer_id", "agent_id", "day"),
                ("first_buyer_at", "replied", "first_response_seconds", "first_response_business_seconds",
                 "is_inquiry", "paid_same_day", "paid_next_day", "paid_final")),
    Turn: (("customer_id", "agent_id", "started_at"),
           ("start_day", "replied_at", "reply_day", "seconds", "business_seconds")),
    OrderCredit: (("order_id",),
                  ("customer_id", "agent_id", "pay_day", "created_day", "paid_amount", "refund_amount", "taken_back")),
}


# A fact as a light tuple: (id, agent_id, identity and value fields in FACT_FIELDS' order).
_ROWS = {
    model: namedtuple(model.__name__ + "Row", dict.fromkeys(("id", "agent_id", *key, *val)))
    for model, (key, val) in FACT_FIELDS.items()
}


def _load(model, customer_ids: list[int]) -> list:
    """Stored facts of these buyers as light tuples (model instances cost more than the query)."""
    row = _ROWS[model]
    where, params = R.any_in(R.qn("customer_id"), customer_ids)
    return [row._make(v) for v in R.rows_select(model, row._fields, where, params)]


# (identity, values) of a fact row as two tuples, by position (getattr per field cost more than the diff).
def _getter(model, names: tuple[str, ...]):
    at = [_ROWS[model]._fields.index(f) for f in names]
    if len(at) == 1:
        return lambda row, i=at[0]: (row[i],)
    return itemgetter(*at)


_PARTS = {model: tuple(_getter(model, names) for names in FACT_FIELDS[model]) for model in FACT_FIELDS}


def _sync(shop: Shop, model, old: list, new: list) -> tuple[list, list]:
    """Delete old facts that vanished or changed, insert new ones that are new or changed."""
    key_of, val_of = _PARTS[model]
    old_by = {}
    for o in old:
        old_by[key_of(o)] = (o, val_of(o))
    new_vals, added = {}, []
    for n in new:
        key, val = key_of(n), val_of(n)
        new_vals[key] = val
        prev = old_by.get(key)
        if prev is None or prev[1] != val:
            added.append(n)
    gone = [o for key, (o, val) in old_by.items() if new_vals.get(key) != val]
    if len(old_by) != len(old):  # identity clash (should not happen): rewrite everything
        gone, added = old, new
    R.rows_delete(model, [o.id for o in gone])
    fields = _ROWS[model]._fields[1:]
    R.rows_insert(model, ("shop_id", *fields), [(shop.id, *n[1:]) for n in added])
    return gone, added


def _paying(credits) -> dict:
    """Distinct paying buyers per (agent, day), (agent, month), shop day and shop month, counted
    over ALL the credits of the buyers being rebuilt (old or new), not only the changed ones."""
    pairs = {(c.customer_id, c.agent_id, c.pay_day) for c in credits if c.agent_id is not None}
    out: dict[str, dict] = {"day": defaultdict(int), "month": defaultdict(int),
                            "shop_day": defaultdict(int), "shop_month": defaultdict(int)}
    for _cid, agent_id, day in pairs:
        out["day"][(agent_id, day)] += 1
    for _cid, agent_id, month in {(c, a, d.replace(day=1)) for c, a, d in pairs}:
        out["month"][(agent_id, month)] += 1
    for _cid, day in {(c, d) for c, _a, d in pairs}:
        out["shop_day"][day] += 1
    for _cid, month in {(c, d.replace(day=1)) for c, _a, d in pairs}:
        out["shop_month"][month] += 1
    return out


def _silent(gone: list, added: list) -> dict:
    """pay day → [orders, paid amount] that the changed silent credits (no agent) add to the day."""
    out: dict = {}
    for credits, sign in ((gone, -1), (added, 1)):
        for c in credits:
            if c.agent_id is None:
                d = out.setdefault(c.pay_day, [0, ZERO])
                d[0] += sign
                d[1] += sign * c.paid_amount
    return {day: d for day, d in out.items() if d[0] or d[1]}


def _changed(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the counts that moved: an unchanged (agent, day) is neither created nor locked."""
    keys = {k for k in set(before) | set(after) if before.get(k, 0) != after.get(k, 0)}
    return {k: before[k] for k in keys if k in before}, {k: after[k] for k in keys if k in after}


def _with_paying(agg: dict, paying: dict) -> dict:
    out = dict(agg)
    for key, n in paying.items():
        out[key] = {**out.get(key, {}), "paying_buyers": n}
    return out


def _apply_delta(shop: Shop, before: dict, after: dict, paying_before: dict, paying_after: dict,
                 silent: dict) -> None:
    """Move the day roll-up, then the month roll-up and its group rows, then the shop's paying buyers
    and silent orders, by the facts' change (in that lock order)."""
    pb_day, pa_day = _changed(paying_before["day"], paying_after["day"])
    pb_month, pa_month = _changed(paying_before["month"], paying_after["month"])
    _move(AgentDay, "day", shop, _with_paying(before, pb_day), _with_paying(after, pa_day),
          (*F.SCALARS, "paying_buyers"), F.HISTS)
    moved = _move(AgentMonth, "month", shop, _with_paying(_by_month(before), pb_month),
                  _with_paying(_by_month(after), pa_month), ("paying_buyers",), F.MEDIAN_HISTS)
    _move_groups(shop, moved)
    for period, key in ((ShopPeriod.DAY, "shop_day"), (ShopPeriod.MONTH, "shop_month")):
        deltas = {start: paying_after[key].get(start, 0) - paying_before[key].get(start, 0)
                  for start in set(paying_before[key]) | set(paying_after[key])}
        deltas = {k: v for k, v in deltas.items() if v}
        moved = {*deltas, *silent} if period == ShopPeriod.DAY else set(deltas)
        if not moved:
            continue
        ShopPeriod.objects.bulk_create([ShopPeriod(shop=shop, period=period, start=d) for d in moved],
                                       ignore_conflicts=True)
        rows = list(ShopPeriod.objects.select_for_update().filter(shop=shop, period=period, start__in=moved)
                    .order_by("start"))
        for row in rows:
            row.paying_buyers += deltas.get(row.start, 0)
            if period == ShopPeriod.DAY and row.start in silent:
                row.silent_orders += silent[row.start][0]
                row.silent_sales += silent[row.start][1]
        bulk_update_rows(ShopPeriod, rows, ["paying_buyers", "silent_orders", "silent_sales"])


def _by_month(agg: dict) -> dict:
    out: dict = {}
    for (agent_id, day), b in agg.items():
        m = out.setdefault((agent_id, day.replace(day=1)), {h: defaultdict(int) for h in F.MEDIAN_HISTS})
        for h in F.MEDIAN_HISTS:
            for k, n in b[h].items():
                m[h][k] += n
    return out


def _move(model, period: str, shop: Shop, before: dict, after: dict, scalars, hists) -> dict:
    """Move the roll-up rows of these keys by after − before; returns {key: (row, histogram change)}
    for the rows whose histograms moved (row: a namespace with the row's fields as moved)."""
    keys = sorted(set(before) | set(after))
    if not keys:
        return {}
    agents = sorted({k[0] for k in keys})
    periods = sorted({k[1] for k in keys})
    medians = list(F.MEDIANS) if model is AgentMonth else []
    extra = ("rolled_group",) if model is AgentMonth else ()
    fields = ("id", "agent_id", period, *extra, *scalars, *hists, *medians)
    where_a, pa = R.any_in(R.qn("agent_id"), agents)
    where = f"{R.qn('shop_id')} = %s AND {where_a} AND {R.qn(period)} IN ({', '.join(['%s'] * len(periods))})"
    params = [shop.id, *pa, *periods]
    present = {(a, p) for a, p in R.rows_select(model, ("agent_id", period), where, params)}
    missing = [k for k in keys if k not in present]
    if missing:
        if model is AgentMonth:  # a new month row rolls into the agent's present group
            group_of = dict(Agent.objects.filter(id__in={a for a, _ in missing}).values_list("id", "group"))
            R.rows_insert(model, ("shop_id", "agent_id", period, "rolled_group"),
                          [(shop.id, a, p, group_of.get(a, "")) for a, p in missing], ignore_conflicts=True)
        else:
            R.rows_insert(model, ("shop_id", "agent_id", period), [(shop.id, a, p) for a, p in missing],
                          ignore_conflicts=True)
    rows = {(r[1], r[2]): r for r in R.rows_select(model, fields, where, params,
                                                    order=f"{R.qn('agent_id')}, {R.qn(period)}", lock=True)}
    changed, moved = [], {}
    n_head = 3 + len(extra)
    for key in keys:
        b, a = before.get(key), after.get(key)
        got = rows[key]
        values = dict(zip(fields[n_head:], got[n_head:], strict=True))
        dirty = False
        for f in scalars:
            diff = (a.get(f, 0) if a else 0) - (b.get(f, 0) if b else 0)
            if diff:
                values[f] += diff
                dirty = True
        change = {}
        for h in hists:
            delta = _hist_delta(a, b, h)
            if not delta:
                continue
            change[h] = delta
            hist = dict(values[h])
            F.hist_add(hist, delta)
            values[h] = hist
            dirty = True
        if change:
            if model is AgentMonth:
                for name, h in F.MEDIANS.items():
                    values[name] = F.median_from_hist(values[h])
            moved[key] = (SimpleNamespace(rolled_group=got[3] if extra else None), change)
        if dirty:
            changed.append((got[0], *(values[f] for f in fields[n_head:])))
    R.rows_update(model, fields[n_head:], changed)
    return moved


def _hist_delta(after: dict | None, before: dict | None, h: str) -> dict:
    """{seconds (str): count change} of one histogram, zero changes left out."""
    out: dict[str, int] = {}
    for src, sign in ((after, 1), (before, -1)):
        if src and h in src:
            for sec, n in src[h].items():
                k = str(sec)
                out[k] = out.get(k, 0) + sign * n
    return {k: v for k, v in out.items() if v}


def _move_groups(shop: Shop, moved: dict) -> None:
    """Move the GroupMonth rows by the histogram changes of the agent months (after them, in
    (group, month) order: the lock order stays buyers → agent rows → group rows → shop rows)."""
    deltas: dict[tuple, dict] = {}
    for (_agent_id, month), (row, change) in moved.items():
        d = deltas.setdefault((row.rolled_group, month), {})
        for h, delta in change.items():
            F.hist_add(d.setdefault(h, {}), delta)
    deltas = {k: {h: v for h, v in d.items() if v} for k, d in deltas.items()}
    deltas = {k: d for k, d in deltas.items() if d}
    if not deltas:
        return
    # In key order, like every roll-up insert: two drains inserting the same new keys wait, never deadlock.
    GroupMonth.objects.bulk_create([GroupMonth(shop=shop, group=g, month=m) for g, m in sorted(deltas)],
                                   ignore_conflicts=True)
    rows = (GroupMonth.objects.select_for_update()
            .filter(shop=shop, group__in={g for g, _ in deltas}, month__in={m for _, m in deltas})
            .order_by("group", "month"))
    changed = []
    for row in rows:
        d = deltas.get((row.group, row.month))
        if d is None:
            continue
        for h, delta in d.items():
            hist = dict(getattr(row, h))
            F.hist_add(hist, delta)
            setattr(row, h, hist)
        changed.append(row)
    bulk_update_rows(GroupMonth, changed, list(F.MEDIAN_HISTS))


def group_months_rebuild(*, shop: Shop) -> None:
    """Recount the shop's GroupMonth rows and AgentMonth medians from its AgentMonth histograms
    (for rows written in bulk, as the agents benchmark does)."""
    with transaction.atomic():
        GroupMonth.objects.filter(shop=shop).delete()
        sums: dict[tuple, dict] = {}
        rows = list(AgentMonth.objects.select_for_update().filter(shop=shop).order_by("agent_id", "month"))
        for row in rows:
            g = sums.setdefault((row.rolled_group, row.month), {h: {} for h in F.MEDIAN_HISTS})
            for h in F.MEDIAN_HISTS:
                F.hist_add(g[h], getattr(row, h))
            for name, h in F.MEDIANS.items():
                setattr(row, name, F.median_from_hist(getattr(row, h)))
        bulk_update_rows(AgentMonth, rows, list(F.MEDIANS))
        GroupMonth.objects.bulk_create([GroupMonth(shop=shop, group=g, month=m, **h) for (g, m), h in sums.items()])


def rollups_rebuild(*, shop: Shop) -> None:
    """Rebuild every fact and roll-up of a shop from raw rows (after a settings change, or drift).

    The buyers are locked before anything is deleted (the one lock order: buyers, then roll-up
    rows), and their marks are cleared: they are rebuilt here."""
    from .models import DirtyBuyer
    from .rebuild import buyers_rebuild

    with transaction.atomic():
        ids = list(Customer.objects.filter(shop=shop).order_by("id").values_list("id", flat=True))
        spam = customers_lock(shop=shop, customer_ids=ids)
        locked = set(ids)
        marks = [m for m, c in DirtyBuyer.objects.filter(shop=shop).values_list("id", "customer_id") if c in locked]
        AgentDay.objects.filter(shop=shop).delete()
        AgentMonth.objects.filter(shop=shop).delete()
        GroupMonth.objects.filter(shop=shop).delete()
        ShopPeriod.objects.filter(shop=shop).delete()
        Reception.objects.filter(shop=shop).delete()
        Turn.objects.filter(shop=shop).delete()
        OrderCredit.objects.filter(shop=shop).delete()
        settings = F.Settings.for_shop(shop)
        for i in range(0, len(ids), CHUNK):
            buyers_rebuild(shop=shop, ids=ids[i : i + CHUNK], spam=spam, settings=settings)
        for i in range(0, len(marks), 1000):
            DirtyBuyer.objects.filter(id__in=marks[i : i + 1000]).delete()
