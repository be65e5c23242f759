"""催付 success rate and recovered sales per agent, checked against a recompute from raw rows."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from kefu.core.timeutil import shop_day
from kefu.followups.models import FollowUp
from kefu.followups.selectors import payment_reminder_figures
from kefu.followups.services import (
    followup_act,
    followups_close_for_orders,
    payment_reminders_create,
)
from kefu.orders.models import Order

from .conftest import login, make_order, put_on_shift

pytestmark = pytest.mark.django_db


def recompute(shop):
    """From raw rows: every closed (won/lost) payment reminder, its owner and its order's paid amount."""
    out = defaultdict(lambda: {"closed": 0, "won": 0, "recovered": Decimal("0.00")})
    for fu in FollowUp.objects.filter(shop=shop, kind="payment_reminder"):
        if fu.state not in ("closed_won", "closed_lost"):
            continue
        row = out[fu.owner_id]
        row["closed"] += 1
        if fu.state == "closed_won":
            row["won"] += 1
            row["recovered"] += Order.objects.get(pk=fu.order_id).paid_amount
    return dict(out)


def test_figures_agree_with_raw_rows(shop, customer, agent_person, colleague, supervisor):
    now = timezone.now()
    for a in (agent_person, colleague):
        put_on_shift(shop, a, now - dt.timedelta(hours=1))
    for i in range(7):
        make_order(shop, customer, f"T{i}", minutes_ago=40 + i, now=now, total="100.00")
    created = payment_reminders_create(shop=shop, now=now)
    assert len(created) == 7
    # T0, T1, T2 paid; T3 closed; T4 cancelled by hand; T5 lost by hand; T6 still open.
    for i, amount in ((0, "95.00"), (1, "100.00"), (2, "88.50")):
        Order.objects.filter(order_id=f"T{i}").update(status="paid", paid_at=now, paid_amount=Decimal(amount))
    Order.objects.filter(order_id="T3").update(status="closed", closed_at=now)
    assert followups_close_for_orders(shop=shop, order_ids=["T0", "T1", "T2", "T3", "T6"]) == 4
    by_order = {f.order.order_id: f for f in FollowUp.objects.select_related("order")}
    followup_act(shop=shop, followup_id=by_order["T4"].pk, action="cancel", actor=supervisor)
    followup_act(shop=shop, followup_id=by_order["T5"].pk, action="lose", actor=supervisor, reason="cannot_pay")

    today = shop_day(now, shop.tz)
    rows = payment_reminder_figures(shop=shop, date_from=today, date_to=today)
    raw = recompute(shop)
    assert {r.agent_id: {"closed": r.closed, "won": r.won, "recovered": r.recovered_sales} for r in rows} == raw
    assert sum(r.closed for r in rows) == 5 and sum(r.won for r in rows) == 3
    assert sum(r.recovered_sales for r in rows) == Decimal("283.50")
    for r in rows:
        assert r.success_rate == round(r.won / r.closed, 4) and r.lost == r.closed - r.won
    # Other days hold nothing; an agent sees only their own row.
    assert payment_reminder_figures(shop=shop, date_from=today - dt.timedelta(days=3),
                                    date_to=today - dt.timedelta(days=1)) == []
    mine = payment_reminder_figures(shop=shop, date_from=today, date_to=today, member=agent_person)
    assert [r.agent_id for r in mine] == ([agent_person.pk] if agent_person.pk in raw else [])

    api = login(supervisor).get(f"/api/v1/followups/figures?shop=s1&from={today}&to={today}").json()
    assert {r["agent_id"]: (r["won"], Decimal(r["recovered_sales"])) for r in api} == {
        k: (v["won"], v["recovered"]) for k, v in raw.items()}
    assert login(supervisor).get("/api/v1/followups/figures?shop=s1&from=2026-11-05&to=2026-11-01").status_code == 400


