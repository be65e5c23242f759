"""Commission statements (WF-5) from credited orders: every yuan traced to an order and recomputed
here from the raw order rows; clawback of a locked month's refund in the next open month, once;
plans per group; role-aware pages and API."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from kefu.core.services import person_create
from kefu.metrics.models import OrderCredit
from kefu.people.close import month_close, month_lock
from kefu.people.ledger import deduction_add
from kefu.people.models import CommissionStatement, StatementLine
from kefu.people.pay import commission_plan_set, commission_recompute

from ..metrics.kit import send_messages, send_orders
from .conftest import at, login

pytestmark = pytest.mark.django_db
MAR, APR, MAY = dt.date(2026, 3, 1), dt.date(2026, 4, 1), dt.date(2026, 5, 1)
TIERS = [["0", "1"], ["1000", "2"], ["3000", "3"]]


def sell(shop, pid, buyer, oid, paid_at, amount, refund="0", refunded_at=None):
    """The agent `pid` answers the buyer, who then pays (credited by the §12 attribution)."""
    send_messages(shop, [
        {"message_id": f"{oid}-q", "buyer_id": buyer, "agent_id": pid, "sender": "buyer",
         "sent_at": paid_at - dt.timedelta(minutes=20)},
        {"message_id": f"{oid}-a", "buyer_id": buyer, "agent_id": pid, "sender": "agent",
         "sent_at": paid_at - dt.timedelta(minutes=19)},
    ])
    return order(shop, buyer, oid, paid_at, amount, refund, refunded_at)


def order(shop, buyer, oid, paid_at, amount, refund="0", refunded_at=None, closed_at=None):
    send_orders(shop, [{"order_id": oid, "buyer_id": buyer, "created_at": paid_at - dt.timedelta(minutes=2),
                        "paid_at": paid_at, "paid_amount": Decimal(amount), "refund_amount": Decimal(refund),
                        "refunded_at": refunded_at, "closed_at": closed_at}])
    return {"oid": oid, "paid": Decimal(amount), "refund": Decimal(refund)}


def marginal(sales: Decimal, tiers) -> Decimal:
    """The progressive commission as rate steps (an independent formulation), rounded half up."""
    from decimal import ROUND_HALF_UP

    total, prev = Decimal(0), Decimal(0)
    for t, r in tiers:
        t, r = Decimal(t), Decimal(r)
        if sales > t:
            total += (r - prev) * (sales - t) / 100
        prev = r
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture
def sales(shop, agent, colleague, manager):
    commission_plan_set(shop=shop, by=manager, tiers=TIERS)
    d = lambda day, h=10: at(shop, dt.date(2026, 3, day), h)  # noqa: E731
    return {
        "小美": [sell(shop, "店铺:小美", "b1", "o1", d(3), "800.00"),
                 sell(shop, "店铺:小美", "b2", "o2", d(9), "1500.00", refund="200.00", refunded_at=d(12)),
                 sell(shop, "店铺:小美", "b3", "o3", d(20), "900.00"),
                 sell(shop, "店铺:小美", "b4", "o4", d(31, 15), "333.33")],
        "阿强": [sell(shop, "店铺:阿强", "b5", "o5", d(5), "500.00")],
        # silent (no chat): nobody's commission; April's order is not March's
        "silent": [order(shop, "b6", "o6", d(6), "700.00")],
        "april": [sell(shop, "店铺:小美", "b7", "o7", at(shop, APR, 9), "100.00")],
    }


def test_statements_trace_to_orders_and_match_the_raw_rows(shop, agent, colleague, supervisor, sales):
    assert commission_recompute(shop=shop, month=MAR) == 2
    by_agent = {s.agent.name: s for s in CommissionStatement.objects.filter(shop=shop, month=MAR)}
    assert set(by_agent) == {"小美", "阿强"}
    for name in ("小美", "阿强"):
        rows = sales[name]
        net = sum(r["paid"] - r["refund"] for r in rows)
        st = by_agent[name]
        assert st.sales == sum(r["paid"] for r in rows) and st.refunds == sum(r["refund"] for r in rows)
        assert st.net_sales == net and st.orders == len(rows)
        assert st.commission == marginal(net, TIERS) == st.total
        assert sorted(st.lines.values_list("order_no", flat=True)) == sorted(r["oid"] for r in rows)
    # 小美: 3333.33 → 1000×1% + 2000×2% + 333.33×3% = 10 + 40 + 10.00 = 60.00
    assert by_agent["小美"].commission == Decimal("60.00")
    # An independent SQL route: the credited orders of March summed per agent from the credit rows.
    raw = {}
    for c in OrderCredit.objects.filter(shop=shop, agent__isnull=False, pay_day__gte=MAR, pay_day__lt=APR):
        raw[c.agent_id] = raw.get(c.agent_id, Decimal(0)) + (0 if c.taken_back else max(c.paid_amount - c.refund_amount, 0))
    assert raw == {s.agent_id: s.net_sales for s in by_agent.values()}
    # Recomputing writes the same thing once.
    commission_recompute(shop=shop, month=MAR)
    assert StatementLine.objects.filter(statement__month=MAR).count() == 5


def test_an_order_taken_back_counts_nothing(shop, agent, manager):
    commission_plan_set(shop=shop, by=manager, tiers=[["0", "10"]])
    paid = at(shop, dt.date(2026, 3, 3), 10)
    sell(shop, "店铺:小美", "b1", "o1", paid, "100.00", refund="100.00", refunded_at=paid + dt.timedelta(days=1))
    sell(shop, "店铺:小美", "b2", "o2", paid, "50.00")
    commission_recompute(shop=shop, month=MAR)
    st = CommissionStatement.objects.get(agent=agent, month=MAR)
    assert st.net_sales == Decimal("50.00") and st.commission == Decimal("5.00")
    assert st.lines.get(order_no="o1").taken_back


def test_a_refund_after_the_lock_is_clawed_back_in_the_next_month_once(shop, agent, colleague, supervisor, manager,
                                                                        sales):
    now = at(shop, dt.date(2026, 4, 2), 9)
    month_close(shop=shop, month=MAR, by=supervisor, now=now)
    month_lock(shop=shop, month=MAR, by=manager, now=now)
    march = CommissionStatement.objects.get(agent=agent, month=MAR)
    assert march.commission == Decimal("60.00")
    # o3 (900) is refunded 400 in April: March should have paid on 2933.33 → 10 + 38.67 = 48.67
    order(shop, "b3", "o3", at(shop, dt.date(2026, 3, 20), 10), "900.00", refund="400.00",
          refunded_at=at(shop, dt.date(2026, 4, 6), 10))
    commission_recompute(shop=shop, month=APR)
    commission_recompute(shop=shop, month=APR)  # again: still one clawback line
    april = CommissionStatement.objects.get(agent=agent, month=APR)
    claw = list(april.lines.filter(kind="clawback"))
    should = marginal(Decimal("3333.33") - 400, TIERS)
    assert should == Decimal("48.67")
    assert [(c.amount, c.origin_month, c.note) for c in claw] == [(should - Decimal("60.00"), MAR, "o3")]
    assert april.clawback == Decimal("-11.33") and april.total == april.commission - Decimal("11.33")
    assert april.commission == marginal(Decimal("100.00"), TIERS)  # April's own order o7
    march.refresh_from_db()
    assert march.commission == Decimal("60.00") and march.net_sales == Decimal("3333.33")  # locked: unchanged
    # April is closed and locked; another refund of a March order goes into May, only the new difference.
    month_close(shop=shop, month=APR, by=supervisor, now=at(shop, MAY, 9))
    month_lock(shop=shop, month=APR, by=manager, now=at(shop, MAY, 9))
    order(shop, "b1", "o1", at(shop, dt.date(2026, 3, 3), 10), "800.00", refund="100.00",
          refunded_at=at(shop, dt.date(2026, 5, 3), 10))
    commission_recompute(shop=shop, month=MAY)
    may = CommissionStatement.objects.get(agent=agent, month=MAY)
    want = marginal(Decimal("3333.33") - 500, TIERS) - Decimal("48.67")
    assert want == Decimal("-2.00")
    assert [(c.amount, c.origin_month) for c in may.lines.filter(kind="clawback")] == [(want, MAR)]
    # The colleague's March did not change: no clawback for him.
    assert not StatementLine.objects.filter(statement__agent=colleague, kind="clawback").exists()


def test_group_plan_points_factor_and_floor(shop, agent, colleague, supervisor, manager):
    commission_plan_set(shop=shop, by=manager, tiers=[["0", "1"]], floor="30")
    commission_plan_set(shop=shop, by=manager, group="presales", mode="whole", tiers=[["0", "1"], ["1000", "5"]],
                        points_tiers=[["0", "0.5"], ["9.5", "1"]])
    aftersales = person_create(shop=shop, name="售后小王", username="w", password="pass-word-1", roles=["agent"],
                               group="aftersales", platform_ids=["店铺:小王"])
    d = at(shop, dt.date(2026, 3, 4), 10)
    sell(shop, "店铺:小美", "b1", "o1", d, "2000.00")
    sell(shop, "店铺:阿强", "b2", "o2", d, "2000.00")
    sell(shop, "店铺:小王", "b3", "o3", d, "2000.00")
    deduction_add(shop=shop, agent=colleague, rule_code="unfinished_work", points="1", day=dt.date(2026, 3, 5),
                  reason="日报未交", by=supervisor)
    commission_recompute(shop=shop, month=MAR)
    got = {s.agent_id: s for s in CommissionStatement.objects.filter(month=MAR)}
    assert got[agent.id].commission == Decimal("100.00")  # whole: 2000 × 5 %
    assert got[colleague.id].points_left == Decimal(9) and got[colleague.id].commission == Decimal("50.00")  # × 0.5
    assert got[aftersales.id].commission == Decimal("30.00")  # the shop plan: 20 < floor 30


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_api_and_pages_are_role_aware(shop, agent, colleague, supervisor, manager, sales,
                                      django_assert_max_num_queries):
    sup, me = login(supervisor), login(agent)
    assert post(sup, "/api/v1/commission-plans?shop=s1", {"tiers": [[0, 1]]}).status_code == 403
    r = post(login(manager), "/api/v1/commission-plans?shop=s1", {"tiers": [[1000, 1], [0, 2]]})
    assert r.status_code == 400 and r.json()["field"] == "tiers"
    r = post(login(manager), "/api/v1/commission-plans?shop=s1", {"tiers": [[0, "x"]]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("tiers")
    assert post(sup, "/api/v1/commissions/recompute?shop=s1", {"month": "2026-03"}).json() == {"count": 2}
    assert post(me, "/api/v1/commissions/recompute?shop=s1", {"month": "2026-03"}).status_code == 403
    assert sup.get("/api/v1/people/months?shop=s1").json() == []  # computed, but neither closed nor locked
    all_rows = sup.get("/api/v1/commissions?shop=s1&month=2026-03").json()
    assert {r["agent"] for r in all_rows} == {"小美", "阿强"}
    mine = me.get("/api/v1/commissions?shop=s1&month=2026-03").json()
    assert [r["agent"] for r in mine] == ["小美"] and mine[0]["total"] == "60.00"
    theirs = next(r["id"] for r in all_rows if r["agent"] == "阿强")
    assert me.get(f"/api/v1/commissions/{theirs}?shop=s1").status_code == 404
    assert me.get(f"/people/pay/statements/{theirs}/").status_code == 404
    detail = me.get(f"/api/v1/commissions/{mine[0]['id']}?shop=s1").json()
    assert sorted(ln["order_no"] for ln in detail["lines"]) == ["o1", "o2", "o3", "o4"]
    page = me.get(f"/people/pay/statements/{mine[0]['id']}/").content.decode()
    # Order numbers in their cells: a random token on the page (CSRF) may contain "o5".
    assert "¥60.00" in page and "<td>o4" in page and "<td>o5" not in page
    mine_page = me.get("/people/?month=2026-03").content.decode()
    assert 'id="my-commission"' in mine_page and "¥60.00" in mine_page
    # The agent's /people/pay/ goes to their own statement; the supervisor sees everyone's.
    assert me.get("/people/pay/?month=2026-03").url.endswith(f"/people/pay/statements/{mine[0]['id']}/")
    for i in range(4):  # more agents must not mean more queries
        person_create(shop=shop, name=f"客服{i}", username=f"k{i}", password="pass-word-1", roles=["agent"])
    commission_recompute(shop=shop, month=MAR)
    with django_assert_max_num_queries(25):
        html = sup.get("/people/pay/?month=2026-03").content.decode()
    assert "¥60.00" in html and "阿强" in html and "客服3" in html
    x = sup.get("/people/pay/?month=2026-03&export=xlsx")
    ws = load_workbook(__import__("io").BytesIO(x.content)).active
    head = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "小美")
    assert row[head.index("应发")] == 60 and isinstance(row[head.index("销售额")], int | float)
    # A locked month refuses a recompute.
    now = at(shop, dt.date(2026, 4, 2), 9)
    month_close(shop=shop, month=MAR, by=supervisor, now=now)
    month_lock(shop=shop, month=MAR, by=manager, now=now)
    r = post(sup, "/api/v1/commissions/recompute?shop=s1", {"month": "2026-03"})
    assert r.status_code == 409 and r.json()["code"] == "month_locked"


def test_close_right_after_an_import_waits_for_the_facts_queue(shop, agent, supervisor, manager, settings,
                                                               monkeypatch):
    """A month closed before the metrics worker drained an import's marks would pay without those
    orders: the close drains the shop's queue first, and refuses (nothing closed) if it cannot."""
    from kefu.metrics.models import DirtyBuyer
    from kefu.people.models import MonthClose

    commission_plan_set(shop=shop, by=manager, tiers=TIERS)
    settings.KEFU_FACTS_INLINE = False  # production: the import marks, the worker derives later
    sell(shop, "店铺:小美", "b1", "o1", at(shop, dt.date(2026, 3, 30), 10), "800.00")
    assert DirtyBuyer.objects.filter(shop=shop).exists() and not OrderCredit.objects.filter(shop=shop).exists()
    import kefu.metrics.queue as Q

    monkeypatch.setattr(Q, "facts_drain", lambda **kw: 0)  # a worker that cannot keep up
    from kefu.core.errors import KefuError

    with pytest.raises(KefuError) as e:
        month_close(shop=shop, month=MAR, by=supervisor, now=at(shop, APR, 9))
    assert getattr(e.value, "code", None) == "invalid_state" and "behind" in str(e.value)
    assert not MonthClose.objects.filter(shop=shop, month=MAR, state="closed").exists()
    monkeypatch.undo()
    month_close(shop=shop, month=MAR, by=supervisor, now=at(shop, APR, 9))
    assert not DirtyBuyer.objects.filter(shop=shop).exists()
    s = CommissionStatement.objects.get(shop=shop, month=MAR, agent=agent)
    assert s.net_sales == Decimal("800.00") and list(s.lines.values_list("order_no", flat=True)) == ["o1"]
