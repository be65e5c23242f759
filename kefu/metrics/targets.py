"""Per-shop KPI targets (issue 12): a manager sets, say, 回复率 ≥ 95 % and 平均响应 ≤ 30 秒 on the
settings page; a figure past its target shows in red on the dashboard and the agent page.

Stored in `Shop.kpi_targets` as {figure: number} (rates as fractions, seconds, money in yuan). Whether
a target is a floor or a ceiling follows from the figure: higher is better for rates of success and
money, lower for response times and the refund rate."""

from decimal import Decimal, InvalidOperation

from kefu.core.errors import KefuError

# Figure → True when higher is better (the target is a floor), False when it is a ceiling.
TARGETS = {
    "reply_rate": True, "first_response_seconds": False, "response_seconds": False,
    "response_seconds_median": False, "conversion_rate": True, "avg_order_value": True,
    "refund_rate": False,
}
RATE_TARGETS = {"reply_rate", "conversion_rate", "refund_rate"}
# For 环比 colouring: True = a rise is good, False = a rise is bad, absent = neither.
HIGHER_IS_BETTER = {
    **TARGETS, "first_response_seconds_median": False, "sales": True, "net_sales": True, "orders": True,
    "inquiries_paid": True, "slow_turns": False, "unanswered_turns": False, "refunds": False,
}


def targets_check(targets) -> None:
    """KefuError naming the figure when a target is not a known figure or a number in range."""
    if not isinstance(targets, dict):
        raise KefuError("must be an object of figure → target", field="kpi_targets")
    for k, v in targets.items():
        if k not in TARGETS:
            raise KefuError(f"unknown figure {k!r} (known: {', '.join(TARGETS)})", field="kpi_targets")
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise KefuError(f"target of {k} must be a number", field="kpi_targets")
        if v < 0 or (k in RATE_TARGETS and v > 1):
            raise KefuError(f"target of {k} must be {'between 0 and 1' if k in RATE_TARGETS else '≥ 0'}",
                            field="kpi_targets")


def target_missed(key: str, value, targets: dict | None) -> bool:
    """True when the figure has a value and is on the wrong side of the shop's target."""
    target = (targets or {}).get(key)
    if target is None or value is None or key not in TARGETS:
        return False
    try:
        v = Decimal(str(value))
    except InvalidOperation:
        return False
    t = Decimal(str(target))
    return v < t if TARGETS[key] else v > t
