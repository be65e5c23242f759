"""The reports API under /api/v1/: daily sales reports (WF-6) and reports up (WF-8)."""

import datetime as dt

from django.utils import timezone
from ninja import Query, Router

from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError
from kefu.core.timeutil import parse_day, shop_day
from kefu.people.access import require_supervisor
from kefu.people.api.common import actor_of, month_of

from . import daily, dept
from . import selectors as S
from .enums import ReportError
from .models import AgentMonthReport, DailyReport, DeptReport
from .schemas import (
    AgentMonthReportAnswerIn,
    AgentMonthReportOut,
    AgentMonthReportPrepareIn,
    AgentMonthReportSubmitIn,
    DailyReportGenerateIn,
    DailyReportOut,
    DailyReportSignIn,
    DeptReportGenerateIn,
    DeptReportOut,
    DeptReportWriteIn,
    ReportsCountOut,
)

router = Router(tags=["reports"], auth=AUTH)
MAX_RANGE_DAYS = 92


def daily_out(r: DailyReport, *, full: bool = False) -> dict:
    out = {"id": r.id, "agent_id": r.agent_id, "agent": r.agent.name, "group": r.group, "day": r.day,
           "state": r.state, "changed": r.changed, "figures": r.figures, "computed_at": r.computed_at,
           "note": r.note, "signed_at": r.signed_at, "signed_figures": r.signed_figures}
    if full:
        out.update(orders=r.orders, signed_orders=r.signed_orders, changes=daily.daily_report_changes(r))
    return out


def _days(day, date_from, date_to):
    date_from = _parse(date_from, "from")
    date_to = _parse(date_to, "to")
    if day is None and date_from is not None and date_to is not None:
        if date_to < date_from or (date_to - date_from).days > MAX_RANGE_DAYS:
            raise KefuError(f"from/to: a range of at most {MAX_RANGE_DAYS} days", field="to", code=ReportError.INVALID)
    return day, date_from, date_to


