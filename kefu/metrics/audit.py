"""Audit: recompute the roll-up of a shop from raw rows in memory and compare with the stored one.

The stored roll-up is maintained incrementally (by differences) as rows arrive; this routine
rebuilds the same figures in one pass from raw messages and orders, so drift is found.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from kefu.conversations.models import Message
from kefu.core.models import Agent
from kefu.customers.models import Customer
from kefu.orders.models import Order

from . import facts as F
from .models import AgentDay, AgentMonth, GroupMonth, ShopPeriod


def rollup_differences(*, shop, date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[dict]:
    s = F.Settings.for_shop(shop)
    spam = set(Customer.objects.filter(shop=shop, is_spam=True).values_list("id", flat=True))
    msgs, orders = defaultdict(list), defaultdict(list)
    for mid, cid, sent_at, sender, agent_id, ref, ext_id in Message.objects.filter(shop=shop).values_list(
        "id", "customer_id", "sent_at", "sender", "agent_id", "order_ref", "message_id"
    ).iterator(chunk_size=5000):
        msgs[cid].append(F.Msg(mid, sent_at, sender, agent_id, ref, ext_id))
    for oid, cid, *rest in Order.objects.filter(shop=shop).values_list(
        "id", "customer_id", "created_at", "paid_at", "closed_at", "refunded_at", "paid_amount", "refund_amount"
    ).iterator(chunk_size=5000):
        orders[cid].append(F.Ord(oid, *rest))
    receptions, turns, credits = [], [], []
    paying: set[tuple] = set()  # (buyer, agent, pay day) of every credit to an agent
    for cid in set(msgs) | set(orders):
        if cid in spam:
            continue
        bf = F.buyer_facts(msgs.get(cid, []), orders.get(cid, []), s)
        receptions += bf.receptions
        turns += bf.turns
        credits += bf.credits
        paying |= {(cid, c.agent_id, c.pay_day) for c in bf.credits if c.agent_id is not None}
    expected = F.contributions(receptions, turns, credits, s.slow_seconds, s.tz)
    buyers_day, buyers_month = defaultdict(set), defaultdict(set)
    shop_day, shop_month = defaultdict(set), defaultdict(set)
    for cid, agent_id, day in paying:
        buyers_day[(agent_id, day)].add(cid)
        buyers_month[(agent_id, day.replace(day=1))].add(cid)
        shop_day[day].add(cid)
        shop_month[day.replace(day=1)].add(cid)

    def in_range(day):
        return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)

    stored = {(r.agent_id, r.day): r for r in AgentDay.objects.filter(shop=shop) if in_range(r.day)}
    diffs = []
    for key in sorted(set(stored) | {k for k in expected if in_range(k[1])}, key=lambda k: (k[1], k[0])):
        want, have = expected.get(key), stored.get(key)
        for f in F.SCALARS:
            w = want[f] if want else 0
            h = getattr(have, f) if have else 0
            if w != h:
                diffs.append({"agent_id": key[0], "day": key[1].isoformat(), "field": f, "expected": str(w), "stored": str(h)})
        w, h = len(buyers_day.get(key, ())), have.paying_buyers if have else 0
        if w != h:
            diffs.append({"agent_id": key[0], "day": key[1].isoformat(), "field": "paying_buyers", "expected": str(w),
                          "stored": str(h)})
        for f in F.HISTS:
            w = {str(k): v for k, v in (want[f] if want else {}).items() if v}
            h = getattr(have, f) if have else {}
            if w != h:
                diffs.append({"agent_id": key[0], "day": key[1].isoformat(), "field": f, "expected": "…", "stored": "…"})
    # Month histograms must equal the expected day histograms summed per month.
    months: dict = defaultdict(lambda: {h: defaultdict(int) for h in F.MEDIAN_HISTS})
    for (agent_id, day), b in expected.items():
        for h in F.MEDIAN_HISTS:
            for k, n in b[h].items():
                months[(agent_id, day.replace(day=1))][h][str(k)] += n
    stored_months = {(r.agent_id, r.month): r for r in AgentMonth.objects.filter(shop=shop)}
    group_of = dict(Agent.objects.filter(shop=shop).values_list("id", "group"))
    group_months: dict = defaultdict(lambda: {h: defaultdict(int) for h in F.MEDIAN_HISTS})
    def month_in_range(month):
        month_end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        return not ((date_to is not None and month > date_to) or (date_from is not None and month_end < date_from))

    for key in sorted(set(months) | set(stored_months), key=lambda k: (k[1], k[0])):
        if not month_in_range(key[1]):
            continue
        for h in F.MEDIAN_HISTS:
            want = {k: v for k, v in months[key][h].items() if v} if key in months else {}
            have = getattr(stored_months[key], h) if key in stored_months else {}
            if want != have:
                diffs.append({"agent_id": key[0], "month": key[1].isoformat(), "field": h, "expected": "…", "stored": "…"})
        for name, hname in F.MEDIANS.items():
            want = F.median_from_hist({k: v for k, v in months[key][hname].items() if v}) if key in months else None
            have = getattr(stored_months[key], name) if key in stored_months else None
            if want != have:
                diffs.append({"agent_id": key[0], "month": key[1].isoformat(), "field": name, "expected": str(want),
                              "stored": str(have)})
        w = len(buyers_month.get(key, ()))
        h = stored_months[key].paying_buyers if key in stored_months else 0
        if w != h:
            diffs.append({"agent_id": key[0], "month": key[1].isoformat(), "field": "paying_buyers", "expected": str(w),
                          "stored": str(h)})
        # The group rows sum the month rows by the group each rolled into (a new row: the agent's own).
        group = stored_months[key].rolled_group if key in stored_months else group_of.get(key[0], "")
        for h in F.MEDIAN_HISTS:
            target = group_months[(group, key[1])][h]
            for k, n in (months[key][h].items() if key in months else ()):
                target[k] += n
    stored_groups = {(r.group, r.month): r for r in GroupMonth.objects.filter(shop=shop) if month_in_range(r.month)}
    for key in sorted(set(group_months) | set(stored_groups), key=lambda k: (k[1], k[0])):
        if key not in group_months and not any(getattr(stored_groups[key], h) for h in F.MEDIAN_HISTS):
            continue  # a group row emptied by moves
        for h in F.MEDIAN_HISTS:
            want = {k: v for k, v in group_months[key][h].items() if v} if key in group_months else {}
            have = getattr(stored_groups[key], h) if key in stored_groups else {}
            if want != have:
                diffs.append({"agent_id": None, "group": key[0], "month": key[1].isoformat(), "field": h,
                              "expected": "…", "stored": "…"})
    silent: dict = defaultdict(lambda: [0, Decimal(0)])  # pay day → silent orders, paid amount
    for c in credits:
        if c.agent_id is None:
            silent[c.pay_day][0] += 1
            silent[c.pay_day][1] += c.paid_amount
    stored_days = {r.start: r for r in ShopPeriod.objects.filter(shop=shop, period=ShopPeriod.DAY)}
    for day in sorted(set(silent) | set(stored_days)):
        if not in_range(day):
            continue
        want = silent.get(day, (0, Decimal(0)))
        have = (stored_days[day].silent_orders, stored_days[day].silent_sales) if day in stored_days else (0, 0)
        for f, w, h in (("silent_orders", want[0], have[0]), ("silent_sales", want[1], have[1])):
            if w != h:
                diffs.append({"agent_id": None, "day": day.isoformat(), "field": f, "expected": str(w), "stored": str(h)})
    stored_shop = {(r.period, r.start): r.paying_buyers for r in ShopPeriod.objects.filter(shop=shop)}
    for period, want_by in ((ShopPeriod.DAY, shop_day), (ShopPeriod.MONTH, shop_month)):
        for start in sorted(set(want_by) | {k[1] for k in stored_shop if k[0] == period}):
            if (date_to is not None and start > date_to) or (date_from is not None and period == ShopPeriod.DAY
                                                             and start < date_from):
                continue
            w, h = len(want_by.get(start, ())), stored_shop.get((period, start), 0)
            if w != h:
                diffs.append({"agent_id": None, period: start.isoformat(), "field": "paying_buyers", "expected": str(w),
                              "stored": str(h)})
    return diffs
