"""Reports up (WF-8, seed 002 §一.3): the customer-service department's report to the general manager
for a shop day, a week (Monday–Sunday) or a month, and each agent's monthly report to the supervisor
(seed 002 §三.6).

Every figure comes from the app that owns it: KPIs from the KPI report (this period and the one before,
for 环比), after-sales cases and complaints opened in the period, attendance days by status, active
deductions and warnings of the ledger, the commission statements of the month. The supervisor adds the
problems and proposed measures; the report is delivered once as an in-app notification to supervisors
and managers, and by e-mail to managers with an address (Django's e-mail backend: SMTP when configured,
files otherwise).
"""

import datetime as dt
import logging
from collections import Counter
from decimal import Decimal

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from kefu.core.enums import Role
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import day_bounds, shop_day

from .enums import AgentReportState, DailyState, Period, ReportError
from .models import AgentMonthReport, DailyReport, DeptReport

log = logging.getLogger("kefu.reports")

# The KPI report's shop figures the department report compares with the period before.
KPI_KEYS = ("receptions", "reply_rate", "first_response_seconds", "response_seconds", "inquiries",
            "conversion_rate", "orders", "paying_buyers", "sales", "refunds", "net_sales", "avg_order_value",
            "refund_rate")
RATE_KEYS = {"reply_rate", "conversion_rate", "refund_rate"}  # 环比 in percentage points
LOWER_IS_BETTER = {"first_response_seconds", "response_seconds", "refunds", "refund_rate"}
# An agent's month (seed 002 §三.6): what the agent's report to the supervisor fills in.
AGENT_KPI_KEYS = ("receptions", "reply_rate", "first_response_seconds", "response_seconds", "inquiries",
                  "conversion_rate", "orders", "sales", "refunds", "net_sales", "avg_order_value", "score", "rank")


# ---------------------------------------------------------------- periods

