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
