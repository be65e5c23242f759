"""median_from_hist against statistics.median of the expanded values (an independent route)."""

import statistics

from hypothesis import given
from hypothesis import strategies as st

from kefu.metrics.kpi import median_from_hist


@given(st.dictionaries(st.integers(0, 100_000), st.integers(1, 50), max_size=60))
def test_median_equals_statistics_median(counts):
    values = [v for v, n in counts.items() for _ in range(n)]
    hist = {str(v): n for v, n in counts.items()}  # stored keys are strings (JSON)
    assert median_from_hist(hist) == (statistics.median(values) if values else None)


def test_non_positive_counts_are_ignored():
    assert median_from_hist({"5": 0, "7": 1, "9": -1}) == 7
    assert median_from_hist({"5": 0}) is None
    assert median_from_hist({}) is None and median_from_hist(None) is None
    assert median_from_hist({"10": 1, "2": 1}) == 6
