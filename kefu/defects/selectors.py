"""Reads of the defects domain, always through the shop and the person asking: alerts, an alert's cases
and buyers' opinions (AFT-8), and the return-reasons report (AFT-9)."""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch, Sum
from django.http import Http404

from kefu.aftersales.enums import CaseReason, Direction, MoneyLineKind, MoneyLineState, Party
from kefu.aftersales.models import Case, CaseItem, CaseMoneyLine
from kefu.conversations.enums import Sender
from kefu.conversations.models import Message
from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import day_bounds

from . import opinions
from .enums import MANAGE_ROLES, VIEW_ROLES, AlertState, GroupBy
from .models import AlertCase, ProductionAlert

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_REPORT_DAYS = 400
# Buyer messages read for opinions: from a few days before a case to two weeks after it.
OPINION_BEFORE = dt.timedelta(days=3)
OPINION_AFTER = dt.timedelta(days=14)
OPINION_MESSAGES_MAX = 5000
NO_RESPONSIBLE = "none"


# ---------------------------------------------------------------- access

def can_view(member: Agent | None) -> bool:
    """Supervisors, managers and admins (and the shop's integration token)."""
    return member is None or member.has_role(*VIEW_ROLES)


def can_manage(member: Agent | None) -> bool:
    return member is None or member.has_role(*MANAGE_ROLES)


def require_viewer(member: Agent | None) -> None:
    """Agents and warehouse clerks get a 404: the page does not exist for them."""
    if not can_view(member):
        raise Http404("defects")


# ---------------------------------------------------------------- alerts

def alerts_for(*, shop: Shop, member: Agent | None, state: str | None = None):
    require_viewer(member)
    if state and state not in AlertState.values:
        raise KefuError(f"must be one of {', '.join(AlertState.values)}", field="state")
    qs = ProductionAlert.objects.filter(shop=shop).select_related("acknowledged_by", "closed_by")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-raised_at", "-id")


def alert_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> ProductionAlert:
    require_viewer(member)
    cases = AlertCase.objects.select_related("case", "case__order", "case__order__customer", "case__owner")
    alert = (ProductionAlert.objects.filter(shop=shop, pk=id).select_related("acknowledged_by", "closed_by")
             .prefetch_related(Prefetch("alert_cases", queryset=cases), "events__actor").first())
    if alert is None:
        raise Http404("alert")
    return alert


def opinion_texts(*, shop: Shop, cases: list[Case]) -> list[tuple[str, str]]:
    """(source, text) of the cases' notes and of their buyers' messages around each case."""
    texts = [(f"#{c.pk}", c.note) for c in cases if c.note]
    windows: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for c in cases:
        if c.order_id and c.order.customer_id:
            windows.setdefault(c.order.customer_id, []).append((c.created_at - OPINION_BEFORE,
                                                                 c.created_at + OPINION_AFTER))
    if not windows:
        return texts
    lo = min(w[0] for ws in windows.values() for w in ws)
    hi = max(w[1] for ws in windows.values() for w in ws)
    msgs = (Message.objects.filter(shop=shop, customer_id__in=list(windows), sender=Sender.BUYER,
                                   sent_at__gte=lo, sent_at__lte=hi)
            .exclude(text="").select_related("customer").order_by("sent_at", "id")[:OPINION_MESSAGES_MAX])
    for m in msgs:
        if any(a <= m.sent_at <= b for a, b in windows[m.customer_id]):
            texts.append((m.customer.nick or m.customer.buyer_id, m.text))
    return texts


def alert_opinions(*, shop: Shop, alert: ProductionAlert) -> list[opinions.AspectSummary]:
    """What the buyers of the alert's cases said on style, size, colour and quality."""
    cases = [ac.case for ac in alert.alert_cases.all()]
    return opinions.summarise(opinion_texts(shop=shop, cases=cases))


SKU_OPINION_CASES_MAX = 500


def sku_opinions(*, shop: Shop, member: Agent | None, sku: str, date_from: dt.date,
                 date_to: dt.date) -> list[opinions.AspectSummary]:
    """Opinions of the buyers of every case with this SKU opened in the shop days [from, to]."""
    require_viewer(member)
    start, end = day_bounds(date_from, shop.tz)[0], day_bounds(date_to, shop.tz)[1]
    cases = list(Case.objects.filter(shop=shop, created_at__gte=start, created_at__lt=end, items__sku=sku)
                 .select_related("order").distinct().order_by("-created_at")[:SKU_OPINION_CASES_MAX])
    return opinions.summarise(opinion_texts(shop=shop, cases=cases))


