"""Daily sales reports (WF-6, seed 002 §四.1): one per agent and shop day, generated from Kefu's own
figures after the day has ended in the shop's time zone, never typed.

The figures are the KPI report's row of the agent for that day (kefu.metrics.kpi.kpi_report, the one
computation the dashboard, API and exports use) and the orders are the credited orders that row sums
(kefu.metrics.selectors.order_credits), with their items and buyers. The scheduler refreshes reports
for REFRESH_DAYS so late orders and refunds reach them. The agent signs (confirms, optionally with a
comment): the figures and orders are copied as signed; a later change keeps the signed copy and shows
the difference (`daily_report_changes`) until the agent signs again.
"""

import datetime as dt
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import shop_day

from .enums import DailyState, ReportError
from .models import DailyReport

# The KPI report's fields a daily report carries, in the page's order.
FIGURES = ("receptions", "reply_rate", "first_response_seconds", "response_seconds", "inquiries", "inquiries_paid",
           "conversion_rate", "orders", "paying_buyers", "sales", "refunds", "net_sales", "avg_order_value")
REFRESH_DAYS = 35  # how long after its day a report still follows late orders and refunds


def _zero_figures() -> dict:
    """An agent whose orders all moved away since the report was made: nothing that day."""
    money = {"sales", "refunds", "net_sales"}
    return {k: ("0.00" if k in money else 0 if k in {"receptions", "inquiries", "inquiries_paid", "orders",
                                                      "paying_buyers"} else None) for k in FIGURES}


def _orders_of(shop: Shop, day: dt.date) -> dict[int, list[dict]]:
    """Per agent, the credited orders paid that day with their items and buyer (3 queries)."""
    from kefu.customers.models import Customer
    from kefu.metrics.selectors import order_credits
    from kefu.orders.models import Order, OrderItem

    credits = order_credits(shop=shop, date_from=day, date_to=day)
    order_ids = [c.order_id for c in credits]
    items: dict[int, list] = defaultdict(list)
    for oid, sku, qty, price in OrderItem.objects.filter(order_id__in=order_ids).values_list(
            "order_id", "sku_code", "quantity", "price"):
        items[oid].append([sku, qty, str(price)])
    info = {oid: (title, paid_at) for oid, title, paid_at in Order.objects.filter(pk__in=order_ids).values_list(
        "pk", "title", "paid_at")}
    buyers = dict(Customer.objects.filter(pk__in={c.customer_id for c in credits}).values_list("pk", "buyer_id"))
    out: dict[int, list[dict]] = defaultdict(list)
    for c in credits:
        title, paid_at = info.get(c.order_id, ("", None))
        out[c.agent_id].append({
            "order_id": c.order_id, "order_no": c.order_no, "buyer": buyers.get(c.customer_id, ""),
            "title": title, "paid_at": paid_at.astimezone(shop.tz).strftime("%H:%M") if paid_at else "",
            "items": items.get(c.order_id, []), "paid": str(c.paid_amount), "refund": str(c.refund_amount),
            "taken_back": c.taken_back,
        })
    return out


def _compute(shop: Shop, day: dt.date) -> tuple[dict[int, dict], dict[int, list[dict]], dict[int, Agent]]:
    from kefu.metrics.kpi import kpi_report

    rep = kpi_report(shop=shop, date_from=day, date_to=day, by="agent")
    figures = {r["agent_id"]: {k: r.get(k) for k in FIGURES} for r in rep["agents"]}
    orders = _orders_of(shop, day)
    agents = {a.id: a for a in Agent.objects.filter(shop=shop, id__in=set(figures) | set(orders))}
    return figures, orders, agents


def daily_reports_generate(*, shop: Shop, day: dt.date, now: dt.datetime | None = None,
                           create: bool = True) -> int:
    """Make or refresh the reports of one finished shop day; returns the reports written.
    `create=False` refreshes the existing ones only (late orders and refunds of older days)."""
    now = now or timezone.now()
    if day >= shop_day(now, shop.tz):
        raise KefuError(f"{day} is not over yet in the shop's time zone", field="day", code=ReportError.STATE)
    figures, orders, agents = _compute(shop, day)
    for attempt in (1, 2):  # a supervisor's "generate" racing the scheduler: the loser updates the winner's rows
        try:
            return _write(shop, day, figures, orders, agents, now, create)
        except IntegrityError:
            if attempt == 2:
                raise
    return 0


