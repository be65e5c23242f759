"""After-sales cases (AFT-1, AFT-2, AFT-3, AFT-11) under /api/v1/."""

from ninja import Query, Router, Status

from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError
from kefu.core.models import Agent

from . import selectors as sel
from . import services
from .enums import CaseErrorCode, CaseReason, CaseState, CaseType
from .models import Case
from .policy import policy_suggest
from .schemas import CaseOpenIn, CaseOut, SuggestionOut, TransitionIn

router = Router(tags=["aftersales"], auth=AUTH)


def case_out(c: Case) -> dict:
    return {"id": c.pk, "type": c.type, "reason": c.reason, "responsible": c.responsible, "state": c.state,
            "version": c.version, "order_id": c.order.order_id if c.order_id else None,
            "buyer_id": c.order.customer.buyer_id if c.order_id else None,
            "intercepted": c.intercepted, "refused": c.refused, "owner": c.owner.name if c.owner_id else None,
            "note": c.note, "items": [{"sku": i.sku, "qty": i.qty} for i in c.items.all()],
            "money_lines": [{"id": m.pk, "kind": m.kind, "direction": m.direction, "amount": m.amount,
                             "state": m.state, "note": m.note} for m in c.money_lines.all()],
            "events": [{"from_state": e.from_state, "to_state": e.to_state,
                        "actor": e.actor.name if e.actor_id else None, "note": e.note, "created_at": e.created_at}
                       for e in c.events.all()],
            "allowed_transitions": sorted(services.TRANSITIONS[c.state]), "created_at": c.created_at}


@router.post("/cases", response={201: CaseOut})
def case_post(request, payload: CaseOpenIn, shop: str | None = None):
    """Open an after-sales case (售后单) with its items and planned money lines."""
    shop_obj, member = request.auth.shop_for(shop)
    order = sel.order_get_in_shop(shop=shop_obj, order_id=payload.order_id) if payload.order_id else None
    owner = None
    if payload.owner_id is not None:
        owner = Agent.objects.filter(shop=shop_obj, pk=payload.owner_id, active=True).first()
        if owner is None:
            raise KefuError("no such person in this shop", field="owner_id", code="not_found")
    case = services.case_open(
        shop=shop_obj, actor_agent=member, type=payload.type, reason=payload.reason, order=order,
        responsible=payload.responsible or "", items=[(i.sku, i.qty) for i in payload.items],
        intercepted=payload.intercepted, refused=payload.refused, owner=owner, note=payload.note,
        money_lines=[services.MoneyLineIn(kind=m.kind, direction=m.direction, amount=m.amount, note=m.note)
                     for m in payload.money_lines])
    return Status(201, case_out(sel.case_get_for_user(shop=shop_obj, member=None, id=case.pk)))


@router.get("/cases", response=list[CaseOut])
def cases_get(request, shop: str | None = None, state: CaseState | None = None, type: CaseType | None = None,
              order_id: str | None = None, limit: int = Query(100, ge=1, le=1000)):
    """Cases, newest first. Agents see their own and the unassigned ones."""
    shop_obj, member = request.auth.shop_for(shop)
    qs = sel.cases_for(shop=shop_obj, member=member, state=state, type=type, order_id=order_id)
    return [case_out(c) for c in qs.prefetch_related("items", "money_lines", "events__actor")[:limit]]


@router.get("/cases/policy", response=SuggestionOut)
def case_policy(request, order_id: str | None = None, reason: CaseReason | None = None, shop: str | None = None,
                sku: str | None = None,
                worn: bool = False, refused: bool = False, responsible: str | None = None,
                new_item_price: str | None = None, override_reason: str = ""):
    """The policy's suggestion for an order and a reason: handling, who pays which shipping, the price
    difference of an exchange (`new_item_price`) and whether to escalate. It suggests; you decide."""
    shop_obj, _member = request.auth.shop_for(shop)
    if not order_id:
        raise KefuError("required", field="order_id")
    if not reason:
        raise KefuError("required", field="reason")
    order = sel.order_get_in_shop(shop=shop_obj, order_id=order_id)
    days = sel.days_since_signed(order)
    price = sel.item_price(order, sku)
    s = policy_suggest(reason=reason, responsible=responsible, days_since_signed=days, worn=worn,
                       refused=refused, item_price=price, new_item_price=new_item_price,
                       override_reason=override_reason)
    return {**s.__dict__, "case_type": s.case_type, "days_since_signed": days, "item_price": price}


@router.get("/cases/{case_id}", response=CaseOut)
def case_get(request, case_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return case_out(sel.case_get_for_user(shop=shop_obj, member=member, id=case_id))


@router.post("/cases/{case_id}/transition", response={200: CaseOut, 409: dict})
def case_transition_post(request, case_id: int, payload: TransitionIn, shop: str | None = None):
    """Move a case along its state machine. Send the `version` you read as `expected_version`:
    if someone changed the case since, the answer is 409 `stale_version` (reload and retry)."""
    shop_obj, member = request.auth.shop_for(shop)
    case = sel.case_get_for_user(shop=shop_obj, member=member, id=case_id)
    try:
        services.case_transition(shop=shop_obj, case=case, to=payload.to, actor_agent=member,
                                 expected_version=payload.expected_version, note=payload.note)
    except KefuError as exc:
        if exc.code == CaseErrorCode.STALE_VERSION:
            return Status(409, exc.as_dict())
        raise
    return case_out(sel.case_get_for_user(shop=shop_obj, member=member, id=case_id))
