"""SLA clocks and policies (AFT-4, AUTO-1) under /api/v1/."""

from ninja import Query, Router, Status

from kefu.core.access import sees_whole_shop
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, PermissionDenied

from . import selectors as sel
from . import services
from .enums import ClockState, Target
from .models import SlaClock, SlaPolicy
from .schemas import ClockOut, OutcomeOut, PolicyIn, PolicyOut, PolicyPatch, SlaScanOut

router = Router(tags=["sla"], auth=AUTH)


def clock_out(c: SlaClock) -> dict:
    return {"id": c.pk, "target": c.target, "seq": c.seq, "conversation_id": c.conversation_id, "case_id": c.case_id,
            "buyer_id": c.customer.buyer_id if c.customer_id else None, "policy_id": c.policy_id,
            "policy": c.policy.name, "agent_id": c.agent_id, "agent": c.agent.name if c.agent_id else None,
            "started_at": c.started_at, "warn_at": c.warn_at, "due_at": c.due_at, "stopped_at": c.stopped_at,
            "state": c.state, "breached_at": c.breached_at}


def policy_out(p: SlaPolicy) -> dict:
    return {"id": p.pk, **services._policy_dict(p)}


@router.get("/sla/clocks", response=list[ClockOut])
def clocks_get(request, shop: str | None = None, state: ClockState | None = None, target: Target | None = None,
               agent_id: int | None = None, group: str | None = None, running: bool | None = None,
               conversation_id: int | None = None, case_id: int | None = None,
               limit: int = Query(200, ge=1, le=2000)):
    """SLA clocks soonest due first. Agents see the clocks they are responsible for; supervisors,
    managers and integrations the whole shop. `running=true` = not stopped yet."""
    shop_obj, member = request.auth.shop_for(shop)
    qs = sel.clocks_for(shop=shop_obj, member=member, agent_id=agent_id, group=group, state=state, target=target,
                        running=running, conversation_id=conversation_id, case_id=case_id)
    return [clock_out(c) for c in qs[:limit]]


@router.get("/sla/outcome", response=OutcomeOut)
def outcome_get(request, shop: str | None = None, conversation_id: int | None = None, case_id: int | None = None):
    """The clocks of one conversation or case and its SLA outcome (hit, missed, active, active_missed)."""
    shop_obj, member = request.auth.shop_for(shop)
    if (conversation_id is None) == (case_id is None):
        raise KefuError("give conversation_id or case_id", field="conversation_id")
    got = sel.subject_clocks(shop=shop_obj, conversation_id=conversation_id, case_id=case_id)
    clocks = got["clocks"]
    if member is not None and not sees_whole_shop(member):
        clocks = [c for c in clocks if c.agent_id == member.pk]
    return {"outcome": got["outcome"], "clocks": [clock_out(c) for c in clocks]}


@router.get("/sla/policies", response=list[PolicyOut])
def policies_get(request, shop: str | None = None):
    """The shop's SLA policies in the order they are checked."""
    shop_obj, _member = request.auth.shop_for(shop)
    return [policy_out(p) for p in sel.policy_list(shop=shop_obj)]


@router.post("/sla/policies", response={201: PolicyOut})
def policies_post(request, payload: PolicyIn, shop: str | None = None):
    """Add a policy (managers and admins)."""
    shop_obj, member = request.auth.shop_for(shop)
    p = services.policy_create(shop=shop_obj, editor=member, data=payload.dict())
    return Status(201, policy_out(p))


@router.post("/sla/policies/{policy_id}", response=PolicyOut)
def policy_post(request, policy_id: int, payload: PolicyPatch, shop: str | None = None):
    """Change a policy (managers and admins); only the fields sent change, `null` clears a target."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.policy_get(shop=shop_obj, id=policy_id)
    data = payload.dict(exclude_unset=True)
    p = services.policy_update(shop=shop_obj, editor=member, policy_id=policy_id, data=data)
    return policy_out(p)


@router.post("/sla/scan", response=SlaScanOut)
def scan_post(request, shop: str | None = None):
    """Run the SLA scan now (supervisors and up, integrations) instead of waiting for the scheduler."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not sees_whole_shop(member):
        raise PermissionDenied("supervisors and up run the scan", field="shop")
    r = services.sla_scan(shop=shop_obj)
    return {"created": r.rebuilt.created, "updated": r.rebuilt.updated, "deleted": r.rebuilt.deleted,
            "ticked": r.ticked, "alerts": r.alerts, "full": r.full}
