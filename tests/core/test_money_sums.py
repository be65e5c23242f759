"""Money aggregates are exact Decimals on both databases (issue 12: SQLite sums showed
1902487.15000001, the return-reasons report ¥59.9000000000000). Each sum is recomputed in Python
with Decimal from the same amounts."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db.models import F, Max, Min, Sum
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.core.models import Shop
from kefu.core.services import shop_create
from kefu.metrics.models import ShopPeriod

DAY0 = dt.date(2000, 1, 1)


def _store(shop, amounts: list[Decimal]) -> None:
    ShopPeriod.objects.filter(shop=shop).delete()
    ShopPeriod.objects.bulk_create(
        [ShopPeriod(shop=shop, period=ShopPeriod.DAY, start=DAY0 + dt.timedelta(days=i), silent_orders=i % 7,
                    silent_sales=a) for i, a in enumerate(amounts)], batch_size=2000)


def _exact(d: Decimal) -> bool:
    return isinstance(d, Decimal) and d == d.quantize(Decimal("0.01")) and d.as_tuple().exponent == -2


cents = st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c).scaleb(-2))


@pytest.mark.django_db
@settings(max_examples=40, deadline=None)
@given(st.lists(cents, min_size=1, max_size=60))
def test_sum_min_max_are_exact(amounts):
    shop = Shop.objects.filter(code="m1").first() or shop_create(code="m1", name="钱店")
    _store(shop, amounts)
    got = ShopPeriod.objects.filter(shop=shop).aggregate(s=Sum("silent_sales"), lo=Min("silent_sales"),
                                                         hi=Max("silent_sales"))
    assert got["s"] == sum(amounts, Decimal(0)) and _exact(got["s"])
    assert got["lo"] == min(amounts) and got["hi"] == max(amounts)
    assert str(got["s"]) == str(sum(amounts, Decimal(0)).quantize(Decimal("0.01")))


@pytest.mark.django_db
def test_known_residues_are_gone(shop):
    # 59.90 as a single sum, and a total whose float sum is 1902487.1500000001.
    _store(shop, [Decimal("59.90")])
    assert str(ShopPeriod.objects.aggregate(s=Sum("silent_sales"))["s"]) == "59.90"
    parts = [Decimal("0.10")] * 1000 + [Decimal("1902387.15")]
    _store(shop, parts)
    total = ShopPeriod.objects.aggregate(s=Sum("silent_sales"))["s"]
    assert str(total) == "1902487.15"


@pytest.mark.django_db
def test_a_large_sum_and_grouped_sums_match_decimal(shop):
    """200,000 amounts of up to ¥100,000: the total and per-group sums equal Python's Decimal sums."""
    rng = random.Random(12)
    amounts = [Decimal(rng.randint(0, 10_000_000)).scaleb(-2) for _ in range(200_000)]
    _store(shop, amounts)
    total = ShopPeriod.objects.filter(shop=shop).aggregate(s=Sum("silent_sales"))["s"]
    assert total == sum(amounts, Decimal(0)) and _exact(total)
    by_group = {r["silent_orders"]: r["s"] for r in ShopPeriod.objects.filter(shop=shop).values("silent_orders")
                .annotate(s=Sum("silent_sales")).order_by()}
    expected: dict[int, Decimal] = {}
    for i, a in enumerate(amounts):
        expected[i % 7] = expected.get(i % 7, Decimal(0)) + a
    assert by_group == expected and all(_exact(v) for v in by_group.values())
    # An expression over money columns comes back in cents too.
    diff = ShopPeriod.objects.filter(shop=shop).aggregate(d=Sum(F("silent_sales") - F("silent_sales")))["d"]
    assert diff == 0