def test_kpi_report_carries_the_same_figures_by_agent_group_and_shop(shop, customer, agent_person, colleague,
                                                                      supervisor):
    """The KPI report (dashboard, API, CLI, exports) adds 催付 figures from summed counts, never
    averaged rates: checked against the raw-row recompute for agents, the group and the shop."""
    from kefu.metrics.kpi import kpi_report

    now = timezone.now()
    for a in (agent_person, colleague):
        put_on_shift(shop, a, now - dt.timedelta(hours=1))
    for i in range(5):
        make_order(shop, customer, f"K{i}", minutes_ago=40 + i, now=now, total="50.00")
    payment_reminders_create(shop=shop, now=now)
    Order.objects.filter(order_id__in=["K0", "K1"]).update(status="paid", paid_at=now, paid_amount=Decimal("49.90"))
    Order.objects.filter(order_id="K2").update(status="closed", closed_at=now)
    followups_close_for_orders(shop=shop, order_ids=["K0", "K1", "K2"])
    raw = recompute(shop)
    today = shop_day(now, shop.tz)

    by_agent = {r["agent_id"]: r for r in kpi_report(shop=shop, date_from=today, date_to=today)["agents"]}
    for agent_id, want in raw.items():
        row = by_agent[agent_id]
        assert row["payment_reminders"] == want["closed"]
        assert row["payment_reminders_won"] == want["won"]
        assert row["recovered_sales"] == str(want["recovered"])
        assert row["payment_reminder_success_rate"] == round(want["won"] / want["closed"], 6)
    closed = sum(v["closed"] for v in raw.values())
    won = sum(v["won"] for v in raw.values())
    totals = kpi_report(shop=shop, date_from=today, date_to=today, by="shop")["shop_totals"]
    assert (totals["payment_reminders"], totals["payment_reminders_won"]) == (closed, won) == (3, 2)
    assert totals["payment_reminder_success_rate"] == round(won / closed, 6)
    assert totals["recovered_sales"] == "99.80"
    group = kpi_report(shop=shop, date_from=today, date_to=today, by="group")["groups"]
    assert sum(g["payment_reminders"] for g in group) == closed


def test_reminder_minutes_are_a_shop_setting(shop, customer, agent_person):
    from kefu.core.services import shop_settings_update

    now = timezone.now()
    put_on_shift(shop, agent_person, now - dt.timedelta(hours=1))
    make_order(shop, customer, "M1", minutes_ago=12, now=now)
    assert payment_reminders_create(shop=shop, now=now) == []  # default 30 minutes
    shop_settings_update(shop=shop, payment_reminder_minutes=10)
    shop.refresh_from_db()
    assert [f.order.order_id for f in payment_reminders_create(shop=shop, now=now)] == ["M1"]


def test_reminder_closes_at_the_payment_not_at_the_late_order_sync(shop, customer, agent_person):
    now = timezone.now()
    put_on_shift(shop, agent_person, now - dt.timedelta(hours=2))
    make_order(shop, customer, "L1", minutes_ago=90, now=now)
    [fu] = payment_reminders_create(shop=shop, now=now - dt.timedelta(minutes=55))
    paid = now - dt.timedelta(minutes=20)
    Order.objects.filter(order_id="L1").update(status="paid", paid_at=paid, paid_amount=Decimal("100.00"))
    followups_close_for_orders(shop=shop, order_ids=["L1"], now=now)
    fu.refresh_from_db()
    assert fu.state == "closed_won" and fu.closed_at == paid
    # paid before the task even existed (the sync was late): closed when it was created
    make_order(shop, customer, "L2", minutes_ago=90, now=now)
    [fu2] = payment_reminders_create(shop=shop, now=now - dt.timedelta(minutes=10))
    Order.objects.filter(order_id="L2").update(status="paid", paid_at=now - dt.timedelta(minutes=30),
                                               paid_amount=Decimal("100.00"))
    followups_close_for_orders(shop=shop, order_ids=["L2"], now=now)
    fu2.refresh_from_db()
    assert fu2.closed_at == fu2.created_at
