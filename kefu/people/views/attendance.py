"""Pages of attendance (WF-2): clock in/out, the month sheet (and its Excel export), one day with its
corrections, leave and 调休 requests."""

import datetime as dt

from django.http import Http404, HttpResponseBadRequest, HttpResponseForbidden
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError, PermissionDenied, http_status
from kefu.core.exports import column_sums
from kefu.core.timeutil import day_bounds
from kefu.web.views import export_response, shop_page

from .. import attendance as services
from .. import selectors as S
from ..access import agent_get_for_user, is_supervisor, supervises
from ..enums import CORRECTABLE_STATUSES, AttendanceStatus, LeaveKind, RequestState
from ..templatetags.people_tags import status_mark
from .common import GROUPS, back, date_or_none, group_of, int_or_none, local_moment, month_ctx

ONE_DAY = dt.timedelta(days=1)


@shop_page
def attendance(request):
    shop, member = request.shop, request.member
    month, ctx = month_ctx(request, shop)
    supervisor = is_supervisor(member)
    group = group_of(request) if supervisor else ""
    sheet = S.month_sheet(shop=shop, member=member, month=month, group=group,
                          agent=None if supervisor else member)
    fmt = request.GET.get("export")
    if fmt:
        if fmt not in ("csv", "xlsx"):
            return HttpResponseBadRequest(_("导出格式只能是 csv 或 xlsx"))
        return _export(fmt, sheet, month)
    ctx.update({"sheet": sheet, "group": group, "groups": GROUPS, "supervisor": supervisor,
                "statuses": [(s, AttendanceStatus(s).label) for s in S.TALLY],
                "clock": S.clock_state(shop=shop, agent=member, today=ctx["today"]),
                "error": request.GET.get("error", "")[:300]})
    return TemplateResponse(request, "people/attendance.html", ctx)


def _export(fmt: str, sheet: dict, month):
    days = sheet["days"]
    columns = ["agent", "group", *[d.isoformat() for d in days], *S.TALLY, "late_minutes", "forgot", "over_allowance",
               "points_left"]
    labels = {"agent": _("客服"), "group": _("组"), "late_minutes": _("迟到分钟"), "forgot": _("漏打卡"),
              "over_allowance": _("超出调休"), "points_left": _("考核分"),
              **{s: str(AttendanceStatus(s).label) for s in S.TALLY}, **{d.isoformat(): d.strftime("%m-%d") for d in days}}
    rows = []
    for r in sheet["rows"]:
        row = {"agent": r.agent.name, "group": r.agent.group_text, "late_minutes": r.late_minutes,
               "forgot": r.forgot, "over_allowance": r.over_allowance, "points_left": r.points_left, **r.tally}
        for d, cell in zip(days, r.cells, strict=True):
            mark = status_mark(cell.status) if cell else ""
            if cell and cell.status == AttendanceStatus.LATE:
                mark += str(cell.late_minutes)
            row[d.isoformat()] = mark
        rows.append(row)
    return export_response(fmt, columns, rows, f"attendance-{month:%Y-%m}", labels, title=_("考勤") + f" {month:%Y-%m}",
                           total=column_sums(rows, (*S.TALLY, "late_minutes", "forgot", "over_allowance")))


@require_POST
@shop_page
def clock(request):
    shop, member = request.shop, request.member
    kind = request.POST.get("kind", "")
    try:
        services.attendance_clock(shop=shop, agent=member, kind=kind, by=member, actor=request.user,
                                  request_id=request.POST.get("request_id", ""))
    except KefuError as exc:
        return back("people:attendance", error=exc.message)
    return back("people:attendance")


