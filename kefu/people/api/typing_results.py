"""Typing practice and tests under /api/v1/ (WF-9): record, void, list, one agent's trend, a month of the team."""

import datetime as dt
from decimal import Decimal

from ninja import Router, Schema, Status

from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError

from .. import typing_results as services
from .common import actor_of, agent_of, month_of

router = Router(tags=["typing"], auth=AUTH)


class TypingResultIn(Schema):
    agent_id: int | None = None  # default: the person themself
    kind: str  # practice | test
    taken_on: dt.date | None = None
    speed: int  # characters per minute
    accuracy: Decimal  # per cent, 0–100
    text: str = ""
    note: str = ""
    request_id: str = ""


class TypingVoidIn(Schema):
    reason: str


class TypingResultOut(Schema):
    id: int
    agent_id: int
    agent: str
    kind: str
    taken_on: dt.date
    speed: int
    accuracy: Decimal
    net_speed: Decimal
    text: str
    note: str
    recorded_by: str
    voided: bool
    void_reason: str
    created: bool = False


class TypingMonthOut(Schema):
    agent_id: int
    agent: str
    month: str
    practices: int
    practice_best: int | None
    practice_avg: Decimal | None
    test_speed: int | None
    test_accuracy: Decimal | None
    test_net_speed: Decimal | None
    previous_net_speed: Decimal | None
    change: Decimal | None
    improved: bool


def result_out(r, created: bool = False) -> dict:
    return {"id": r.id, "agent_id": r.agent_id, "agent": r.agent.name, "kind": r.kind, "taken_on": r.taken_on,
            "speed": r.speed, "accuracy": r.accuracy, "net_speed": r.net_speed, "text": r.text, "note": r.note,
            "recorded_by": r.recorded_label, "voided": r.voided_at is not None, "void_reason": r.void_reason,
            "created": created}


def month_out(agent, f) -> dict:
    t = f.test
    return {"agent_id": agent.id, "agent": agent.name, "month": f.month.strftime("%Y-%m"), "practices": f.practices,
            "practice_best": f.practice_best, "practice_avg": f.practice_avg,
            "test_speed": t.speed if t else None, "test_accuracy": t.accuracy if t else None,
            "test_net_speed": t.net_speed if t else None, "previous_net_speed": f.previous_net, "change": f.change,
            "improved": f.improved}


@router.get("/typing-results", response=list[TypingResultOut])
def typing_results_get(request, shop: str | None = None, agent_id: int | None = None, month: str | None = None):
    """Results the person sees (own; supervisors their groups), newest first; filter by agent and month."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, agent_id)
    rows = services.typing_results_for(shop=shop_obj, member=member, agent=agent,
                                       month=month_of(shop_obj, month) if month else None)
    return [result_out(r) for r in rows[:500]]


@router.post("/typing-results", response={200: TypingResultOut, 201: TypingResultOut})
def typing_result_post(request, payload: TypingResultIn, shop: str | None = None):
    """Record a practice (the agent or their supervisor) or the monthly test (supervisor). 201 created;
    200 with the first row when the request id was seen before."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, payload.agent_id) if payload.agent_id is not None else member
    if agent is None:
        raise KefuError("name the agent", field="agent_id")
    row, created = services.typing_record(
        shop=shop_obj, agent=agent, kind=payload.kind, taken_on=payload.taken_on, speed=payload.speed,
        accuracy=payload.accuracy, text=payload.text, note=payload.note, request_id=payload.request_id, by=member,
        actor=actor_of(request))
    return Status(201 if created else 200, result_out(row, created))


@router.post("/typing-results/{result_id}/void", response=TypingResultOut)
def typing_result_void(request, result_id: int, payload: TypingVoidIn, shop: str | None = None):
    """A supervisor voids a wrong result with a reason (once; again: 409 already_done)."""
    shop_obj, member = request.auth.shop_for(shop)
    row = services.typing_result_get_for_user(shop=shop_obj, member=member, id=result_id)
    return result_out(services.typing_void(shop=shop_obj, result=row, reason=payload.reason, by=member,
                                           actor=actor_of(request)))


@router.get("/typing/trend/{agent_id}", response=list[TypingMonthOut])
def typing_trend_get(request, agent_id: int, shop: str | None = None, months: int = 6):
    """One agent's months, oldest first: practices, the test, the change against the previous test."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, agent_id)
    return [month_out(agent, f) for f in services.typing_trend(shop=shop_obj, agent=agent,
                                                               months=max(1, min(months, 24)))]


@router.get("/typing/month", response=list[TypingMonthOut])
def typing_month_get(request, shop: str | None = None, month: str | None = None):
    """A month of the agents the person sees (an agent: their own row)."""
    shop_obj, member = request.auth.shop_for(shop)
    return [month_out(a, f) for a, f in services.typing_month(shop=shop_obj, member=member,
                                                              month=month_of(shop_obj, month))]
