"""Account handover under /api/v1/ (CONV-8): what a person has open (the preview), run a handover,
list and read handovers (with the buyers to greet), mark buyers greeted."""

import datetime as dt

from ninja import Router, Schema, Status

from kefu.core.api_auth import AUTH
from kefu.core.errors import NotFound
from kefu.core.models import Agent

from .. import handover as services
from ..access import require_supervisor_of
from .common import actor_of, agent_of

router = Router(tags=["handover"], auth=AUTH)


class HandoverIn(Schema):
    from_agent_id: int
    to_agent_id: int
    reason: str
    accounts: bool = True  # also give the former owner's platform accounts (客服号) to the new owner
    request_id: str = ""


class HandoverGreetIn(Schema):
    item_ids: list[int]


class HandoverScopeOut(Schema):
    agent_id: int
    counts: dict[str, int]


class HandoverItemOut(Schema):
    id: int
    kind: str
    object_id: int
    label: str
    buyer_id: str | None
    last_contact_at: dt.datetime | None
    greeted_at: dt.datetime | None
    greeted_by: str | None


class HandoverOut(Schema):
    id: int
    from_agent_id: int
    from_agent: str
    to_agent_id: int
    to_agent: str
    reason: str
    counts: dict[str, int]
    by: str
    created_at: dt.datetime
    created: bool = False
    to_greet: int | None = None
    items: list[HandoverItemOut] | None = None


def handover_out(h, *, full: bool = False, created: bool = False) -> dict:
    out = {"id": h.id, "from_agent_id": h.from_agent_id, "from_agent": h.from_agent.name, "to_agent_id": h.to_agent_id,
           "to_agent": h.to_agent.name, "reason": h.reason, "counts": h.counts, "by": h.by_label,
           "created_at": h.created_at, "created": created}
    if full:
        groups = services.handover_items(h)
        out["to_greet"] = sum(1 for it in groups["buyer"] if it.greeted_at is None)
        out["items"] = [{"id": it.id, "kind": it.kind, "object_id": it.object_id, "label": it.label,
                         "buyer_id": it.customer.buyer_id if it.customer_id else None,
                         "last_contact_at": it.last_contact_at, "greeted_at": it.greeted_at,
                         "greeted_by": it.greeted_by.name if it.greeted_by_id else None}
                        for rows in groups.values() for it in rows]
    return out


def _person(shop_obj, member, agent_id: int, field: str) -> Agent:
    agent = Agent.objects.filter(shop=shop_obj, pk=agent_id).first()
    if agent is None:
        raise NotFound("no such person in this shop", field=field)
    return agent


@router.get("/handovers/scope/{agent_id}", response=HandoverScopeOut)
def handover_scope_get(request, agent_id: int, shop: str | None = None):
    """What a handover of this person would move now (buyers, follow-ups, revisits, cases, complaints,
    open conversations, platform accounts). The person's supervisors only."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, agent_id)
    require_supervisor_of(member, agent)
    return {"agent_id": agent.id, "counts": services.handover_scope(shop=shop_obj, from_agent=agent).counts()}


@router.get("/handovers", response=list[HandoverOut])
def handovers_get(request, shop: str | None = None):
    """Handovers the person sees, newest first (an agent: those they received)."""
    shop_obj, member = request.auth.shop_for(shop)
    return [handover_out(h) for h in services.handovers_for(shop=shop_obj, member=member)[:200]]


@router.post("/handovers", response={200: HandoverOut, 201: HandoverOut})
def handover_post(request, payload: HandoverIn, shop: str | None = None):
    """Hand the former owner's open work to the new owner (the supervisor of both). 201 with what moved;
    200 with the earlier handover when the request id was seen or nothing was left to move."""
    shop_obj, member = request.auth.shop_for(shop)
    from_agent = agent_of(shop_obj, member, payload.from_agent_id)
    to_agent = _person(shop_obj, member, payload.to_agent_id, "to_agent_id")
    h, created = services.handover_run(shop=shop_obj, from_agent=from_agent, to_agent=to_agent,
                                       reason=payload.reason, accounts=payload.accounts,
                                       request_id=payload.request_id, by=member, actor=actor_of(request))
    h = services.handover_get_for_user(shop=shop_obj, member=member, id=h.pk)
    return Status(201 if created else 200, handover_out(h, full=True, created=created))


@router.get("/handovers/{handover_id}", response=HandoverOut)
def handover_get(request, handover_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    h = services.handover_get_for_user(shop=shop_obj, member=member, id=handover_id)
    return handover_out(h, full=True)


@router.post("/handovers/{handover_id}/greeted", response=HandoverOut)
def handover_greeted_post(request, handover_id: int, payload: HandoverGreetIn, shop: str | None = None):
    """The new owner marks buyers of the list as greeted (once each)."""
    shop_obj, member = request.auth.shop_for(shop)
    h = services.handover_get_for_user(shop=shop_obj, member=member, id=handover_id)
    services.handover_greeted(shop=shop_obj, handover=h, item_ids=payload.item_ids, by=member,
                              actor=actor_of(request))
    return handover_out(h, full=True)
