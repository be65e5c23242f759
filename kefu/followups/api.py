"""Follow-ups (PRE-1, PRE-2, PRE-3) under /api/v1/."""

import datetime as dt

from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Status

from kefu.core.access import sees_whole_shop
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.timeutil import shop_day
from kefu.customers.models import Customer
from kefu.orders.models import Order

from . import selectors as sel
from . import services
from .enums import FollowUpKind, FollowUpState
from .models import FollowUp
from .schemas import FiguresOut, FiguresQuery, FollowUpIn, FollowUpOut, FollowUpTransitionIn

router = Router(tags=["followups"], auth=AUTH)


def followup_out(f: FollowUp) -> dict:
    return {"id": f.pk, "kind": f.kind, "state": f.state, "reason": f.reason, "owner_id": f.owner_id,
            "owner": f.owner.name, "buyer_id": f.customer.buyer_id,
            "order_id": f.order.order_id if f.order_id else None, "next_contact_at": f.next_contact_at,
            "due_at": f.due_at, "outcome": f.outcome, "note": f.note, "contact_count": f.contact_count,
            "created_at": f.created_at, "closed_at": f.closed_at}


@router.get("/followups", response=list[FollowUpOut])
def followups_get(request, shop: str | None = None, scope: str = "mine", kind: FollowUpKind | None = None,
                  state: FollowUpState | None = None, owner_id: int | None = None,
                  limit: int = Query(100, ge=1, le=1000)):
    """Follow-ups, newest first. `scope=mine` (default for a person) or `scope=shop` (supervisors and
    up; an integration token always sees the shop)."""
    shop_obj, member = request.auth.shop_for(shop)
    if scope not in ("mine", "shop"):
        raise KefuError("scope must be mine or shop", field="scope")
    if member is not None:
        if scope == "shop" and not sees_whole_shop(member):
            raise PermissionDenied("supervisors and up see the whole shop", field="scope")
        if scope == "mine":
            owner_id = member.pk
    qs = sel.followups_for(shop=shop_obj, member=member, owner_id=owner_id, kind=kind, state=state)
    return [followup_out(f) for f in qs[:limit]]


@router.post("/followups", response={201: FollowUpOut})
def followup_post(request, payload: FollowUpIn, shop: str | None = None):
    """Log a lead (咨询未拍) or a question promised an answer (待查问题, `due_at` ≤ 24 h)."""
    shop_obj, member = request.auth.shop_for(shop)
    customer = Customer.objects.filter(shop=shop_obj, buyer_id=payload.buyer_id).first()
    if customer is None:
        raise Http404("customer")
    order = None
    if payload.order_id:
        order = Order.objects.filter(shop=shop_obj, order_id=payload.order_id).first()
        if order is None:
            raise Http404("order")
    owner = sel.agent_get_in_shop(shop=shop_obj, id=payload.owner_id) if payload.owner_id is not None else None
    fu = services.followup_create(shop=shop_obj, kind=payload.kind, customer=customer, order=order, owner=owner,
                                  actor=member, reason=payload.reason, note=payload.note,
                                  next_contact_at=payload.next_contact_at, due_at=payload.due_at)
    return Status(201, followup_out(sel.followup_get_for_user(shop=shop_obj, member=None, id=fu.pk)))


@router.get("/followups/figures", response=list[FiguresOut])
def followup_figures(request, q: Query[FiguresQuery]):
    """催付 success rate (won / closed) and recovered sales per agent over reminders closed in the
    shop days [from, to] (default: the last 30 days)."""
    shop_obj, member = request.auth.shop_for(q.shop)
    date_from, date_to = q.date_from, q.date_to
    today = shop_day(timezone.now(), shop_obj.tz)
    date_to = date_to or today
    date_from = date_from or date_to - dt.timedelta(days=29)
    if date_from > date_to:
        raise KefuError("from must not be after to", field="from")
    rows = sel.payment_reminder_figures(shop=shop_obj, date_from=date_from, date_to=date_to, member=member)
    return [{**r.__dict__, "success_rate": r.success_rate} for r in rows]


@router.get("/followups/{followup_id}", response=FollowUpOut)
def followup_get(request, followup_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return followup_out(sel.followup_get_for_user(shop=shop_obj, member=member, id=followup_id))


@router.post("/followups/{followup_id}/transition", response=FollowUpOut)
def followup_transition(request, followup_id: int, payload: FollowUpTransitionIn, shop: str | None = None):
    """Contact the buyer (`contact`, with the reason and the next contact time), close (`win`/`lose`,
    with the outcome) or `cancel`."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.followup_get_for_user(shop=shop_obj, member=member, id=followup_id)  # 404 if not visible
    services.followup_act(shop=shop_obj, followup_id=followup_id, action=payload.action, actor=member,
                          reason=payload.reason, outcome=payload.outcome, note=payload.note,
                          next_contact_at=payload.next_contact_at)
    return followup_out(sel.followup_get_for_user(shop=shop_obj, member=member, id=followup_id))
