"""The QA score of SPEC §12 (as Zendesk QA): the one definition used by services, pages, API and
the KPI figure set.

category score = (chosen − min) / (max − min) · 100
review score   = weighted mean of category scores; 0 when a critical category is below 50
agent score    = mean of review scores
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
FIFTY = Decimal(50)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Item:
    chosen: int
    scale_min: int
    scale_max: int
    weight: int
    critical: bool = False


def category_score(item: Item) -> Decimal:
    """Exact (unrounded) 0–100 score of one rubric item."""
    span = item.scale_max - item.scale_min
    if span <= 0:
        raise ValueError("scale_max must be above scale_min")
    if not item.scale_min <= item.chosen <= item.scale_max:
        raise ValueError("chosen value outside the scale")
    return Decimal(item.chosen - item.scale_min) * HUNDRED / Decimal(span)


def review_score(items: list[Item]) -> tuple[Decimal, bool]:
    """(score rounded to 0.01, auto_failed). Items of weight 0 count only as critical checks."""
    if not items:
        raise ValueError("a review scores at least one item")
    scores = [(category_score(i), i) for i in items]
    if any(i.critical and s < FIFTY for s, i in scores):
        return Decimal("0.00"), True
    total_w = sum(i.weight for _, i in scores)
    if total_w == 0:
        raise ValueError("the rubric's weights add up to 0")
    mean = sum(s * i.weight for s, i in scores) / Decimal(total_w)
    return mean.quantize(CENT, rounding=ROUND_HALF_UP), False


def mean_score(total: Decimal, count: int) -> Decimal | None:
    """An agent's (or group's) quality score from summed review scores."""
    if not count:
        return None
    return (Decimal(total) / count).quantize(CENT, rounding=ROUND_HALF_UP)
