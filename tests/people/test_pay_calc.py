"""The commission arithmetic against an independent formulation (hypothesis)."""

import bisect
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.people.pay_calc import FEN, Plan, base_commission, commission, order_net

# No timing in tests: a loaded machine must not fail them.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
money = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)
rate = st.decimals(min_value=0, max_value=30, places=2, allow_nan=False, allow_infinity=False)
tiers = st.lists(st.tuples(money, rate), min_size=1, max_size=6, unique_by=lambda t: t[0]).map(
    lambda ts: tuple(sorted(ts)))


def progressive_marginal(sales: Decimal, ts) -> Decimal:
    """Σ (rate_i − rate_{i−1}) × (sales − threshold_i)⁺: the same bands, summed as rate steps."""
    total, prev = Decimal(0), Decimal(0)
    for threshold, r in ts:
        if sales > threshold:
            total += (r - prev) * (sales - threshold) / 100
        prev = r
    return total


def whole_lookup(sales: Decimal, ts) -> Decimal:
    thresholds = [t for t, _r in ts]
    i = bisect.bisect_right(thresholds, sales) - 1
    return sales * ts[i][1] / 100 if i >= 0 and sales > 0 else Decimal(0)


@relaxed
@given(sales=money, ts=tiers)
def test_progressive_equals_the_rate_step_sum(sales, ts):
    assert base_commission(sales, Plan(mode="progressive", tiers=ts)) == progressive_marginal(sales, ts)


@relaxed
@given(sales=money, ts=tiers)
def test_whole_uses_the_rate_of_the_tier_reached(sales, ts):
    assert base_commission(sales, Plan(mode="whole", tiers=ts)) == whole_lookup(sales, ts)


@relaxed
@given(a=money, b=money, ts=tiers)
def test_progressive_never_falls_when_sales_rise(a, b, ts):
    lo, hi = sorted((a, b))
    plan = Plan(mode="progressive", tiers=ts)
    assert base_commission(lo, plan) <= base_commission(hi, plan)


@relaxed
@given(sales=money, ts=tiers, floor=money, score=st.one_of(st.none(), st.integers(0, 100)),
       points=st.one_of(st.none(), st.decimals(min_value=-5, max_value=10, places=1)))
def test_commission_is_rounded_multiplied_and_floored(sales, ts, floor, score, points):
    plan = Plan(mode="progressive", tiers=ts, floor=floor,
                kpi_tiers=((Decimal(90), Decimal("1.2"), "金牌"), (Decimal(80), Decimal("1.1"), "银牌")),
                points_tiers=((Decimal(-100), Decimal("0.5")), (Decimal(6), Decimal(1))))
    c = commission(sales=sales, plan=plan, score=score, points_left=points)
    kf = Decimal("1.2") if score is not None and score >= 90 else Decimal("1.1") if score is not None and score >= 80 \
        else Decimal(1)
    pf = Decimal(1) if points is None or points >= 6 else Decimal("0.5")
    want = (progressive_marginal(sales, ts) * kf * pf).quantize(FEN, rounding=ROUND_HALF_UP)
    assert c["commission"] == max(want, floor)
    assert c["commission"] == c["commission"].quantize(FEN) and c["floored"] == (want < floor)


def test_edges():
    plan = Plan(mode="progressive", tiers=((Decimal(0), Decimal(1)), (Decimal(1000), Decimal(2))))
    assert base_commission(Decimal(1000), plan) == Decimal(10)  # exactly at a threshold: the lower band only
    assert base_commission(Decimal("1000.01"), plan) == Decimal("10.0002")
    whole = Plan(mode="whole", tiers=plan.tiers)
    assert base_commission(Decimal(1000), whole) == Decimal(20)  # reaching a tier counts
    assert base_commission(Decimal(-5), plan) == 0 and base_commission(Decimal(5), Plan("whole", ())) == 0
    assert order_net(Decimal(100), Decimal(30), False) == 70
    assert order_net(Decimal(100), Decimal(130), False) == 0 and order_net(Decimal(100), Decimal(0), True) == 0


def test_half_a_fen_rounds_up():
    plan = Plan(mode="progressive", tiers=((Decimal(0), Decimal("0.5")),))
    assert commission(sales=Decimal(1), plan=plan)["commission"] == Decimal("0.01")  # 0.005 → 0.01
