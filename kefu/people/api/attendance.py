"""Attendance under /api/v1/ (WF-2): clock, attendance days, corrections, leave and 调休 requests."""

from django.http import Http404
from ninja import Query, Router, Status

from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError

from .. import attendance as services
from .. import selectors as S
from ..access import agents_visible, require_supervisor
from ..enums import ClockSource, RequestState
from ..models import AttendanceDay
from ..months import month_end
from ..schemas import (
    AttendanceDayOut,
    ClockIn,
    CorrectionIn,
    CountOut,
    LeaveIn,
    LeaveOut,
    MonthIn,
    PeopleClockOut,
    PeopleNoteIn,
)
from .common import actor_of, agent_of, month_of

router = Router(tags=["attendance"], auth=AUTH)


def day_out(d: AttendanceDay) -> dict:
    return {"id": d.id, "agent_id": d.agent_id, "agent": d.agent.name, "date": d.date, "status": d.status,
            "shift": d.shift_label, "shift_start": d.shift_start, "shift_end": d.shift_end, "clock_in": d.clock_in,
            "clock_out": d.clock_out, "late_minutes": d.late_minutes, "left_early_minutes": d.left_early_minutes,
            "forgot_clock": d.forgot_clock, "allowance_no": d.allowance_no, "over_allowance": d.over_allowance,
            "not_online_minutes": d.not_online_minutes, "not_online": d.not_online, "corrected": d.corrected,
            "leave_id": d.leave_id}


def leave_out(r) -> dict:
    return {"id": r.id, "agent_id": r.agent_id, "agent": r.agent.name, "kind": r.kind, "date_from": r.date_from,
            "date_to": r.date_to, "reason": r.reason, "state": r.state, "requested_at": r.requested_at,
            "decided_by": r.decided_by_label, "decided_at": r.decided_at, "decision_note": r.decision_note}


@router.post("/attendance/clock", response={200: PeopleClockOut, 201: PeopleClockOut})
def clock_post(request, payload: ClockIn, shop: str | None = None):
    """Clock in or out. A person clocks themself now; an integration names `agent_id` and may send the
    clock device's `at`. `request_id` makes a resend harmless (200 with the first event)."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None:
        if payload.agent_id not in (None, member.id):
            raise Http404("agent")
        agent = member
    else:
        if payload.agent_id is None:
            raise KefuError("agent_id is required", field="agent_id")
        agent = agent_of(shop_obj, None, payload.agent_id)
    event, created = services.attendance_clock(
        shop=shop_obj, agent=agent, kind=payload.kind, by=member, at=payload.at, request_id=payload.request_id,
        source=ClockSource.API, actor=actor_of(request))
    day = AttendanceDay.objects.filter(agent=agent, date=services.shift_day_of(shop_obj, agent, event.at)).select_related(
        "agent").first()
    return Status(201 if created else 200, {"id": event.id, "agent_id": agent.id, "kind": event.kind, "at": event.at,
                                            "created": created, "day": day_out(day) if day else None})


@router.get("/attendance/days", response=list[AttendanceDayOut])
def days_get(request, shop: str | None = None, month: str | None = None, agent_id: int | None = None,
             group: str | None = None):
    """Attendance days of a month: an agent's own, a supervisor's group, everyone for managers and tokens."""
    shop_obj, member = request.auth.shop_for(shop)
    m = month_of(shop_obj, month)
    agents = agents_visible(shop=shop_obj, member=member, include_inactive=True)
    if agent_id is not None:
        agents = agents.filter(pk=agent_of(shop_obj, member, agent_id).pk)
    if group:
        agents = agents.filter(group=group)
    qs = AttendanceDay.objects.filter(shop=shop_obj, agent__in=agents, date__gte=m, date__lte=month_end(m))
    return [day_out(d) for d in qs.select_related("agent").order_by("agent__name", "date")]


@router.post("/attendance/corrections", response=AttendanceDayOut)
def correction_post(request, payload: CorrectionIn, shop: str | None = None):
    """A supervisor corrects one agent-day with a reason (audited); the day and its deductions follow."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, payload.agent_id)
    services.attendance_correct(shop=shop_obj, agent=agent, date=payload.date, reason=payload.reason, by=member,
                                clock_in=payload.clock_in, clock_out=payload.clock_out, status=payload.status,
                                excuse_not_online=payload.excuse_not_online, actor=actor_of(request))
    return day_out(AttendanceDay.objects.select_related("agent").get(agent=agent, date=payload.date))


@router.post("/attendance/recompute", response=CountOut)
def recompute_post(request, payload: MonthIn, shop: str | None = None):
    """Recompute a month's attendance and ledger now (the scheduler does it hourly)."""
    shop_obj, member = request.auth.shop_for(shop)
    require_supervisor(member)
    ids = None if member is None else list(agents_visible(shop=shop_obj, member=member).values_list("pk", flat=True))
    return {"count": services.attendance_recompute(shop=shop_obj, month=month_of(shop_obj, payload.month),
                                                   agent_ids=ids)}


@router.get("/leave-requests", response=list[LeaveOut])
def leave_get(request, shop: str | None = None, state: str | None = None, agent_id: int | None = None,
              limit: int = Query(200, ge=1, le=1000)):
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, agent_id)
    return [leave_out(r) for r in S.leave_requests_for(shop=shop_obj, member=member, state=state, agent=agent,
                                                       limit=limit)]


@router.post("/leave-requests", response={201: LeaveOut})
def leave_post(request, payload: LeaveIn, shop: str | None = None):
    """请假 or 调休, asked beforehand; a supervisor (or an integration) may file it for an agent."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, payload.agent_id) if payload.agent_id is not None else member
    if agent is None:
        raise KefuError("agent_id is required", field="agent_id")
    r = services.leave_request(shop=shop_obj, agent=agent, kind=payload.kind, date_from=payload.date_from,
                               date_to=payload.date_to or payload.date_from, reason=payload.reason, by=member,
                               actor=actor_of(request))
    return Status(201, leave_out(r))


def _leave_act(request, shop, leave_id, to, note):
    shop_obj, member = request.auth.shop_for(shop)
    r = S.leave_get_for_user(shop=shop_obj, member=member, id=leave_id)
    return leave_out(services.leave_transition(shop=shop_obj, request=r, to=to, by=member, note=note,
                                               actor=actor_of(request)))


@router.post("/leave-requests/{leave_id}/approve", response=LeaveOut)
def leave_approve(request, leave_id: int, payload: PeopleNoteIn, shop: str | None = None):
    return _leave_act(request, shop, leave_id, RequestState.APPROVED, payload.note)


@router.post("/leave-requests/{leave_id}/reject", response=LeaveOut)
def leave_reject(request, leave_id: int, payload: PeopleNoteIn, shop: str | None = None):
    return _leave_act(request, shop, leave_id, RequestState.REJECTED, payload.note)


@router.post("/leave-requests/{leave_id}/cancel", response=LeaveOut)
def leave_cancel(request, leave_id: int, payload: PeopleNoteIn, shop: str | None = None):
    return _leave_act(request, shop, leave_id, RequestState.CANCELLED, payload.note)
