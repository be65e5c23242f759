"""Commission arithmetic (WF-5) as pure functions over Decimals: a plan and one agent's month.

Commissionable sales of an order = paid − refunded, and nothing for an order taken back (closed or
fully refunded within the shop's take-back period, as the KPI report's net sales). The tiers turn a
month's commissionable sales into a base commission:
- whole (阶梯全额): the highest tier whose threshold the sales reach sets the rate for all of it;
- progressive (超额累进): each band [threshold, next threshold) is paid at its own rate.
The base is then multiplied by the KPI-score tier's factor (金牌/银牌/铜牌 …) and the factor of the
points left in the ledger; the result is never below the floor (保底) and is rounded to the fen.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
ONE = Decimal("1")
FEN = Decimal("0.01")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Plan:
    mode: str  # whole | progressive
    tiers: tuple[tuple[Decimal, Decimal], ...]  # (threshold ¥, rate %) ascending by threshold
    floor: Decimal = ZERO
    kpi_tiers: tuple[tuple[Decimal, Decimal, str], ...] = ()  # (min score, factor, label)
    points_tiers: tuple[tuple[Decimal, Decimal], ...] = ()  # (min points left, factor)

    def snapshot(self) -> dict:
        return {"mode": self.mode, "tiers": [[str(t), str(r)] for t, r in self.tiers], "floor": str(self.floor),
                "kpi_tiers": [[str(s), str(f), lb] for s, f, lb in self.kpi_tiers],
                "points_tiers": [[str(p), str(f)] for p, f in self.points_tiers]}

    @classmethod
    def from_snapshot(cls, d: dict) -> "Plan":
        return cls(mode=d["mode"], tiers=tuple((Decimal(t), Decimal(r)) for t, r in d["tiers"]),
                   floor=Decimal(d["floor"]),
                   kpi_tiers=tuple((Decimal(s), Decimal(f), lb) for s, f, lb in d.get("kpi_tiers", [])),
                   points_tiers=tuple((Decimal(p), Decimal(f)) for p, f in d.get("points_tiers", [])))


def order_net(paid: Decimal, refund: Decimal, taken_back: bool) -> Decimal:
    """What one credited order adds to the commissionable sales."""
    if taken_back:
        return ZERO
    return max(paid - refund, ZERO)


def base_commission(sales: Decimal, plan: Plan) -> Decimal:
    """The tiers applied to a month's commissionable sales (not rounded)."""
    if sales <= 0 or not plan.tiers:
        return ZERO
    tiers = sorted(plan.tiers)
    if plan.mode == "whole":
        rate = ZERO
        for threshold, r in tiers:
            if sales >= threshold:
                rate = r
        return sales * rate / HUNDRED
    total = ZERO
    for i, (threshold, rate) in enumerate(tiers):
        upper = tiers[i + 1][0] if i + 1 < len(tiers) else None
        if sales <= threshold:
            break
        band_top = sales if upper is None else min(sales, upper)
        total += (band_top - threshold) * rate / HUNDRED
    return total


def kpi_factor(score: float | Decimal | None, plan: Plan) -> tuple[Decimal, str]:
    """The factor and label of the highest KPI tier the score reaches (1 and "" when none)."""
    if score is None or not plan.kpi_tiers:
        return ONE, ""
    s = Decimal(str(score))
    best = None
    for min_score, factor, label in sorted(plan.kpi_tiers, key=lambda t: t[0]):
        if s >= min_score:
            best = (factor, label)
    return best if best else (ONE, "")


def points_factor(points_left: Decimal | None, plan: Plan) -> Decimal:
    if points_left is None or not plan.points_tiers:
        return ONE
    best = None
    for min_points, factor in sorted(plan.points_tiers):
        if points_left >= min_points:
            best = factor
    return best if best is not None else ONE


def commission(*, sales: Decimal, plan: Plan, score=None, points_left: Decimal | None = None) -> dict:
    """One agent's month: base, factors and the commission (rounded to the fen, at least the floor)."""
    base = base_commission(sales, plan)
    kf, label = kpi_factor(score, plan)
    pf = points_factor(points_left, plan)
    amount = (base * kf * pf).quantize(FEN, rounding=ROUND_HALF_UP)
    floored = amount < plan.floor
    return {"base": base.quantize(FEN, rounding=ROUND_HALF_UP), "kpi_factor": kf, "kpi_tier": label,
            "points_factor": pf, "commission": max(amount, plan.floor), "floored": floored}
