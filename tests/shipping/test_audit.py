"""The daily shipping-audit rule: late/hard-limit boundaries, stock arithmetic, after-care, idempotence."""

import datetime as dt
import json
from collections import Counter

import pytest

from kefu.catalog.models import Sku
from kefu.orders.models import Order, OrderItem
from kefu.shipping.models import ShippingIssue, ShippingIssueEvent
from kefu.shipping.services import issues_close_for_orders, settings_update, shipping_audit_run

from .conftest import NOW, SH, order, sku

H = dt.timedelta(hours=1)
S = dt.timedelta(seconds=1)


def kinds(shop) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for oid, kind in ShippingIssue.objects.filter(shop=shop).values_list("order__order_id", "kind"):
        out.setdefault(kind, set()).add(oid)
    return out


@pytest.mark.django_db
def test_late_and_hard_limit_boundaries(shop, customer):
    order(shop, customer, "exactly24", paid_at=NOW - 24 * H)
    order(shop, customer, "past24", paid_at=NOW - 24 * H - S)
    order(shop, customer, "exactly48", paid_at=NOW - 48 * H)
    order(shop, customer, "past48", paid_at=NOW - 48 * H - S)
    order(shop, customer, "fresh", paid_at=NOW - 23 * H)
    order(shop, customer, "shipped", paid_at=NOW - 30 * H, shipped_at=NOW - 2 * H)
    order(shop, customer, "closed", paid_at=NOW - 30 * H, status="closed", closed_at=NOW - 20 * H)
    result = shipping_audit_run(shop=shop, now=NOW)
    assert kinds(shop) == {"late": {"past24", "exactly48"}, "overdue_hard": {"past48"}}
    assert result.created == Counter({"late": 2, "overdue_hard": 1})
    late = ShippingIssue.objects.get(order__order_id="past24")
    assert late.due_at == NOW - S and late.detected_day == dt.date(2026, 11, 20)
    hard = ShippingIssue.objects.get(order__order_id="past48")
    assert hard.due_at == NOW - S and hard.detail["hours"] == 48.0


@pytest.mark.django_db
def test_across_midnight_in_shop_time(shop, customer):
    # Paid at 23:30 shop time on the 18th; at 23:30:01 on the 19th it is late, and that audit's day is the
    # 19th in Shanghai although it is still the 19th 15:30 UTC.
    paid = dt.datetime(2026, 11, 18, 23, 30, tzinfo=SH)
    order(shop, customer, "night", paid_at=paid)
    assert shipping_audit_run(shop=shop, now=paid + 24 * H).created_total == 0
    r = shipping_audit_run(shop=shop, now=paid + 24 * H + S)
    assert r.day == dt.date(2026, 11, 19) and r.created == Counter({"late": 1})
    # Past midnight the next audit (day 20) escalates it only once it passes 48 h.
    r = shipping_audit_run(shop=shop, now=dt.datetime(2026, 11, 20, 0, 30, tzinfo=SH))
    assert r.day == dt.date(2026, 11, 20) and r.created_total == 0
    r = shipping_audit_run(shop=shop, now=paid + 48 * H + S)
    assert r.created == Counter({"overdue_hard": 1}) and r.closed == Counter({"escalated": 1})
    late = ShippingIssue.objects.get(kind="late")
    assert late.state == "resolved" and late.resolution == "escalated" and late.resolved_by is None


@pytest.mark.django_db
def test_settings_change_the_limits(shop, customer, supervisor):
    settings_update(shop=shop, actor=supervisor, promise_hours=12, hard_limit_hours=36)
    order(shop, customer, "o13", paid_at=NOW - 13 * H)
    order(shop, customer, "o37", paid_at=NOW - 37 * H)
    shipping_audit_run(shop=shop, now=NOW)
    assert kinds(shop) == {"late": {"o13"}, "overdue_hard": {"o37"}}


