"""Points recomputed by a plain loop over the raw rows (clock events, leave, complaint verdicts) and
compared with the ledger (hypothesis). The loop is written from seed 002 §五, not from the code."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.complaints.services import complaint_create, complaint_verdict
from kefu.core.services import person_create, shop_create
from kefu.customers.models import Customer
from kefu.people.attendance import (
    attendance_clock,
    attendance_recompute,
    leave_request,
    leave_transition,
)
from kefu.people.models import LedgerMonth
from kefu.workforce.services import roster_day_set, shift_create

from .conftest import MONTH, at

_counter = itertools.count()
DAYS = [MONTH + dt.timedelta(days=i) for i in range(14) if (MONTH + dt.timedelta(days=i)).weekday() < 5]  # 10 days

day_plan = st.one_of(
    st.tuples(st.just("leave"), st.sampled_from(["leave", "rest_adjusted"])),
    st.tuples(st.just("clock"), st.integers(-20, 70), st.one_of(st.none(), st.integers(-90, 40))),
    st.tuples(st.just("nothing")),
)
complaint_plan = st.tuples(st.sampled_from(["attitude", "slow_reply", "product"]), st.integers(0, 9),
                           st.sampled_from(["upheld", "rejected", "pending"]))


def oracle(plans, complaints) -> Decimal:
    """Seed 002 §五 by hand: 10 points, 迟到 0.5, >30 min 缺勤 2, 旷工 5 (no clock-in, or gone more than 30 min
    early), 4 调休 a month (leave and forgotten clock-outs use them), each beyond = 缺勤 2; complaints:
    slow answers 3 → 5, 5 → 10; rude service 1 each, 3 → 5, 5 → 10."""
    total, uses = Decimal(0), 0
    for plan in plans:
        if plan[0] == "leave":
            uses += 1
            if uses > 4:
                total += 2
        elif plan[0] == "nothing":
            total += 5
        else:
            _, late, out = plan
            if out is not None and out < -30:
                total += 5
            elif late > 30:
                total += 2
            elif late > 0:
                total += Decimal("0.5")
            if out is None:
                uses += 1
                if uses > 4:
                    total += 2
    rude = sum(1 for cat, _, v in complaints if cat == "attitude" and v == "upheld")
    slow = sum(1 for cat, _, v in complaints if cat == "slow_reply" and v == "upheld")
    total += max(rude, 10 if rude >= 5 else 5 if rude >= 3 else 0)
    total += 10 if slow >= 5 else 5 if slow >= 3 else 0
    return Decimal(10) - total


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(day_plan, min_size=len(DAYS), max_size=len(DAYS)),
       complaints=st.lists(complaint_plan, max_size=8))
def test_points_equal_a_plain_loop(plans, complaints):
    shop = shop_create(code=f"p{next(_counter)}", name="生成的店")
    boss = person_create(shop=shop, name="主管", roles=["supervisor"], group="")
    agent = person_create(shop=shop, name="客服", roles=["agent"])
    shift = shift_create(shop=shop, name="白班", start="09:00", end="18:00")
    buyer = Customer.objects.create(shop=shop, buyer_id="b")
    for day, plan in zip(DAYS, plans, strict=True):
        roster_day_set(shop=shop, agent=agent, date=day, shifts=[shift])
        if plan[0] == "leave":
            lr = leave_request(shop=shop, agent=agent, kind=plan[1], date_from=day, date_to=day, reason="事", by=agent)
            leave_transition(shop=shop, request=lr, to="approved", by=boss, now=at(shop, day - dt.timedelta(days=1), 9))
        elif plan[0] == "clock":
            _, late, out = plan
            moment = at(shop, day, 9) + dt.timedelta(minutes=late)
            attendance_clock(shop=shop, agent=agent, kind="in", by=None, at=moment, now=moment)
            if out is not None:
                moment = at(shop, day, 18) + dt.timedelta(minutes=out)
                attendance_clock(shop=shop, agent=agent, kind="out", by=None, at=moment, now=moment)
    for cat, offset, verdict in complaints:
        c = complaint_create(shop=shop, source="buyer", category=cat, summary="投诉", actor=boss, customer=buyer,
                             against=agent, now=at(shop, MONTH + dt.timedelta(days=offset), 10))
        if verdict != "pending":
            complaint_verdict(shop=shop, complaint_id=c.id, verdict=verdict, actor=boss)
    attendance_recompute(shop=shop, month=MONTH, now=at(shop, dt.date(2026, 4, 1), 12))
    assert LedgerMonth.objects.get(agent=agent, month=MONTH).points_left == oracle(plans, complaints)