def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The day, week (Monday–Sunday) or calendar month that contains `day`."""
    if period == Period.DAY:
        return day, day
    if period == Period.WEEK:
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    if period == Period.MONTH:
        start = day.replace(day=1)
        return start, (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    raise KefuError(f"period: one of {', '.join(Period.values)}", field="period", code=ReportError.INVALID)


def previous_bounds(period: str, start: dt.date) -> tuple[dt.date, dt.date]:
    return period_bounds(period, start - dt.timedelta(days=1))


def change(key: str, now, prev) -> float | None:
    """环比: relative change for counts, money and times; percentage points for rates."""
    if now is None or prev is None:
        return None
    now, prev = Decimal(str(now)), Decimal(str(prev))
    if key in RATE_KEYS:
        return float(round((now - prev) * 100, 2))
    if prev == 0:
        return None
    return float(round((now - prev) / prev, 4))


# ---------------------------------------------------------------- figures

def _kpi(shop: Shop, start: dt.date, end: dt.date) -> dict:
    from kefu.metrics.kpi import kpi_report

    return kpi_report(shop=shop, date_from=start, date_to=end, by="shop")["shop_totals"]


def _moments(shop: Shop, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return day_bounds(start, shop.tz)[0], day_bounds(end, shop.tz)[1]


def _aftersales(shop: Shop, start: dt.date, end: dt.date) -> dict:
    from kefu.aftersales.enums import CaseState
    from kefu.aftersales.models import Case

    lo, hi = _moments(shop, start, end)
    opened = Case.objects.filter(shop=shop, created_at__gte=lo, created_at__lt=hi)
    by_type = dict(opened.values_list("type").annotate(n=Count("id")).values_list("type", "n"))
    open_now = Case.objects.filter(shop=shop).exclude(state__in=[CaseState.CLOSED, CaseState.REJECTED]).count()
    return {"opened": sum(by_type.values()), "by_type": by_type, "open_now": open_now}


def _complaints(shop: Shop, start: dt.date, end: dt.date) -> dict:
    from kefu.complaints.models import AgentComplaint, Complaint

    lo, hi = _moments(shop, start, end)
    opened = Complaint.objects.filter(shop=shop, created_at__gte=lo, created_at__lt=hi)
    by_category = dict(opened.values_list("category").annotate(n=Count("id")).values_list("category", "n"))
    closed = Complaint.objects.filter(shop=shop, closed_at__gte=lo, closed_at__lt=hi).count()
    against = dict(AgentComplaint.objects.filter(shop=shop, day__gte=start, day__lte=end)
                   .values_list("verdict").annotate(n=Count("id")).values_list("verdict", "n"))
    return {"opened": sum(by_category.values()), "closed": closed, "by_category": by_category,
            "against_agents": sum(against.values()), "by_verdict": against}


def _attendance(shop: Shop, start: dt.date, end: dt.date, agent_id: int | None = None) -> dict:
    from kefu.people.models import AttendanceDay

    qs = AttendanceDay.objects.filter(shop=shop, date__gte=start, date__lte=end)
    if agent_id is not None:
        qs = qs.filter(agent_id=agent_id)
    return dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))


def _points(shop: Shop, start: dt.date, end: dt.date, agent_id: int | None = None) -> dict:
    from kefu.people.enums import DeductionStatus
    from kefu.people.models import PenaltyDeduction, PenaltyWarning

    qs = PenaltyDeduction.objects.filter(shop=shop, day__gte=start, day__lte=end, status=DeductionStatus.ACTIVE)
    warnings = PenaltyWarning.objects.filter(shop=shop, withdrawn_at__isnull=True,
                                             month__gte=start.replace(day=1), month__lte=end)
    if agent_id is not None:
        qs, warnings = qs.filter(agent_id=agent_id), warnings.filter(agent_id=agent_id)
    agg = qs.aggregate(n=Count("id"), points=Sum("points"))
    by_level = dict(warnings.values_list("level").annotate(n=Count("id")).values_list("level", "n"))
    return {"deductions": agg["n"] or 0, "deducted": str(agg["points"] or Decimal("0")), "warnings": by_level}


def _commissions(shop: Shop, end: dt.date) -> dict:
    """The statements of the month the period ends in (so far, for a day or a week)."""
    from kefu.people.models import CommissionStatement

    month = end.replace(day=1)
    agg = CommissionStatement.objects.filter(shop=shop, month=month).aggregate(
        n=Count("id"), total=Sum("total"), net=Sum("net_sales"), clawback=Sum("clawback"))
    return {"month": month.isoformat(), "statements": agg["n"] or 0, "total": str(agg["total"] or Decimal("0.00")),
            "net_sales": str(agg["net"] or Decimal("0.00")), "clawback": str(agg["clawback"] or Decimal("0.00"))}


def _daily_reports(shop: Shop, start: dt.date, end: dt.date) -> dict:
    qs = DailyReport.objects.filter(shop=shop, day__gte=start, day__lte=end)
    states = Counter(qs.values_list("state", flat=True))
    return {"made": sum(states.values()), "signed": states.get(DailyState.SIGNED, 0),
            "changed": qs.filter(changed=True).count()}


def dept_report_data(*, shop: Shop, period: str, start: dt.date) -> dict:
    start, end = period_bounds(period, start)
    p_start, p_end = previous_bounds(period, start)
    now_kpi, prev_kpi = _kpi(shop, start, end), _kpi(shop, p_start, p_end)
    from kefu.metrics.kpi import kpi_report

    groups = [{"group": g["group"], **{k: g.get(k) for k in KPI_KEYS}}
              for g in kpi_report(shop=shop, date_from=start, date_to=end, by="group")["groups"]]
    return {
        "period": period, "start": start.isoformat(), "end": end.isoformat(),
        "prev_start": p_start.isoformat(), "prev_end": p_end.isoformat(),
        "kpi": [{"key": k, "now": now_kpi.get(k), "prev": prev_kpi.get(k), "change": change(k, now_kpi.get(k),
                                                                                          prev_kpi.get(k))}
                for k in KPI_KEYS],
        "groups": groups,
        "aftersales": _aftersales(shop, start, end),
        "complaints": _complaints(shop, start, end),
        "attendance": _attendance(shop, start, end),
        "points": _points(shop, start, end),
        "commissions": _commissions(shop, end),
        "daily_reports": _daily_reports(shop, start, end),
    }


# ---------------------------------------------------------------- department report

def _deliver(shop: Shop, row: DeptReport) -> None:
    from kefu.approvals.services import notify

    staff = [a for a in Agent.objects.filter(shop=shop, active=True).select_related("user")
             if a.has_role(Role.SUPERVISOR, Role.MANAGER)]
    label = Period(row.period).label
    text = f"客服部{label} {row.start:%Y-%m-%d}" + (f" – {row.end:%Y-%m-%d}" if row.end != row.start else "")
    link = reverse("reports:dept_detail", args=[row.pk])
    notify(shop=shop, recipients=[a.id for a in staff], text=text + " 已生成", link=link)
    to = sorted({a.user.email for a in staff if a.has_role(Role.MANAGER) and a.user_id and a.user.email})
    if to:
        try:
            send_mail(subject=f"[{shop.name}] {text}", message=dept_report_text(row), from_email=None,
                      recipient_list=to)
        except OSError:  # a mail server down must not lose the report: the notification is there
            log.exception("department report %s: e-mail not sent", row.pk)


def dept_report_text(row: DeptReport) -> str:
    """The e-mail body: the headline figures with 环比, then the supervisor's problems and measures."""
    from kefu.web.labels import KPI_LABELS

    lines = [f"{Period(row.period).label} {row.start} – {row.end}", ""]
    for k in row.data.get("kpi", []):
        ch = k["change"]
        ch_text = "—" if ch is None else (f"{ch:+.2f} pp" if k["key"] in RATE_KEYS else f"{ch * 100:+.1f}%")
        lines.append(f"{KPI_LABELS.get(k['key'], k['key'])}: {k['now']} ({ch_text})")
    d = row.data
    lines += ["", f"售后 {d['aftersales']['opened']} · 投诉 {d['complaints']['opened']} · "
                  f"扣分 {d['points']['deducted']} · 提成合计 ¥{d['commissions']['total']}"]
    if row.problems:
        lines += ["", "问题：", row.problems]
    if row.measures:
        lines += ["", "措施：", row.measures]
    return "\n".join(lines)


