"""The import's write path (issue 11, item 2): a staged batch and set-based SQL (COPY on
PostgreSQL, executemany on SQLite) — the same stored rows, counts and side effects as the batched
upsert of the API (`orders_upsert`), which imports took before.

- On both databases, a file and a second file that updates it are imported, and what is stored
  (every column of every order, its buyer, the counts) is compared with a plain reading of the
  CSV (csv module, Decimal, strptime): the same oracle on both databases, so both store the same.
- On both databases the staged path and the batched upsert path import the same files into two
  shops and must agree on everything, including the buyers marked and the leads closed.
"""

import csv
import datetime as dt
from decimal import Decimal

import pytest

from kefu.core.services import shop_create
from kefu.customers.models import Customer
from kefu.importers import checking, services
from kefu.metrics.audit import rollup_differences
from kefu.orders.models import Order
from kefu.orders.services import ORDER_COLUMNS, orders_upsert
from tests.importers.test_bad_input import write_csv

pytestmark = pytest.mark.django_db
HEAD = ["order_id", "buyer_id", "buyer_nick", "created_at", "paid_at", "shipped_at", "total_amount", "paid_amount",
        "refund_amount", "title", "tracking_no"]


def first_file(path, n=260):
    rows = []
    for i in range(n):
        paid = i % 3 != 0
        rows.append([f"T{i:04d}", f"b{i % 37}", f"买家{i % 37}", f"2026-10-{1 + i % 28:02d} 10:{i % 60:02d}:00",
                     f"2026-10-{1 + i % 28:02d} 11:00:00" if paid else "", "", f"{10 + i % 90}.50",
                     f"{10 + i % 90}.50" if paid else "0", "0", f"宝贝 {i}", ""])
    rows.append(list(rows[5]))  # an id repeated in the file: the last line counts
    rows[-1][9] = "改过的标题"
    rows.insert(100, ["S0001", "b_solo", "独", "2026-10-02 10:00:00", "", "", "5.00", "0", "0", "独单", ""])
    return write_csv(path, HEAD, rows)


def second_file(path):
    """Updates: T0000-T0049 paid and shipped now, T0050-T0059 and S0001 (b_solo's only order) change
    buyer, T0060-T0099 unchanged, T5000-T5019 new."""
    with open(first_file(path.with_suffix(".first.csv")), encoding="utf-8") as f:
        old = {r[0]: r for r in list(csv.reader(f))[1:]}
    rows = []
    for i in range(100):
        r = list(old[f"T{i:04d}"])
        if i < 50:
            r[4], r[5], r[7], r[10] = "2026-10-29 09:00:00", "2026-10-30 09:00:00", r[6], f"SF{i:08d}"
        elif i < 60:
            r[1], r[2] = "b_new", "新买家"
        rows.append(r)
    rows.append(list(old["S0001"]))
    rows[-1][1:3] = ["b_new", "新买家"]
    rows += [[f"T{5000 + i}", "b1", "买家1", "2026-11-01 08:00:00", "", "", "1.00", "0", "0", "", ""]
             for i in range(20)]
    return write_csv(path, HEAD, rows)


def oracle(paths, tz) -> dict:
    """order id → (buyer id, every column) from the CSV files read plainly, the last line winning."""
    def moment(text):
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz).astimezone(dt.UTC) if text else None

    out = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for r in csv.DictReader(f):
                paid, refund = Decimal(r["paid_amount"]), Decimal(r["refund_amount"])
                times = {k: moment(r.get(k, "")) for k in
                         ("created_at", "paid_at", "printed_at", "shipped_at", "signed_at", "completed_at",
                          "closed_at", "refunded_at")}
                status = "shipped" if times["shipped_at"] else ("paid" if times["paid_at"] else "unpaid")
                out[r["order_id"]] = (r["buyer_id"], {
                    **times, "status": status, "total_amount": Decimal(r["total_amount"]), "paid_amount": paid,
                    "refund_amount": refund, "title": r["title"], "courier": "", "tracking_no": r["tracking_no"],
                    "address": "", "buyer_note": "", "seller_remark": ""})
    return out


def stored(shop) -> dict:
    buyer = dict(Customer.objects.filter(shop=shop).values_list("id", "buyer_id"))
    return {o.order_id: (buyer[o.customer_id], {f: getattr(o, f) for f in ORDER_COLUMNS})
            for o in Order.objects.filter(shop=shop)}


def counts(got) -> tuple:
    return got.result.created, got.result.updated, got.result.duplicates


def test_both_databases_store_what_the_files_say(shop, tmp_path, monkeypatch):
    monkeypatch.setattr(checking, "BATCH", 100)  # several write transactions
    one, two = first_file(tmp_path / "one.csv"), second_file(tmp_path / "two.csv")
    got = services.file_import(shop=shop, kind="orders", path=one)
    assert counts(got) == (261, 1, 0)  # T0005 twice, in two batches: created, then its title updated
    assert stored(shop) == oracle([one], shop.tz)
    got = services.file_import(shop=shop, kind="orders", path=two)
    # 50 paid+shipped and 11 new buyers updated, 40 unchanged, 20 new
    assert counts(got) == (20, 61, 40)
    assert stored(shop) == oracle([one, two], shop.tz)
    assert Customer.objects.filter(shop=shop, buyer_id="b_new").get().nick == "新买家"
    assert rollup_differences(shop=shop) == []