@pytest.mark.django_db
def test_run_twice_gives_the_same_rows(shop, customer):
    sku(shop, "A", stock=1)
    order(shop, customer, "o1", paid_at=NOW - 30 * H, items=[("A", 1)])
    order(shop, customer, "o2", paid_at=NOW - 50 * H, items=[("A", 1)])
    shipping_audit_run(shop=shop, now=NOW)
    first = sorted(ShippingIssue.objects.values_list("id", "order_id", "kind", "state"))
    events = ShippingIssueEvent.objects.count()
    again = shipping_audit_run(shop=shop, now=NOW + H)
    assert again.created_total == 0 and not again.closed
    assert sorted(ShippingIssue.objects.values_list("id", "order_id", "kind", "state")) == first
    assert ShippingIssueEvent.objects.count() == events
    assert len(first) == 3  # o1 late, o2 overdue_hard, o1 oversold (o2 paid first takes the one unit)


def _expected_stock_issues(stock: dict[str, int], orders: list[tuple[str, dt.datetime, list]]) -> dict:
    """The same rule by a plain loop: hand out stock in payment order."""
    left = dict(stock)
    out: dict[str, set[str]] = {"out_of_stock": set(), "oversold": set()}
    for oid, _paid, lines in sorted(orders, key=lambda o: o[1]):
        for code, qty in lines:
            if code not in stock:
                continue
            if stock[code] <= 0:
                out["out_of_stock"].add(oid)
                continue
            left[code] = left[code] - qty
            if left[code] < 0:
                out["oversold"].add(oid)
    return {k: v for k, v in out.items() if v}


@pytest.mark.django_db
def test_oversold_arithmetic(shop, customer):
    stock = {"A": 5, "B": 0, "C": 3, "D": 10}
    for code, n in stock.items():
        sku(shop, code, stock=n)
    sku(shop, "U")  # stock not tracked: never an issue
    orders = []
    for i, lines in enumerate([[("A", 2)], [("A", 2), ("C", 1)], [("A", 2)], [("B", 1)], [("C", 3)],
                               [("D", 4), ("U", 9)], [("A", 1), ("D", 7)], [("C", 1)]]):
        paid = NOW - dt.timedelta(hours=10 - i)
        order(shop, customer, f"o{i}", paid_at=paid, items=lines)
        orders.append((f"o{i}", paid, lines))
    # Shipped and closed orders hold no stock.
    order(shop, customer, "done", paid_at=NOW - 11 * H, shipped_at=NOW - 9 * H, items=[("A", 100)])
    order(shop, customer, "gone", paid_at=NOW - 11 * H, status="closed", closed_at=NOW - 9 * H, items=[("C", 100)])
    shipping_audit_run(shop=shop, now=NOW)
    expected = _expected_stock_issues(stock, orders)
    assert kinds(shop) == expected
    assert expected == {"out_of_stock": {"o3"}, "oversold": {"o2", "o4", "o6", "o7"}}
    o6 = ShippingIssue.objects.get(order__order_id="o6", kind="oversold")
    assert o6.sku_code == "A" and o6.detail == {"sku": "A", "stock": 5, "pending": 7, "quantity": 1, "short": 2}


@pytest.mark.django_db
def test_restock_and_shipping_close_issues(shop, customer):
    sku(shop, "A", stock=1)
    order(shop, customer, "o1", paid_at=NOW - 3 * H, items=[("A", 1)])
    o2 = order(shop, customer, "o2", paid_at=NOW - 30 * H + H, items=[("A", 1)])
    shipping_audit_run(shop=shop, now=NOW)
    assert kinds(shop) == {"oversold": {"o1"}, "late": {"o2"}}  # o2 paid first took the one unit
    Sku.objects.filter(code="A").update(stock=2)
    r = shipping_audit_run(shop=shop, now=NOW + H)
    assert r.closed["auto_restocked"] == 1
    assert ShippingIssue.objects.get(order__order_id="o1").resolution == "auto_restocked"
    # The warehouse ships o2: the next scan closes its late issue and records who (the system) and when.
    shipping_audit_run(shop=shop, now=NOW + 2 * H)
    late = ShippingIssue.objects.get(order=o2, kind="late")
    Order.objects.filter(pk=o2.pk).update(shipped_at=NOW + 3 * H, status="shipped")
    assert issues_close_for_orders(shop=shop, now=NOW + 4 * H) == 1
    late.refresh_from_db()
    assert (late.state, late.resolution, late.resolved_at) == ("resolved", "auto_shipped", NOW + 4 * H)
    ev = late.events.last()
    assert ev.action == "auto_shipped" and ev.actor is None and ev.created_at == NOW + 4 * H