# ---------------------------------------------------------------- the return-reasons report (AFT-9)

@dataclass(frozen=True)
class ReportQuery:
    date_from: dt.date
    date_to: dt.date
    group_by: str = GroupBy.DAY
    responsible: str | None = None  # a Party value, "none" (not set) or None (all)
    reason: str | None = None
    sku: str | None = None


def report_query(*, date_from, date_to, group_by=None, responsible=None, reason=None, sku=None) -> ReportQuery:
    """Check report parameters; each problem names its field."""
    for name, value in (("from", date_from), ("to", date_to)):
        if not isinstance(value, dt.date):
            raise KefuError("a date YYYY-MM-DD", field=name)
    if date_from > date_to:
        raise KefuError("from must not be after to", field="from")
    if (date_to - date_from).days >= MAX_REPORT_DAYS:
        raise KefuError(f"at most {MAX_REPORT_DAYS} days", field="to")
    group_by = group_by or GroupBy.DAY
    if group_by not in GroupBy.values:
        raise KefuError(f"must be one of {', '.join(GroupBy.values)}", field="group_by")
    if responsible and responsible not in (*Party.values, NO_RESPONSIBLE):
        raise KefuError(f"must be one of {', '.join(Party.values)} or {NO_RESPONSIBLE}", field="responsible")
    if reason and reason not in CaseReason.values:
        raise KefuError(f"must be one of {', '.join(CaseReason.values)}", field="reason")
    if sku is not None and len(sku) > 80:
        raise KefuError("at most 80 characters", field="sku")
    return ReportQuery(date_from, date_to, group_by, responsible or None, reason or None, (sku or "").strip() or None)


def period_of(day: dt.date, group_by: str) -> dt.date:
    """The first day of the day's period: itself, its ISO week's Monday, or the 1st of its month."""
    if group_by == GroupBy.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if group_by == GroupBy.MONTH:
        return day.replace(day=1)
    return day


def split_by_qty(amount: Decimal, qtys: list[int]) -> list[Decimal]:
    """Share a case's money among its SKUs by quantity, to the cent; the last SKU takes the remainder so
    the shares add up to the case's amount exactly."""
    total = sum(qtys)
    shares = [(amount * q / total).quantize(CENT, rounding=ROUND_HALF_UP) for q in qtys[:-1]]
    return shares + [amount - sum(shares, ZERO)]


REPORT_COLUMNS = ["period", "sku", "reason", "responsible", "cases", "qty", "refund", "shipping", "cost"]