def _write(shop, day, figures, orders, agents, now, create) -> int:
    created = []
    written = 0
    with transaction.atomic():
        existing = {r.agent_id: r for r in DailyReport.objects.select_for_update().filter(shop=shop, day=day)}
        for agent_id in sorted(set(figures) | set(orders) | set(existing)):
            row = existing.get(agent_id)
            if row is None:
                if not create or agent_id not in agents:
                    continue
                row = DailyReport(shop=shop, agent=agents[agent_id], day=day, group=agents[agent_id].group)
                created.append(row)
            f = figures.get(agent_id) or _zero_figures()
            o = orders.get(agent_id, [])
            changed = row.state == DailyState.SIGNED and (f != row.signed_figures or o != row.signed_orders)
            if row.pk and row.figures == f and row.orders == o and row.changed == changed:
                continue
            row.figures, row.orders, row.changed, row.computed_at = f, o, changed, now
            row.save()
            written += 1
        if created:
            from kefu.approvals.services import notify

            for r in created:
                notify(shop=shop, recipients=[r.agent_id], link=reverse("reports:daily_detail", args=[r.pk]),
                       text=f"{day:%m-%d} 的销售日报已生成，请核对签字")
    return written


def daily_reports_refresh(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """The scheduler's pass: yesterday's reports made, the last REFRESH_DAYS days' reports refreshed."""
    now = now or timezone.now()
    yesterday = shop_day(now, shop.tz) - dt.timedelta(days=1)
    days = set(DailyReport.objects.filter(shop=shop, day__gte=yesterday - dt.timedelta(days=REFRESH_DAYS),
                                          day__lt=yesterday).values_list("day", flat=True).distinct())
    written = daily_reports_generate(shop=shop, day=yesterday, now=now)
    for d in sorted(days):
        written += daily_reports_generate(shop=shop, day=d, now=now, create=False)
    return written


def daily_report_sign(*, shop: Shop, report_id: int, by: Agent, note: str = "", actor=None,
                      now: dt.datetime | None = None) -> DailyReport:
    """The agent confirms their report (a note = a comment on it). Signing again is allowed only when the
    report changed since the last signature, and then acknowledges the new figures."""
    note = (note or "").strip()
    if len(note) > 1000:
        raise KefuError("note: at most 1000 characters", field="note")
    with transaction.atomic():
        row = DailyReport.objects.select_for_update().filter(shop=shop, pk=report_id).first()
        if row is None:
            raise KefuError("no such report", field="report_id")
        if by is None or by.id != row.agent_id:
            raise PermissionDenied("only the agent signs their own daily report", code=ReportError.NOT_OWNER)
        if row.state == DailyState.SIGNED and not row.changed:
            raise KefuError("already signed", code=ReportError.DONE)
        before = {"state": row.state, "signed_figures": row.signed_figures, "note": row.note}
        row.state, row.note, row.signed_at = DailyState.SIGNED, note, now or timezone.now()
        row.signed_figures, row.signed_orders, row.changed = row.figures, row.orders, False
        row.save()
        audit_record(shop=shop, actor=actor, action="daily_report.sign", entity=row, before=before,
                     after={"day": row.day.isoformat(), "figures": row.figures, "note": note, "by": by.name})
    return row


def daily_report_changes(row: DailyReport) -> dict:
    """What changed since the signature: figures (signed, now) and orders added, removed or changed."""
    if row.state != DailyState.SIGNED or not row.changed:
        return {"figures": [], "added": [], "removed": [], "changed": []}
    then_f, now_f = row.signed_figures or {}, row.figures or {}
    figures = [{"key": k, "signed": then_f.get(k), "now": now_f.get(k)} for k in FIGURES
               if then_f.get(k) != now_f.get(k)]
    then_o = {o["order_id"]: o for o in row.signed_orders or []}
    now_o = {o["order_id"]: o for o in row.orders or []}
    changed = []
    for oid in sorted(set(then_o) & set(now_o)):
        a, b = then_o[oid], now_o[oid]
        for field in ("paid", "refund", "taken_back"):
            if a.get(field) != b.get(field):
                changed.append({"order_no": b["order_no"], "field": field, "signed": a.get(field), "now": b.get(field)})
    return {"figures": figures, "added": [now_o[o] for o in sorted(set(now_o) - set(then_o))],
            "removed": [then_o[o] for o in sorted(set(then_o) - set(now_o))], "changed": changed}