@pytest.mark.django_db
def test_after_care_for_items_below_the_category_average(shop, customer):
    sku(shop, "LOW", rating="4.50", category="枕头")
    sku(shop, "HIGH", rating="4.90", category="枕头")  # average 4.70
    sku(shop, "AVG", rating="4.70", category="枕头")
    sku(shop, "ALONE", rating="3.00", category="被子")  # the only one in its category: at the average
    order(shop, customer, "low", paid_at=NOW - 40 * H, shipped_at=NOW - 20 * H, items=[("LOW", 1)])
    order(shop, customer, "mixed", paid_at=NOW - 40 * H, shipped_at=NOW - 20 * H, items=[("HIGH", 1), ("LOW", 2)])
    order(shop, customer, "avg", paid_at=NOW - 40 * H, shipped_at=NOW - 20 * H, items=[("AVG", 1)])
    order(shop, customer, "alone", paid_at=NOW - 40 * H, shipped_at=NOW - 20 * H, items=[("ALONE", 1)])
    order(shop, customer, "unshipped", paid_at=NOW - 2 * H, items=[("LOW", 1)])
    order(shop, customer, "old", paid_at=NOW - 30 * 24 * H, shipped_at=NOW - 20 * 24 * H, items=[("LOW", 1)])
    shipping_audit_run(shop=shop, now=NOW)
    assert kinds(shop) == {"after_care": {"low", "mixed"}}
    issue = ShippingIssue.objects.get(order__order_id="mixed")
    assert issue.sku_code == "LOW" and issue.detail == {"sku": "LOW", "rating": "4.50", "category_average": "4.70"}


@pytest.mark.django_db
def test_auto_delist_when_stock_is_gone(shop, customer, supervisor):
    settings_update(shop=shop, actor=supervisor, auto_delist=True)
    sku(shop, "A", stock=1)
    sku(shop, "B", stock=3)
    order(shop, customer, "o1", paid_at=NOW - H, items=[("A", 1), ("B", 1)])
    r = shipping_audit_run(shop=shop, now=NOW)
    assert r.delisted == ["A"]
    assert list(Sku.objects.filter(listed=False).values_list("code", flat=True)) == ["A"]
    assert Sku.objects.get(code="A").events.get().action == "delist"


@pytest.mark.django_db
def test_items_of_other_shops_do_not_count(shop, other_shop, customer):
    from kefu.customers.models import Customer

    sku(shop, "A", stock=1)
    theirs = Customer.objects.create(shop=other_shop, buyer_id="x")
    order(other_shop, theirs, "t1", paid_at=NOW - 2 * H, items=[("A", 5)])
    order(shop, customer, "o1", paid_at=NOW - H, items=[("A", 1)])
    shipping_audit_run(shop=shop, now=NOW)
    assert not ShippingIssue.objects.filter(shop=shop).exists()
    assert OrderItem.objects.count() == 2


@pytest.mark.django_db
def test_order_sync_that_ships_the_order_closes_its_late_issue_at_once(shop, customer, api):
    """The order ingestion closes late rows in the same transaction, no scan needed."""
    sku(shop, "A", stock=10)
    o = order(shop, customer, "o9", paid_at=NOW - 30 * H, items=[("A", 1)])
    shipping_audit_run(shop=shop, now=NOW)
    assert ShippingIssue.objects.get(order=o).state == "open"
    r = api.post("/api/v1/orders", json.dumps({
        "order_id": "o9", "buyer_id": "buyer1", "created_at": (NOW - 30 * H - dt.timedelta(minutes=5)).isoformat(),
        "paid_at": (NOW - 30 * H).isoformat(), "shipped_at": (NOW + H).isoformat(), "status": "shipped",
        "total_amount": "100.00", "paid_amount": "100.00"}), content_type="application/json")
    assert r.status_code == 200, r.content
    issue = ShippingIssue.objects.get(order=o)
    assert (issue.state, issue.resolution) == ("resolved", "auto_shipped")