def return_report(*, shop: Shop, member: Agent | None, q: ReportQuery) -> dict:
    """Return reasons by period (shop time), SKU, reason and responsible party, with their cost.

    A case belongs to the period of its creation (shop day). Its money is its executed (done) lines:
    refund = goods/cash-back/compensation paid shop→buyer minus buyer→shop; shipping = shipping lines,
    shop→buyer minus buyer→shop; cost = refund + shipping. A case with several SKUs shares its money
    among them by quantity (split_by_qty); a case without items is SKU "". Three queries in all.
    """
    require_viewer(member)
    tz = shop.tz
    start, end = day_bounds(q.date_from, tz)[0], day_bounds(q.date_to, tz)[1]
    cases = Case.objects.filter(shop=shop, created_at__gte=start, created_at__lt=end)
    if q.reason:
        cases = cases.filter(reason=q.reason)
    if q.responsible:
        cases = cases.filter(responsible="" if q.responsible == NO_RESPONSIBLE else q.responsible)
    case_rows = list(cases.values_list("id", "reason", "responsible", "created_at"))
    items: dict[int, dict[str, int]] = {}
    for case_id, sku, qty in (CaseItem.objects.filter(case__in=cases).order_by("id")
                              .values_list("case_id", "sku", "qty")):
        per = items.setdefault(case_id, {})
        per[sku] = per.get(sku, 0) + qty
    money: dict[int, list[Decimal]] = {}  # case → [refund, shipping]
    for m in (CaseMoneyLine.objects.filter(shop=shop, case__in=cases, state=MoneyLineState.DONE)
              .values("case_id", "kind", "direction").annotate(total=Sum("amount")).order_by()):
        sign = 1 if m["direction"] == Direction.SHOP_TO_BUYER else -1
        slot = 1 if m["kind"] == MoneyLineKind.SHIPPING else 0
        money.setdefault(m["case_id"], [ZERO, ZERO])[slot] += sign * m["total"]

    rows: dict[tuple, dict] = {}
    by_reason: dict[tuple[dt.date, str], set[int]] = {}
    sku_totals: dict[str, dict] = {}
    total_cases: set[int] = set()
    for case_id, reason, responsible, created_at in case_rows:
        period = period_of(created_at.astimezone(tz).date(), q.group_by)
        per = items.get(case_id) or {"": 0}
        skus = list(per)
        refund, shipping = money.get(case_id, [ZERO, ZERO])
        qtys = [per[s] for s in skus] if any(per.values()) else [1] * len(skus)
        refunds, shippings = split_by_qty(refund, qtys), split_by_qty(shipping, qtys)
        for sku, qty, r, s in zip(skus, [per[s] for s in skus], refunds, shippings, strict=True):
            if q.sku and sku != q.sku:
                continue
            row = rows.setdefault((period, sku, reason, responsible), {
                "period": period, "sku": sku, "reason": reason, "responsible": responsible, "cases": 0, "qty": 0,
                "refund": ZERO, "shipping": ZERO, "cost": ZERO})
            row["cases"] += 1
            row["qty"] += qty
            row["refund"] += r
            row["shipping"] += s
            row["cost"] += r + s
            by_reason.setdefault((period, reason), set()).add(case_id)
            top = sku_totals.setdefault(sku, {"sku": sku, "cases": 0, "qty": 0, "cost": ZERO})
            top["cases"] += 1
            top["qty"] += qty
            top["cost"] += r + s
            total_cases.add(case_id)
    out = [rows[k] for k in sorted(rows, key=lambda k: (k[0], k[1], k[2], k[3]))]
    totals = {"cases": len(total_cases), "qty": sum(r["qty"] for r in out),
              "refund": sum((r["refund"] for r in out), ZERO), "shipping": sum((r["shipping"] for r in out), ZERO),
              "cost": sum((r["cost"] for r in out), ZERO)}
    return {"query": q, "rows": out, "totals": totals, "chart": _chart(by_reason, sku_totals)}


TOP_SKUS = 10


def _chart(by_reason: dict, sku_totals: dict) -> dict:
    """Data for the page's charts: cases per reason per period (stacked bars) and the top SKUs."""
    periods = sorted({p for p, _r in by_reason})
    reasons = [r for r in CaseReason.values if any(rr == r for _p, rr in by_reason)]
    series = [{"reason": r, "label": str(CaseReason(r).label),
               "cases": [len(by_reason.get((p, r), ())) for p in periods]} for r in reasons]
    top = sorted(sku_totals.values(), key=lambda t: (-t["cases"], -t["cost"], t["sku"]))[:TOP_SKUS]
    return {"periods": [p.isoformat() for p in periods], "series": series,
            "top_skus": [{"sku": t["sku"] or "—", "cases": t["cases"], "cost": str(t["cost"])} for t in top]}


REASON_LABELS = dict(CaseReason.choices)
PARTY_LABELS = dict(Party.choices)


def report_export_rows(report: dict) -> tuple[list[str], list[dict]]:
    """The report's rows as the export writes them (labels for reason and party, Decimal money)."""
    rows = [{**r, "period": r["period"].isoformat(), "reason": str(REASON_LABELS.get(r["reason"], r["reason"])),
             "responsible": str(PARTY_LABELS.get(r["responsible"], "")) or "—"} for r in report["rows"]]
    return REPORT_COLUMNS, rows


def alert_batch(*, shop: Shop, alert: ProductionAlert) -> dict | None:
    """The alert's batch as the imported catalogue knows it (IN-5): production and expiry date and how
    many were made, to weigh the buyers' reports against. None without a batch or an imported one."""
    from kefu.catalog.models import Batch

    if not alert.batch:
        return None
    b = Batch.objects.filter(shop=shop, sku__code=alert.sku, code=alert.batch).first()
    if b is None:
        return None
    return {"code": b.code, "produced_on": b.produced_on, "expires_on": b.expires_on, "quantity": b.quantity}
