"""What each person may see of the KPI report (role-aware)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import parse_day

from .kpi import kpi_reports
from .models import OrderCredit

MAX_RANGE_DAYS = 400
RANKING_KEYS = ("agent", "agent_id", "group", "score", "rank")


def parse_range(date_from: str | None, date_to: str | None, *, today: dt.date) -> tuple[dt.date, dt.date]:
    try:
        d_from = parse_day(date_from) if date_from else today
    except ValueError as exc:
        raise KefuError(str(exc), field="from") from exc
    try:
        d_to = parse_day(date_to) if date_to else d_from
    except ValueError as exc:
        raise KefuError(str(exc), field="to") from exc
    if d_to < d_from:
        raise KefuError("'to' is before 'from'", field="to")
    if (d_to - d_from).days > MAX_RANGE_DAYS:
        raise KefuError(f"range longer than {MAX_RANGE_DAYS} days", field="to")
    return d_from, d_to


def kpi_report_for_viewer(*, shop: Shop, member: Agent | None, date_from: dt.date, date_to: dt.date,
                          by: str = "agent") -> dict:
    """Supervisors, managers, admins and integrations see everything; an agent sees own figures
    and everyone's place in the ranking (001 publishes the ranking to the whole team)."""
    return kpi_reports_for_viewer(shop=shop, member=member, ranges=[(date_from, date_to)], by=by)[0]


def kpi_reports_for_viewer(*, shop: Shop, member: Agent | None, ranges, by: str = "agent",
                           agent_ids=None) -> list[dict]:
    """kpi_report_for_viewer of several (from, to) ranges, read together (kefu.metrics.kpi.kpi_reports).
    `agent_ids` narrows the rows to those agents (a page that shows some agents' rows only)."""
    if by not in ("agent", "group", "shop"):
        raise KefuError("must be agent, group or shop", field="by")
    if member is not None and not sees_whole_shop(member):
        if by != "agent":
            raise KefuError("agents see the per-agent report only", field="by", code="forbidden")
        reports = kpi_reports(shop=shop, ranges=ranges, by="agent", agent_ids=agent_ids)
        for report in reports:
            report["agents"] = [
                r if r["agent_id"] == member.id else {k: r[k] for k in RANKING_KEYS} for r in report["agents"]
            ]
            report["shop_totals"] = None
        return reports
    return kpi_reports(shop=shop, ranges=ranges, by=by, agent_ids=agent_ids)


# ---------------------------------------------------------------- credited orders, for other apps

@dataclass(frozen=True)
class CreditRow:
    """One credited (or silent) paid order as the KPI report counts it (SPEC §12 attribution)."""

    order_id: int
    order_no: str
    agent_id: int | None  # None = silent order
    customer_id: int
    pay_day: dt.date
    paid_amount: Decimal
    refund_amount: Decimal
    taken_back: bool  # closed or fully refunded within the take-back period: out of net sales


def order_credits(*, shop: Shop, date_from: dt.date | None = None, date_to: dt.date | None = None,
                  agent_ids=None, order_ids=None, credited_only: bool = True) -> list[CreditRow]:
    """The order credits the KPI report sums (its `sales`, `refunds`, `net_sales`), by payment day:
    commissions and daily sales reports read them here, never attributing orders a second time."""
    qs = OrderCredit.objects.filter(shop=shop)
    if date_from is not None:
        qs = qs.filter(pay_day__gte=date_from)
    if date_to is not None:
        qs = qs.filter(pay_day__lte=date_to)
    if agent_ids is not None:
        qs = qs.filter(agent_id__in=list(agent_ids))
    if order_ids is not None:
        qs = qs.filter(order_id__in=list(order_ids))
    if credited_only:
        qs = qs.filter(agent__isnull=False)
    return [CreditRow(*row) for row in qs.order_by("pay_day", "order_id").values_list(
        "order_id", "order__order_id", "agent_id", "customer_id", "pay_day", "paid_amount", "refund_amount",
        "taken_back")]