def dept_report_generate(*, shop: Shop, period: str, start: dt.date, now: dt.datetime | None = None,
                         deliver: bool = True) -> DeptReport:
    """Make or refresh the report of a finished period; the supervisor's text is kept. Delivered once."""
    now = now or timezone.now()
    start, end = period_bounds(period, start)
    if end >= shop_day(now, shop.tz):
        raise KefuError(f"{start}–{end} is not over yet", field="start", code=ReportError.STATE)
    data = dept_report_data(shop=shop, period=period, start=start)
    with transaction.atomic():
        row, _created = DeptReport.objects.select_for_update().get_or_create(
            shop=shop, period=period, start=start, defaults={"end": end, "data": data, "computed_at": now})
        row.end, row.data, row.computed_at = end, data, now
        first = row.delivered_at is None and deliver
        if first:
            row.delivered_at = now
        row.save()
        if first:
            transaction.on_commit(lambda: _deliver(shop, row))
    return row


def dept_report_write(*, shop: Shop, report_id: int, by: Agent | None, problems: str, measures: str,
                      actor=None) -> DeptReport:
    """The supervisor's problems and proposed measures (supervisors and managers)."""
    from kefu.people.access import require_supervisor

    require_supervisor(by)
    problems, measures = (problems or "").strip(), (measures or "").strip()
    for field, v in (("problems", problems), ("measures", measures)):
        if len(v) > 4000:
            raise KefuError(f"{field}: at most 4000 characters", field=field)
    with transaction.atomic():
        row = DeptReport.objects.select_for_update().filter(shop=shop, pk=report_id).first()
        if row is None:
            raise KefuError("no such report", field="report_id")
        before = {"problems": row.problems, "measures": row.measures}
        row.problems, row.measures, row.written_by, row.written_at = problems, measures, by, timezone.now()
        row.save()
        audit_record(shop=shop, actor=actor, action="dept_report.write", entity=row, before=before,
                     after={"problems": problems, "measures": measures, "by": by.name if by else str(actor or "")})
    return row


def dept_reports_due(*, shop: Shop, now: dt.datetime | None = None) -> list[DeptReport]:
    """The scheduler's pass: yesterday's day report; last week's on and after Monday; last month's."""
    now = now or timezone.now()
    yesterday = shop_day(now, shop.tz) - dt.timedelta(days=1)
    out = []
    for period in (Period.DAY, Period.WEEK, Period.MONTH):
        start, end = period_bounds(period, yesterday)
        if end != yesterday:  # the period holding yesterday is not over: the one before it
            start, end = previous_bounds(period, start)
        if not DeptReport.objects.filter(shop=shop, period=period, start=start).exists():
            out.append(dept_report_generate(shop=shop, period=period, start=start, now=now))
    return out


# ---------------------------------------------------------------- the agent's monthly report

def agent_month_data(*, shop: Shop, agent: Agent, month: dt.date) -> dict:
    from kefu.metrics.kpi import kpi_report
    from kefu.people.models import CommissionStatement, LedgerMonth

    start, end = period_bounds(Period.MONTH, month)
    rows = kpi_report(shop=shop, date_from=start, date_to=end, by="agent")["agents"]
    mine = next((r for r in rows if r["agent_id"] == agent.id), {})
    p_start, p_end = previous_bounds(Period.MONTH, start)
    prev_rows = kpi_report(shop=shop, date_from=p_start, date_to=p_end, by="agent", agent_ids=[agent.id])["agents"]
    prev = next((r for r in prev_rows if r["agent_id"] == agent.id), {})
    st = CommissionStatement.objects.filter(shop=shop, agent=agent, month=start).first()
    ledger = LedgerMonth.objects.filter(shop=shop, agent=agent, month=start).first()
    daily = DailyReport.objects.filter(shop=shop, agent=agent, day__gte=start, day__lte=end)
    return {
        "month": start.isoformat(),
        "kpi": [{"key": k, "now": mine.get(k), "prev": prev.get(k),
                 "change": change(k, mine.get(k), prev.get(k)) if k not in ("score", "rank") else None}
                for k in AGENT_KPI_KEYS],
        "attendance": _attendance(shop, start, end, agent.id),
        "points": {**_points(shop, start, end, agent.id),
                   "points_left": str(ledger.points_left) if ledger else None},
        "commission": str(st.total) if st else None,
        "daily_reports": {"made": daily.count(), "signed": daily.filter(state=DailyState.SIGNED).count()},
    }