@shop_page
def day(request, agent_id: int, date: str):
    shop, member = request.shop, request.member
    agent = agent_get_for_user(shop=shop, member=member, id=agent_id)
    the_day = date_or_none(date)
    if the_day is None:
        raise Http404("date")
    can_correct = supervises(member, agent) and member.id != agent.id
    error, status, form = None, 200, {}
    if request.method == "POST":
        if not can_correct:
            return HttpResponseForbidden(_("只有该客服的主管可以更正考勤"))
        form = {k: request.POST.get(k, "") for k in ("clock_in", "clock_out", "status", "reason")}
        try:
            services.attendance_correct(
                shop=shop, agent=agent, date=the_day, reason=form["reason"], by=member, actor=request.user,
                clock_in=local_moment(shop, the_day, form["clock_in"]),
                clock_out=local_moment(shop, the_day, form["clock_out"]), status=form["status"],
                excuse_not_online=request.POST.get("excuse_not_online") == "1")
            return back("people:day", agent.id, the_day.isoformat())
        except ValueError as exc:
            error, status = _("时间格式应为 08:58 或 2026-03-03T00:10：%(v)s") % {"v": exc}, 400
        except KefuError as exc:
            error, status = exc.message, http_status(exc)
    row = S.attendance_day_get_for_user(shop=shop, member=member, agent_id=agent.id, date=the_day)
    from ..models import PenaltyDeduction

    ctx = {"agent": agent, "day": the_day, "row": row, "can_correct": can_correct, "error": error, "form": form,
           "corrections": S.corrections_of(shop=shop, agent=agent, date=the_day),
           "events": list(agent.clock_events.filter(at__gte=day_bounds(the_day, shop.tz)[0] - ONE_DAY,
                                                    at__lt=day_bounds(the_day, shop.tz)[1] + ONE_DAY)),
           "deductions": list(PenaltyDeduction.objects.filter(shop=shop, agent=agent, day=the_day)
                              .exclude(source_type="manual").order_by("id")),
           "statuses": [(s, AttendanceStatus(s).label) for s in CORRECTABLE_STATUSES]}
    return TemplateResponse(request, "people/day.html", ctx, status=status)


# ---------------------------------------------------------------- leave

@shop_page
def leave(request):
    shop, member = request.shop, request.member
    supervisor = is_supervisor(member)
    error, status, form = None, 200, {"kind": LeaveKind.REST_ADJUSTED}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in ("kind", "date_from", "date_to", "reason", "agent")}
        try:
            who = member
            if supervisor and form["agent"]:
                who = agent_get_for_user(shop=shop, member=member, id=int_or_none(form["agent"]) or 0)
            d_from, d_to = date_or_none(form["date_from"]), date_or_none(form["date_to"] or form["date_from"])
            if d_from is None or d_to is None:
                raise KefuError(_("请选择日期"), field="date_from")
            services.leave_request(shop=shop, agent=who, kind=form["kind"], date_from=d_from, date_to=d_to,
                                   reason=form["reason"], by=member, actor=request.user)
            return back("people:leave")
        except KefuError as exc:
            error, status = exc.message, http_status(exc)
        except Http404:
            error, status = _("找不到该客服"), 404
    state = request.GET.get("state") or ""
    ctx = {"requests": S.leave_requests_for(shop=shop, member=member, state=state or None), "state": state,
           "states": RequestState.choices, "kinds": LeaveKind.choices, "supervisor": supervisor, "form": form,
           "error": error or request.GET.get("error", "")[:300],
           "agents": list(S.agents_visible(shop=shop, member=member).order_by("group", "name")) if supervisor else []}
    return TemplateResponse(request, "people/leave.html", ctx, status=status)


@require_POST
@shop_page
def leave_decide(request, leave_id: int, action: str):
    shop, member = request.shop, request.member
    lr = S.leave_get_for_user(shop=shop, member=member, id=leave_id)
    to = {"approve": RequestState.APPROVED, "reject": RequestState.REJECTED, "cancel": RequestState.CANCELLED}.get(action)
    if to is None:
        raise Http404("action")
    try:
        services.leave_transition(shop=shop, request=lr, to=to, by=member, note=request.POST.get("note", ""),
                                  actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:leave", error=exc.message)
    return back("people:leave")