def test_staged_load_and_batched_upsert_agree(shop, tmp_path, monkeypatch):
    from kefu.core.services import person_create
    from kefu.followups.models import FollowUp
    from kefu.followups.services import followup_create

    monkeypatch.setattr(checking, "BATCH", 100)
    one, two = first_file(tmp_path / "one.csv"), second_file(tmp_path / "two.csv")
    other = shop_create(code="s9", name="对照店")
    marked, first = {}, {}

    def recording(real):
        def mark(*, shop, customer_ids, **kw):  # the buyers each batch marks for the rebuild
            buyers = Customer.objects.filter(id__in=customer_ids).values_list("buyer_id", flat=True)
            marked.setdefault(shop.code, set()).update(buyers)
            return real(shop=shop, customer_ids=customer_ids, **kw)
        return mark

    from kefu.orders import bulk
    from kefu.orders import services as order_services

    monkeypatch.setattr(bulk, "marks_inserted", recording(bulk.marks_inserted))  # after the marks it inserted
    monkeypatch.setattr(order_services, "buyers_mark", recording(order_services.buyers_mark))
    results = {}
    for s, load in ((shop, services.orders_load),
                    (other, lambda *, shop, rows: orders_upsert(shop=shop, rows=rows, events=False))):
        monkeypatch.setattr(services, "orders_load", load)
        results[s.code] = [counts(services.file_import(shop=s, kind="orders", path=one))]
        first[s.code] = marked.pop(s.code)  # the second file's marks apart
        # a lead of b_new (a buyer who has not ordered yet) closes won when b_new's order comes
        new = Customer.objects.create(shop=s, buyer_id="b_new", nick="")
        agent = person_create(shop=s, name="小美", username=f"xm-{s.code}", password="pass-word-1", roles=["agent"])
        followup_create(shop=s, kind="lead", customer=new, owner=agent, actor=None, reason="size_unsure",
                        note="问了尺码", now=dt.datetime(2026, 9, 30, tzinfo=dt.UTC))
        results[s.code].append(counts(services.file_import(shop=s, kind="orders", path=two)))
    assert results["s1"] == results["s9"] == [(261, 1, 0), (20, 61, 40)]
    assert stored(shop) == stored(other)
    assert first["s1"] == first["s9"] and marked["s1"] == marked["s9"]
    # the second file's: T0050's new and old buyer, a new order's buyer, and b_solo, whose only order went to b_new
    assert {"b_new", "b5", "b1", "b_solo"} <= marked["s1"]
    assert ([f.state for f in FollowUp.objects.filter(shop=shop)]
            == [f.state for f in FollowUp.objects.filter(shop=other)] == ["closed_won"])
    assert rollup_differences(shop=shop) == [] and rollup_differences(shop=other) == []


# --- the validating pass keeps little (item 2: bounded memory) ---------------------------------------


def test_item_lines_apart_are_grouped_in_memory_with_the_same_result(shop, tmp_path):
    """JD lines of one order are next to each other in real exports: read as they come. Lines of an
    order further apart (a sorted or merged file) are found by the repeated id and grouped in
    memory: the orders stored are the same as from the file in its own order."""
    from tests.importers.test_formats import FIX, items_of
    from tests.importers.test_formats import stored as stored_orders

    text = (FIX / "jd_orders.csv").read_bytes().decode("gb18030")
    head, *lines = text.splitlines()
    apart = tmp_path / "jd_apart.csv"
    apart.write_bytes("\n".join([head, *lines[1:], lines[0]]).encode("gb18030") + b"\n")  # 231105001's first line last
    got = services.file_import(shop=shop, kind="orders", path=FIX / "jd_orders.csv", fmt="jd")
    assert not any("grouped in memory" in w for w in got.warnings)
    expected = {oid: (o.paid_amount, o.status, items_of(o)) for oid, o in stored_orders(shop).items()}
    other = shop_create(code="s9", name="对照店")
    got = services.file_import(shop=other, kind="orders", path=apart, fmt="jd")
    assert got.result.created == 6 and any("not next to each other (by 订单号)" in w for w in got.warnings)
    assert {oid: (o.paid_amount, o.status, items_of(o)) for oid, o in stored_orders(other).items()} == expected
    assert len(expected["231105001"][2]) == 2


def test_bad_rows_are_all_counted_and_the_first_thousand_listed(shop, tmp_path):
    from kefu.core.errors import ValidationFailed

    rows = [[f"T{i}", "b1", "" if i % 2 else "not a date", "", "1", "1", "0", "", ""] for i in range(2600)]
    path = write_csv(tmp_path / "bad.csv", HEAD[:1] + ["buyer_id", "created_at", "paid_at", "total_amount",
                                                       "paid_amount", "refund_amount", "title", "tracking_no"], rows)
    with pytest.raises(ValidationFailed) as exc:
        services.file_import(shop=shop, kind="orders", path=path)
    assert exc.value.total == 2600 and len(exc.value.errors) == checking.MAX_ERRORS
    assert exc.value.errors[:2] == [{"row": 2, "field": "created_at", "message": exc.value.errors[0]["message"]},
                                    {"row": 3, "field": "created_at", "message": "required"}]
    assert not Order.objects.exists()
