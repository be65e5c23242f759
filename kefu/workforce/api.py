"""Shift types, rosters, swaps and online status under /api/v1/ (SPEC WF-1, WF-3)."""

import datetime as dt

from ninja import Router

from kefu.core.access import sees_whole_shop
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.timeutil import parse_moment

from . import selectors as S
from . import services
from .enums import PresenceSource
from .schemas import (
    DecisionIn,
    EntryIn,
    EntryOut,
    NotOnlineOut,
    OnShiftOut,
    PresenceOut,
    RosterOut,
    ShiftIn,
    ShiftOut,
    ShiftUpdateIn,
    StatusIn,
    SwapIn,
    SwapOut,
    WeekIn,
    WeekOut,
)

router = Router(tags=["workforce"], auth=AUTH)


def _actor(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _shift_out(s) -> dict:
    return {"id": s.id, "name": s.name, "start": s.start_label, "end": s.end_label, "group": s.group,
            "crosses_midnight": s.crosses_midnight, "minutes": s.minutes, "active": s.active}


def _entry_out(e, agent=None) -> dict:
    agent = agent or e.agent
    return {"id": e.id, "agent_id": e.agent_id, "agent": agent.name, "date": e.date, "shift_id": e.shift_id,
            "shift": e.shift.name, "starts_at": e.starts_at, "ends_at": e.ends_at, "swap_id": e.swap_id}


def _swap_out(s) -> dict:
    return {"id": s.id, "date": s.date, "agent_a_id": s.agent_a_id, "agent_a": s.agent_a_name,
            "agent_b_id": s.agent_b_id, "agent_b": s.agent_b_name, "shift_a": s.shift_a.name,
            "shift_b": s.shift_b.name if s.shift_b else None, "reason": s.reason, "status": s.status,
            "requested_by": s.requested_by_label, "decided_by": s.decided_by_label, "decided_at": s.decided_at,
            "decision_note": s.decision_note}


def _presence_out(p, agent) -> dict:
    return {"agent_id": agent.id, "agent": agent.name, "status": p.status, "since": p.since}


# ---------------------------------------------------------------- shift types

@router.get("/shifts", response=list[ShiftOut])
def shifts_get(request, shop: str | None = None):
    shop_obj, _ = request.auth.shop_for(shop)
    return [_shift_out(s) for s in S.shifts_list(shop=shop_obj)]


@router.post("/shifts", response=ShiftOut)
def shift_post(request, payload: ShiftIn, shop: str | None = None):
    """A shift type: start/end in shop time ("08:00", "24:00"); an end at or before the start is the next day."""
    shop_obj, member = request.auth.shop_for(shop)
    s = services.shift_create(shop=shop_obj, name=payload.name, start=payload.start, end=payload.end,
                              group=payload.group, by=member, actor=_actor(request))
    return _shift_out(s)


@router.post("/shifts/{shift_id}", response=ShiftOut)
def shift_update_post(request, shift_id: int, payload: ShiftUpdateIn, shop: str | None = None):
    """Change a shift type (only the fields given). New hours apply to the roster from today on."""
    shop_obj, member = request.auth.shop_for(shop)
    shift = S.shift_get(shop=shop_obj, id=shift_id)
    changes = payload.dict(exclude_unset=True)
    s = services.shift_update(shop=shop_obj, shift=shift, by=member, actor=_actor(request), **changes)
    return _shift_out(s)


# ---------------------------------------------------------------- roster

@router.get("/roster", response=RosterOut)
def roster_get(request, week: dt.date | None = None, group: str | None = None, shop: str | None = None):
    """One week of the roster (the week holding `week`, Monday first); an agent sees their own row."""
    shop_obj, member = request.auth.shop_for(shop)
    start = S.week_start_of(week or S.shop_today(shop_obj))
    data = S.roster_week(shop=shop_obj, member=member, week_start=start, group=group)
    return {"week": start, "days": data["days"], "agents": [
        {"agent_id": r.agent.id, "name": r.agent.name, "group": r.agent.group,
         "days": [[_entry_out(e, r.agent) for e in cell] for cell in r.cells]} for r in data["rows"]]}


@router.post("/roster/week", response=WeekOut)
def roster_week_post(request, payload: WeekIn, shop: str | None = None):
    """Set a week from a pattern: {"week": "2026-03-02", "group": "presales", "pattern": {"12": [3,3,3,3,3,null,null]}}.

    Replaces that week of the agents named; others are untouched. Supervisors and up.
    """
    shop_obj, member = request.auth.shop_for(shop)
    pattern = {}
    for key, days in payload.pattern.items():
        try:
            pattern[int(key)] = days
        except ValueError:
            raise KefuError(f"agent id {key!r} is not a number", field=f"pattern.{key}") from None
    n = services.roster_week_set(shop=shop_obj, week_start=payload.week, group=payload.group or None,
                                 pattern=pattern, by=member, actor=_actor(request))
    return {"entries": n}


@router.post("/roster/entries", response=EntryOut)
def roster_entry_post(request, payload: EntryIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    agent = S.agent_get(shop=shop_obj, id=payload.agent_id)
    shift = S.shift_get(shop=shop_obj, id=payload.shift_id)
    e = services.roster_assign(shop=shop_obj, agent=agent, date=payload.date, shift=shift, by=member,
                               actor=_actor(request))
    return _entry_out(e)


@router.post("/roster/entries/{entry_id}/delete", response=dict)
def roster_entry_delete(request, entry_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    entry = S.entry_get(shop=shop_obj, id=entry_id)
    services.roster_unassign(shop=shop_obj, entry=entry, by=member, actor=_actor(request))
    return {"deleted": entry_id}


# ---------------------------------------------------------------- on shift, status

@router.get("/agents/on-shift", response=list[OnShiftOut])
def on_shift_get(request, at: str | None = None, group: str | None = None, shop: str | None = None):
    """Agents on shift at `at` (default now; a time without offset is shop time) and their online status."""
    shop_obj, _ = request.auth.shop_for(shop)
    moment = None
    if at:
        try:
            moment = parse_moment(at, shop_obj.tz)
        except ValueError as exc:
            raise KefuError(str(exc), field="at") from None
    rows = S.on_shift_now(shop=shop_obj, at=moment, group=group or None)
    return [{"agent_id": r.agent.id, "agent": r.agent.name, "group": r.agent.group, "status": r.status,
             "since": r.since, "shifts": [_entry_out(e) for e in r.entries]} for r in rows]


@router.get("/agents/not-online", response=list[NotOnlineOut])
def not_online_get(request, day: dt.date | None = None, group: str | None = None, shop: str | None = None):
    """WF-3: stretches of the shifts of a shop day during which the agent was not online (an agent: own)."""
    shop_obj, member = request.auth.shop_for(shop)
    only = member if member is not None and not sees_whole_shop(member) else None
    gaps = S.not_online_intervals(shop=shop_obj, day=day or S.shop_today(shop_obj), group=group or None, agent=only)
    return [{"agent_id": g.agent.id, "agent": g.agent.name, "date": g.entry.date, "shift": g.entry.shift.name,
             "start": g.start, "end": g.end, "seconds": g.seconds, "status": g.status} for g in gaps]


@router.post("/agents/me/status", response=PresenceOut)
def my_status_post(request, payload: StatusIn, shop: str | None = None):
    """The logged-in person's own status: online, away or offline."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is None:
        raise PermissionDenied("a token has no person; use /agents/{agent_id}/status")
    p = services.presence_set(shop=shop_obj, agent=member, status=payload.status, source=PresenceSource.API,
                              by=member, actor=_actor(request))
    return _presence_out(p, member)


@router.post("/agents/{agent_id}/status", response=PresenceOut)
def agent_status_post(request, agent_id: int, payload: StatusIn, shop: str | None = None):
    """Set an agent's status (an integration token, a supervisor, or the agent themself)."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = S.agent_get(shop=shop_obj, id=agent_id)
    p = services.presence_set(shop=shop_obj, agent=agent, status=payload.status, source=PresenceSource.API,
                              by=member, actor=_actor(request))
    return _presence_out(p, agent)


# ---------------------------------------------------------------- swaps

@router.get("/swaps", response=list[SwapOut])
def swaps_get(request, status: str | None = None, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return [_swap_out(s) for s in S.swaps_list(shop=shop_obj, member=member, status=status or None)]


@router.post("/swaps", response=SwapOut)
def swap_post(request, payload: SwapIn, shop: str | None = None):
    """Ask for a swap: A gives shift_a of `date` to B and takes B's shift_b (none: B covers). Needs approval."""
    shop_obj, member = request.auth.shop_for(shop)
    if payload.agent_a_id is None and member is None:
        raise KefuError("agent_a_id is required with a token", field="agent_a_id")
    agent_a = member if payload.agent_a_id is None else S.agent_get(shop=shop_obj, id=payload.agent_a_id)
    agent_b = S.agent_get(shop=shop_obj, id=payload.agent_b_id)
    shift_a = S.shift_get(shop=shop_obj, id=payload.shift_a_id)
    shift_b = S.shift_get(shop=shop_obj, id=payload.shift_b_id) if payload.shift_b_id is not None else None
    swap = services.swap_request(shop=shop_obj, date=payload.date, agent_a=agent_a, agent_b=agent_b,
                                 shift_a=shift_a, shift_b=shift_b, reason=payload.reason, by=member,
                                 actor=_actor(request))
    return _swap_out(swap)


def _decide(request, swap_id: int, to: str, payload: DecisionIn, shop: str | None):
    shop_obj, member = request.auth.shop_for(shop)
    swap = S.swap_get_for_user(shop=shop_obj, member=member, id=swap_id)
    swap = services.swap_transition(shop=shop_obj, swap=swap, to=to, by=member, note=payload.note,
                                    actor=_actor(request))
    return _swap_out(swap)


@router.post("/swaps/{swap_id}/approve", response=SwapOut)
def swap_approve(request, swap_id: int, payload: DecisionIn, shop: str | None = None):
    """Approve: the roster changes once, in the same transaction (supervisors and up)."""
    return _decide(request, swap_id, "approved", payload, shop)


@router.post("/swaps/{swap_id}/reject", response=SwapOut)
def swap_reject(request, swap_id: int, payload: DecisionIn, shop: str | None = None):
    return _decide(request, swap_id, "rejected", payload, shop)


@router.post("/swaps/{swap_id}/cancel", response=SwapOut)
def swap_cancel(request, swap_id: int, payload: DecisionIn, shop: str | None = None):
    """Withdraw a request (either agent of the swap, or a supervisor)."""
    return _decide(request, swap_id, "cancelled", payload, shop)
