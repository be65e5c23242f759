"""Buyer 360 figures, merge and churn watch on real data (/work/shared/data), each compared with a
recompute straight from the CSV files.

- Olist gives one customer_id per order and a customer_unique_id per person: the records of one
  person are merged, and every buyer's spend, paid orders and review levels, and the churn flags
  of the people who became repeat buyers by the merge, equal a plain loop over the files; the undo
  gives the per-record figures back.
- Taobao UserBehavior's buy events are real repeat purchases (a week of them): the silent
  repeat-buyer rule flags, at several moments, exactly the buyers a plain recompute picks.
"""

import csv
import datetime as dt
import statistics
from collections import defaultdict
from decimal import Decimal

import pytest

from kefu.care.churn import churn_causes, churn_scan
from kefu.care.enums import ChurnReason
from kefu.care.models import CareSettings, ChurnFlag
from kefu.complaints.reviews import reviews_clean, reviews_ingest
from kefu.customers import merge as M
from kefu.customers.models import Customer
from kefu.customers.profile import buyer_profile
from kefu.customers.selectors import with_figures
from kefu.orders.services import orders_clean, orders_upsert
from tests.conftest import shared_data

pytestmark = pytest.mark.django_db
LEVEL = {"1": "bad", "2": "bad", "3": "medium", "4": "good", "5": "good"}


def olist():
    folder = shared_data("olist_sample_4000_orders")

    def rows(name):
        with folder.joinpath(name).open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    person = {r["customer_id"]: r["customer_unique_id"] for r in rows("olist_customers_dataset.csv")}
    paid = defaultdict(Decimal)
    for p in rows("olist_order_payments_dataset.csv"):
        paid[p["order_id"]] += Decimal(p["payment_value"])
    return person, paid, rows("olist_orders_dataset.csv"), rows("olist_order_reviews_dataset.csv")


def load_olist(shop, orders, paid, reviews):
    """Each Olist customer_id is a buyer record (as a platform gives one per order)."""
    buyer_of = {o["order_id"]: o["customer_id"] for o in orders}
    orders_upsert(shop=shop, rows=orders_clean([
        {"order_id": o["order_id"], "buyer_id": o["customer_id"], "created_at": o["order_purchase_timestamp"],
         "paid_at": o["order_approved_at"], "total_amount": str(paid[o["order_id"]]),
         "paid_amount": str(paid[o["order_id"]])} for o in orders], tz=shop.tz))
    reviews_ingest(shop=shop, rows=reviews_clean([
        {"review_id": r["review_id"], "buyer_id": buyer_of[r["order_id"]], "order_id": r["order_id"],
         "rating": r["review_score"], "created_at": r["review_creation_date"]} for r in reviews], tz=shop.tz))


def expected(orders, paid, reviews, key):
    """{key(customer_id): (spend, paid orders, {level: n}, [paid times])} from the files alone."""
    out = defaultdict(lambda: [Decimal("0.00"), 0, defaultdict(int), []])
    order_owner = {}
    for o in orders:
        k = key(o["customer_id"])
        order_owner[o["order_id"]] = k
        row = out[k]
        if o["order_approved_at"].strip():
            row[0] += paid[o["order_id"]]
            row[1] += 1
            row[3].append(o["order_approved_at"])
    for r in reviews:
        out[order_owner[r["order_id"]]][2][LEVEL[r["review_score"]]] += 1
    return out


def figures(shop):
    """{buyer id: (spend, paid orders)} as the buyer list reads them (records not merged away)."""
    qs = with_figures(Customer.objects.filter(shop=shop, merged_into__isnull=True))
    return {c.buyer_id: (c.spend, c.paid_orders) for c in qs}