def _parse(raw: str | None, field: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return parse_day(raw)
    except (ValueError, KefuError):
        raise KefuError(f"{field}: not a date (YYYY-MM-DD): {raw!r}", field=field) from None


@router.get("/daily-reports", response=list[DailyReportOut])
def daily_reports_get(request, shop: str | None = None, day: dt.date | None = None,
                      date_from: str | None = Query(None, alias="from"),
                      date_to: str | None = Query(None, alias="to"),
                      agent_id: int | None = None, state: str = "", group: str = ""):
    """Daily sales reports the caller may see (an agent: their own; a supervisor: their group's), newest
    first, without orders. `state`: pending | signed | changed (signed, then changed). Without day or
    from/to: the last 7 days."""
    shop_obj, member = request.auth.shop_for(shop)
    if day is None and date_from is None and date_to is None:
        today = shop_day(timezone.now(), shop_obj.tz)
        date_from, date_to = (today - dt.timedelta(days=7)).isoformat(), today.isoformat()
    day, date_from, date_to = _days(day, date_from, date_to)
    rows = S.daily_reports_for(shop=shop_obj, member=member, day=day, date_from=date_from, date_to=date_to,
                               agent_id=agent_id, state=state, group=group)
    return [daily_out(r) for r in rows]


@router.post("/daily-reports/generate", response=ReportsCountOut)
def daily_reports_generate(request, payload: DailyReportGenerateIn, shop: str | None = None):
    """Make or refresh a finished day's reports now (the scheduler does it every hour). Supervisors."""
    shop_obj, member = request.auth.shop_for(shop)
    require_supervisor(member)
    return {"count": daily.daily_reports_generate(shop=shop_obj, day=payload.day)}


@router.get("/daily-reports/{report_id}", response=DailyReportOut)
def daily_report_get(request, report_id: int, shop: str | None = None):
    """One report with its orders (items, buyer, amounts), the signed copy and what changed since."""
    shop_obj, member = request.auth.shop_for(shop)
    return daily_out(S.daily_report_get_for_user(shop=shop_obj, member=member, id=report_id), full=True)


@router.post("/daily-reports/{report_id}/sign", response=DailyReportOut)
def daily_report_sign(request, report_id: int, payload: DailyReportSignIn, shop: str | None = None):
    """The agent signs their report (note = a comment). 409 already_done when signed and unchanged."""
    shop_obj, member = request.auth.shop_for(shop)
    S.daily_report_get_for_user(shop=shop_obj, member=member, id=report_id)
    row = daily.daily_report_sign(shop=shop_obj, report_id=report_id, by=member, note=payload.note,
                                  actor=actor_of(request))
    return daily_out(row, full=True)


# ---------------------------------------------------------------- reports up (WF-8)

def dept_out(r: DeptReport) -> dict:
    return {"id": r.id, "period": r.period, "start": r.start, "end": r.end, "data": r.data,
            "computed_at": r.computed_at, "problems": r.problems, "measures": r.measures,
            "written_by": r.written_by.name if r.written_by else None, "written_at": r.written_at,
            "delivered_at": r.delivered_at}


@router.get("/dept-reports", response=list[DeptReportOut])
def dept_reports_get(request, shop: str | None = None, period: str = "", limit: int = 30):
    """The department's reports to the general manager, newest first (supervisors and managers)."""
    shop_obj, member = request.auth.shop_for(shop)
    require_supervisor(member)
    qs = DeptReport.objects.filter(shop=shop_obj).select_related("written_by").order_by("-start", "period")
    if period:
        qs = qs.filter(period=period)
    return [dept_out(r) for r in qs[: max(1, min(limit, 200))]]


@router.post("/dept-reports/generate", response=DeptReportOut)
def dept_report_generate(request, payload: DeptReportGenerateIn, shop: str | None = None):
    """Make or refresh the report of a finished day, week or month now (the scheduler does it hourly)."""
    shop_obj, member = request.auth.shop_for(shop)
    require_supervisor(member)
    return dept_out(dept.dept_report_generate(shop=shop_obj, period=payload.period, start=payload.start))


@router.get("/dept-reports/{report_id}", response=DeptReportOut)
def dept_report_get(request, report_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return dept_out(S.dept_report_get_for_user(shop=shop_obj, member=member, id=report_id))


@router.post("/dept-reports/{report_id}/notes", response=DeptReportOut)
def dept_report_notes(request, report_id: int, payload: DeptReportWriteIn, shop: str | None = None):
    """The supervisor's problems and proposed measures (replaces both)."""
    shop_obj, member = request.auth.shop_for(shop)
    S.dept_report_get_for_user(shop=shop_obj, member=member, id=report_id)
    return dept_out(dept.dept_report_write(shop=shop_obj, report_id=report_id, by=member, problems=payload.problems,
                                           measures=payload.measures, actor=actor_of(request)))


def month_out(r: AgentMonthReport) -> dict:
    return {"id": r.id, "agent_id": r.agent_id, "agent": r.agent.name, "month": r.month, "state": r.state,
            "data": r.data, "computed_at": r.computed_at, "analysis": r.analysis, "submitted_at": r.submitted_at,
            "reply": r.reply, "replied_by": r.replied_by.name if r.replied_by else None, "replied_at": r.replied_at}


@router.get("/agent-month-reports", response=list[AgentMonthReportOut])
def month_reports_get(request, shop: str | None = None, month: str | None = None):
    """Agents' monthly reports to the supervisor (seed 002 §三.6): an agent their own, a supervisor their group's."""
    shop_obj, member = request.auth.shop_for(shop)
    m = month_of(shop_obj, month) if month else None
    return [month_out(r) for r in S.month_reports_for(shop=shop_obj, member=member, month=m)]


@router.post("/agent-month-reports/prepare", response=ReportsCountOut)
def month_reports_prepare(request, payload: AgentMonthReportPrepareIn, shop: str | None = None):
    """Fill in every active agent's report of a finished month now (drafts are refreshed). Supervisors."""
    shop_obj, member = request.auth.shop_for(shop)
    require_supervisor(member)
    return {"count": dept.agent_month_reports_prepare(shop=shop_obj, month=month_of(shop_obj, payload.month))}


@router.get("/agent-month-reports/{report_id}", response=AgentMonthReportOut)
def month_report_get(request, report_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return month_out(S.month_report_get_for_user(shop=shop_obj, member=member, id=report_id))


@router.post("/agent-month-reports/{report_id}/submit", response=AgentMonthReportOut)
def month_report_submit(request, report_id: int, payload: AgentMonthReportSubmitIn, shop: str | None = None):
    """The agent's own analysis, submitted to the supervisor (again, until answered)."""
    shop_obj, member = request.auth.shop_for(shop)
    S.month_report_get_for_user(shop=shop_obj, member=member, id=report_id)
    return month_out(dept.agent_month_report_submit(shop=shop_obj, report_id=report_id, by=member,
                                                    analysis=payload.analysis, actor=actor_of(request)))


@router.post("/agent-month-reports/{report_id}/answer", response=AgentMonthReportOut)
def month_report_answer(request, report_id: int, payload: AgentMonthReportAnswerIn, shop: str | None = None):
    """The supervisor reads and answers a submitted report."""
    shop_obj, member = request.auth.shop_for(shop)
    S.month_report_get_for_user(shop=shop_obj, member=member, id=report_id)
    return month_out(dept.agent_month_report_answer(shop=shop_obj, report_id=report_id, by=member,
                                                    reply=payload.reply, actor=actor_of(request)))
