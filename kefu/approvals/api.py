"""Money actions, approvals and authority limits (PRE-4) under /api/v1/."""

from django.http import Http404
from ninja import Query, Router, Status

from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, PermissionDenied
from kefu.customers.models import Customer
from kefu.orders.models import Order

from . import selectors as sel
from . import services
from .authority import authority_check
from .enums import LIMIT_EDITOR_ROLES, ApprovalErrorCode, MoneyKind
from .models import ApprovalRequest, MoneyAction
from .schemas import (
    ApprovalOut,
    ApprovalRequestOut,
    DecideIn,
    LimitsIn,
    LimitsOut,
    MoneyActionIn,
    MoneyActionOut,
    NotificationOut,
    RejectIn,
)

router = Router(tags=["approvals"], auth=AUTH)


def _person(member):
    if member is None:
        raise KefuError("a logged-in person must make this request (not an integration token)",
                        field="auth", code=ApprovalErrorCode.PERSON_REQUIRED)
    return member


def money_action_out(a: MoneyAction) -> dict:
    return {"id": a.pk, "kind": a.kind, "amount": a.amount, "reason": a.reason,
            "order_id": a.order.order_id if a.order_id else None,
            "buyer_id": a.customer.buyer_id if a.customer_id else None,
            "requested_by": a.requested_by.name, "approved_by": a.approved_by.name if a.approved_by_id else None,
            "approval_id": a.request_id,
            "executed_at": a.executed_at}


def approval_out(r: ApprovalRequest) -> dict:
    return {"id": r.pk, "state": r.state, "kind": r.kind, "amount": r.amount, "reason": r.reason,
            "order_id": r.order.order_id if r.order_id else None,
            "buyer_id": r.customer.buyer_id if r.customer_id else None,
            "requested_by": r.requested_by.name, "decided_by": r.decided_by.name if r.decided_by_id else None,
            "decided_at": r.decided_at, "decision_reason": r.decision_reason, "created_at": r.created_at}


@router.post("/money-actions", response={200: ApprovalRequestOut, 201: ApprovalRequestOut})
def money_action_post(request, payload: MoneyActionIn, shop: str | None = None):
    """Ask for a price change (改价/优惠), compensation (补偿) or free order (免单).

    Within your authority it is executed at once (`outcome: executed`); above it, it waits for an
    approver (`outcome: pending`). Send a `request_id` to make resends safe: the same key returns
    the first answer (200) instead of creating a second action.
    """
    shop_obj, member = request.auth.shop_for(shop)
    member = _person(member)
    order = customer = None
    if payload.order_id:
        order = Order.objects.filter(shop=shop_obj, order_id=payload.order_id).select_related("customer").first()
        if order is None:
            raise Http404("order")
    if payload.buyer_id:
        customer = Customer.objects.filter(shop=shop_obj, buyer_id=payload.buyer_id).first()
        if customer is None:
            raise Http404("customer")
    result = services.money_action_request(
        shop=shop_obj, agent=member, kind=payload.kind, amount=payload.amount, reason=payload.reason,
        order=order, customer=customer, request_id=payload.request_id or "")
    d = result.decision
    body = {"outcome": result.outcome, "replayed": result.replayed,
            "decision": {"allowed": d.allowed, "kind": d.kind, "amount": d.amount, "limit": d.limit,
                         "source": d.source, "approver_roles": list(d.approver_roles)},
            "money_action": money_action_out(result.money_action) if result.money_action else None,
            "approval": approval_out(result.approval) if result.approval else None}
    return Status(200 if result.replayed else 201, body)


@router.get("/money-actions", response=list[MoneyActionOut])
def money_actions_get(request, shop: str | None = None, kind: MoneyKind | None = None, order_id: str | None = None,
                      limit: int = Query(100, ge=1, le=1000)):
    """Executed money actions, newest first: who asked, why, who approved. Agents see their own."""
    shop_obj, member = request.auth.shop_for(shop)
    return [money_action_out(a) for a in sel.money_actions_for(shop=shop_obj, member=member, kind=kind,
                                                               order_id=order_id)[:limit]]


@router.get("/approvals/pending", response=list[ApprovalOut])
def approvals_pending(request, shop: str | None = None):
    """The pending requests you may decide (within your authority, not your own), oldest first."""
    shop_obj, member = request.auth.shop_for(shop)
    member = _person(member)
    return [approval_out(r) for r in sel.approvals_pending_for(shop=shop_obj, member=member)]


