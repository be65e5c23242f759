"""SPEC §12 QA score: category = (chosen − min)/(max − min)·100; review = weighted mean, 0 when a
critical item is below 50; checked against a plain recomputation with fractions."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.quality.scoring import Item, category_score, mean_score, review_score


def test_category_score_examples():
    assert category_score(Item(3, 1, 5, 1)) == Decimal(50)
    assert category_score(Item(5, 0, 5, 1)) == Decimal(100)
    assert category_score(Item(-1, -1, 1, 1)) == Decimal(0)


def test_critical_below_half_fails_the_review():
    score, failed = review_score([Item(5, 0, 5, 80), Item(2, 0, 5, 20, critical=True)])
    assert (score, failed) == (Decimal("0.00"), True)
    # exactly 50 is not below 50
    score, failed = review_score([Item(5, 0, 5, 80), Item(2, 0, 4, 20, critical=True)])
    assert not failed and score == Decimal("90.00")


def test_bad_input():
    with pytest.raises(ValueError):
        review_score([])
    with pytest.raises(ValueError):
        category_score(Item(6, 0, 5, 1))
    with pytest.raises(ValueError):
        review_score([Item(1, 0, 5, 0)])
    assert mean_score(Decimal(0), 0) is None


items = st.builds(
    lambda lo, span, pick, w, crit: Item(lo + pick % (span + 1), lo, lo + span, w, crit),
    st.integers(-10, 10), st.integers(1, 10), st.integers(0, 100), st.integers(0, 100), st.booleans())


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items, min_size=1, max_size=8))
def test_review_score_matches_fraction_recompute(its):
    total_w = sum(i.weight for i in its)
    fails = any(i.critical and Fraction(i.chosen - i.scale_min, i.scale_max - i.scale_min) < Fraction(1, 2)
                for i in its)
    if not fails and total_w == 0:
        with pytest.raises(ValueError):
            review_score(its)
        return
    score, failed = review_score(its)
    assert failed == fails
    if fails:
        assert score == 0
        return
    exact = sum(Fraction(i.chosen - i.scale_min, i.scale_max - i.scale_min) * 100 * i.weight for i in its) / total_w
    assert abs(Fraction(score) - exact) <= Fraction(1, 200)
    assert 0 <= score <= 100