def agent_month_reports_prepare(*, shop: Shop, month: dt.date, now: dt.datetime | None = None) -> int:
    """Fill in (or refresh, while still a draft) every active agent's report of a finished month."""
    now = now or timezone.now()
    start, end = period_bounds(Period.MONTH, month)
    if end >= shop_day(now, shop.tz):
        raise KefuError(f"{start:%Y-%m} is not over yet", field="month", code=ReportError.STATE)
    from kefu.approvals.services import notify

    agents = [a for a in Agent.objects.filter(shop=shop, active=True) if a.has_role(Role.AGENT)]
    existing = {r.agent_id: r for r in AgentMonthReport.objects.filter(shop=shop, month=start)}
    written = 0
    for a in agents:
        row = existing.get(a.id)
        if row is not None and row.state != AgentReportState.DRAFT:
            continue
        data = agent_month_data(shop=shop, agent=a, month=start)
        if row is None:
            row = AgentMonthReport.objects.create(shop=shop, agent=a, month=start, data=data, computed_at=now)
            notify(shop=shop, recipients=[a.id], link=reverse("reports:month_detail", args=[row.pk]),
                   text=f"{start:%Y-%m} 月度工作汇报已填好数据，请写工作分析后提交主管")
        else:
            row.data, row.computed_at = data, now
            row.save(update_fields=["data", "computed_at"])
        written += 1
    return written


def agent_month_report_submit(*, shop: Shop, report_id: int, by: Agent, analysis: str, actor=None) -> AgentMonthReport:
    from kefu.approvals.services import notify
    from kefu.core.selectors import supervisors_of
    from kefu.people.access import supervises

    analysis = (analysis or "").strip()
    if not analysis:
        raise KefuError("analysis: write your own analysis of the month", field="analysis")
    if len(analysis) > 4000:
        raise KefuError("analysis: at most 4000 characters", field="analysis")
    with transaction.atomic():
        row = AgentMonthReport.objects.select_for_update().select_related("agent").filter(shop=shop, pk=report_id).first()
        if row is None:
            raise KefuError("no such report", field="report_id")
        if by is None or by.id != row.agent_id:
            raise PermissionDenied("only the agent writes their monthly report", code=ReportError.NOT_OWNER)
        if row.state == AgentReportState.ANSWERED:
            raise KefuError("the supervisor has answered already", code=ReportError.DONE)
        row.analysis, row.state, row.submitted_at = analysis, AgentReportState.SUBMITTED, timezone.now()
        row.save()
        audit_record(shop=shop, actor=actor, action="agent_month_report.submit", entity=row,
                     after={"month": row.month.isoformat(), "by": by.name})
        heads = [s.id for s in supervisors_of(shop) if supervises(s, row.agent) and s.id != by.id]
        if heads:
            notify(shop=shop, recipients=heads, link=reverse("reports:month_detail", args=[row.pk]),
                   text=f"{row.agent.name} 提交了 {row.month:%Y-%m} 月度工作汇报")
    return row


def agent_month_report_answer(*, shop: Shop, report_id: int, by: Agent | None, reply: str, actor=None) -> AgentMonthReport:
    from kefu.approvals.services import notify
    from kefu.people.access import require_supervisor_of

    reply = (reply or "").strip()
    if not reply:
        raise KefuError("reply: empty", field="reply")
    if len(reply) > 4000:
        raise KefuError("reply: at most 4000 characters", field="reply")
    with transaction.atomic():
        row = AgentMonthReport.objects.select_for_update().select_related("agent").filter(shop=shop, pk=report_id).first()
        if row is None:
            raise KefuError("no such report", field="report_id")
        require_supervisor_of(by, row.agent)
        if by is not None and by.id == row.agent_id:
            raise PermissionDenied("not your own report", code=ReportError.SUPERVISOR_ONLY)
        if row.state == AgentReportState.DRAFT:
            raise KefuError("not submitted yet", code=ReportError.STATE)
        row.reply, row.state, row.replied_by, row.replied_at = reply, AgentReportState.ANSWERED, by, timezone.now()
        row.save()
        audit_record(shop=shop, actor=actor, action="agent_month_report.answer", entity=row,
                     after={"month": row.month.isoformat(), "by": by.name if by else str(actor or "")})
        notify(shop=shop, recipients=[row.agent_id], link=reverse("reports:month_detail", args=[row.pk]),
               text=f"主管回复了你的 {row.month:%Y-%m} 月度工作汇报")
    return row