@router.get("/approvals/{approval_id}", response=ApprovalOut)
def approval_get(request, approval_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return approval_out(sel.approval_get_for_user(shop=shop_obj, member=member, id=approval_id))


def _decide(request, approval_id: int, shop: str | None, approve: bool, reason: str | None):
    shop_obj, member = request.auth.shop_for(shop)
    member = _person(member)
    sel.approval_get_for_user(shop=shop_obj, member=member, id=approval_id)  # 404 if not visible
    req = services.approval_decide(shop=shop_obj, approval_id=approval_id, approver=member, approve=approve,
                                   reason=reason or "")
    return approval_out(sel.approval_get_for_user(shop=shop_obj, member=member, id=req.pk))


@router.post("/approvals/{approval_id}/approve", response=ApprovalOut)
def approval_approve(request, approval_id: int, payload: DecideIn, shop: str | None = None):
    """Approve and execute (exactly once). `already_decided` if someone was faster."""
    return _decide(request, approval_id, shop, True, payload.reason)


@router.post("/approvals/{approval_id}/reject", response=ApprovalOut)
def approval_reject(request, approval_id: int, payload: RejectIn, shop: str | None = None):
    """Reject, with the reason the requester will read."""
    return _decide(request, approval_id, shop, False, payload.reason)


@router.post("/approvals/{approval_id}/cancel", response=ApprovalOut)
def approval_cancel(request, approval_id: int, payload: DecideIn, shop: str | None = None):
    """The requester withdraws a pending request."""
    shop_obj, member = request.auth.shop_for(shop)
    member = _person(member)
    sel.approval_get_for_user(shop=shop_obj, member=member, id=approval_id)
    services.approval_cancel(shop=shop_obj, approval_id=approval_id, agent=member, reason=payload.reason or "")
    return approval_out(sel.approval_get_for_user(shop=shop_obj, member=member, id=approval_id))


@router.get("/authority/check", response=dict)
def authority_check_get(request, kind: str | None = None, amount: str | None = None, shop: str | None = None):
    """Whether you may execute this money action yourself, and who must approve it otherwise."""
    shop_obj, member = request.auth.shop_for(shop)
    member = _person(member)
    d = authority_check(shop=shop_obj, agent=member, kind=kind, amount=amount)
    return {"allowed": d.allowed, "kind": d.kind, "amount": str(d.amount),
            "limit": None if d.limit is None else str(d.limit), "source": d.source,
            "approver_roles": list(d.approver_roles)}


@router.get("/authority/limits", response=LimitsOut)
def limits_get(request, shop: str | None = None):
    """Authority per role and money kind (null = unlimited) and the per-person overrides."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not member.has_role(*LIMIT_EDITOR_ROLES):
        raise PermissionDenied("managers and admins only")
    return sel.limits_overview(shop=shop_obj)


@router.put("/authority/limits", response=LimitsOut)
def limits_put(request, payload: LimitsIn, shop: str | None = None):
    """Set limits: `{"limits": [{"role": "agent", "kind": "discount", "limit": 30}, {"agent_id": 5,
    "kind": "free_order", "unlimited": true}, {"role": "agent", "kind": "compensation", "reset": true}]}`."""
    shop_obj, member = request.auth.shop_for(shop)
    member = _person(member)
    changes = []
    for i, item in enumerate(payload.limits):
        agent = None
        if item.agent_id is not None:
            agent = sel.agent_get_in_shop(shop=shop_obj, id=item.agent_id)
        if item.limit is None and not item.unlimited and not item.reset:
            raise KefuError("give a limit, or unlimited: true, or reset: true", field=f"limits.{i}.limit")
        if item.limit is not None and item.unlimited:
            raise KefuError("a limit and unlimited: true contradict each other", field=f"limits.{i}.limit")
        changes.append(services.LimitChange(kind=item.kind, role=item.role or "", agent=agent,
                                            limit=None if item.unlimited else item.limit, reset=item.reset))
    services.authority_limits_update(shop=shop_obj, editor=member, changes=changes)
    return sel.limits_overview(shop=shop_obj)


@router.get("/notifications", response=list[NotificationOut])
def notifications_get(request, shop: str | None = None):
    """Your in-app notifications (requests to decide, decisions on your requests), newest first."""
    shop_obj, member = request.auth.shop_for(shop)
    member = _person(member)
    return sel.notifications_for(member=member)