def test_olist_people_merged_figures_reviews_and_churn_follow_exactly(shop):
    person, paid, orders, reviews = olist()
    load_olist(shop, orders, paid, reviews)
    records_of = defaultdict(list)
    for o in orders:
        records_of[person[o["customer_id"]]].append(o["customer_id"])
    people = {p: sorted(ids) for p, ids in records_of.items() if len(ids) > 1}
    assert len(people) == 2  # the sample's two people with two records each

    # before: one row per record, equal to the files
    per_record = expected(orders, paid, reviews, key=lambda cid: cid)
    assert figures(shop) == {k: (v[0], v[1]) for k, v in per_record.items()}
    assert churn_scan(shop=shop) == (0, 0)  # one paid order per record; reviews years old

    merges = []
    for ids in people.values():
        keep, *others = (Customer.objects.get(shop=shop, buyer_id=i) for i in ids)
        merges += [M.customer_merge(shop=shop, source=o, target=keep, actor=None, reason="同一 unique id")
                   for o in others]

    # after: one row per person (kept under the first record's id), equal to the files
    first = {p: ids[0] for p, ids in records_of.items() for ids in [sorted(ids)]}
    per_person = expected(orders, paid, reviews, key=lambda cid: first[person[cid]])
    assert len(per_person) == 3998
    assert figures(shop) == {k: (v[0], v[1]) for k, v in per_person.items()}
    for ids in people.values():
        keep = Customer.objects.get(shop=shop, buyer_id=ids[0])
        p = buyer_profile(shop=shop, member=None, customer=keep)
        want = per_person[ids[0]]
        assert {lv: n for lv, n in p["review_counts"].items() if n} == dict(want[2])
        assert p["reorder_interval_days"] is not None

    # the merge made them repeat buyers: the silent rule (at the real clock, years after the data)
    # flags exactly those with ≥ 2 paid orders silent past max(median gap × 1.5, 30 days)
    now = dt.datetime.now(dt.UTC)
    want_silent = set()
    for k, (_spend, n, _levels, times) in per_person.items():
        if n < 2:
            continue
        ts = sorted(dt.datetime.fromisoformat(t).replace(tzinfo=shop.tz) for t in times)
        gap = statistics.median((b - a).total_seconds() / 86400 for a, b in zip(ts, ts[1:], strict=False))
        if (now - ts[-1]).total_seconds() / 86400 > max(gap * 1.5, 30):
            want_silent.add(k)
    assert len(want_silent) == 2
    open_silent = ChurnFlag.objects.filter(shop=shop, reason=ChurnReason.SILENT, cleared_at__isnull=True)
    assert set(open_silent.values_list("customer__buyer_id", flat=True)) == want_silent

    # undo: the records' own figures come back and the flags clear
    for m in reversed(merges):
        M.customer_merge_undo(shop=shop, merge_id=m.pk, actor=None)
    assert figures(shop) == {k: (v[0], v[1]) for k, v in per_record.items()}
    assert not open_silent.exists()


def behavior_buys():
    """(user id, buy time) of the Taobao UserBehavior sample (Unix seconds, China time)."""
    path = shared_data("taobao_user_behavior_head", "UserBehavior_head.csv")
    with path.open(encoding="utf-8", newline="") as f:
        return [(r[0], int(r[4])) for r in csv.reader(f) if len(r) >= 5 and r[3] == "buy"]


def silent_by_hand(buys, now, factor, min_days) -> set[str]:
    times = defaultdict(list)
    for user, ts in buys:
        times[user].append(ts)
    out = set()
    for user, ts in times.items():
        if len(ts) < 2:
            continue
        ts.sort()
        # the rule's interval is the median gap in days, to 0.1 day (what the 360 page shows)
        gap = round(statistics.median((b - a) / 86400 for a, b in zip(ts, ts[1:], strict=False)), 1)
        if (now.timestamp() - ts[-1]) / 86400 > max(gap * factor, min_days):
            out.add(user)
    return out


def test_taobao_repeat_buyers_silent_past_their_interval(shop):
    buys = behavior_buys()
    assert len(buys) >= 30 and len({u for u, _t in buys}) >= 10
    orders_upsert(shop=shop, rows=orders_clean([
        {"order_id": f"ub{i}", "buyer_id": f"ub_{u}", "created_at": dt.datetime.fromtimestamp(t, shop.tz).isoformat(),
         "paid_at": dt.datetime.fromtimestamp(t, shop.tz).isoformat(), "total_amount": "1.00", "paid_amount": "1.00"}
        for i, (u, t) in enumerate(buys)], tz=shop.tz))
    # a week of data: a one-day floor lets the buyers' own intervals decide
    CareSettings.objects.update_or_create(shop=shop, defaults={"silent_min_days": 1, "silent_factor": Decimal("1.5")})
    last = max(t for _u, t in buys)
    flagged_counts = []
    for hours in (0, 12, 24, 36, 48, 72, 120, 240):
        now = dt.datetime.fromtimestamp(last, dt.UTC) + dt.timedelta(hours=hours)
        want = silent_by_hand(buys, now, 1.5, 1)
        got = {Customer.objects.get(pk=k[0]).buyer_id.removeprefix("ub_")
               for k in churn_causes(shop=shop, now=now) if k[1] == ChurnReason.SILENT}
        assert got == want, hours
        flagged_counts.append(len(got))
    # the rule's boundary is crossed inside the sample: some, not all, then all repeat buyers
    repeat = {u for u in {u for u, _t in buys} if sum(1 for v, _t in buys if v == u) >= 2}
    assert 0 < min(flagged_counts[1:4]) and flagged_counts[-1] == len(repeat)
    assert len(set(flagged_counts)) > 2

    # the flag clears when its cause does: a new purchase
    now = dt.datetime.fromtimestamp(last, dt.UTC) + dt.timedelta(days=10)
    churn_scan(shop=shop, now=now)
    flag = ChurnFlag.objects.filter(shop=shop, reason=ChurnReason.SILENT, cleared_at__isnull=True).first()
    buyer = flag.customer.buyer_id
    orders_upsert(shop=shop, rows=orders_clean([{"order_id": "ub-new", "buyer_id": buyer,
                                                 "created_at": now.isoformat(), "paid_at": now.isoformat(),
                                                 "total_amount": "9.90", "paid_amount": "9.90"}], tz=shop.tz))
    raised, cleared = churn_scan(shop=shop, now=now + dt.timedelta(minutes=1))
    assert (raised, cleared) == (0, 1)
    flag.refresh_from_db()
    assert flag.cleared_at is not None
