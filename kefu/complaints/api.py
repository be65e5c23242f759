"""Complaints (CMP-1), reviews and review tasks (CMP-2), disputes (CMP-3), service ratings and CSAT
(AUTO-3, §12) and angry buyer messages under /api/v1/."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Status

from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.inputs import json_body, openapi_body
from kefu.core.models import Agent
from kefu.core.timeutil import shop_day
from kefu.customers.models import Customer
from kefu.orders.models import Order

from . import ratings, reviews, services
from . import selectors as sel
from .enums import STATE_OF_STEP, ComplaintStep
from .models import Complaint, Dispute, RatingInvitation, Review, ReviewTask
from .schemas import (
    AgainstOut,
    AngryOut,
    AssignIn,
    CheckIn,
    ComplaintActIn,
    ComplaintIn,
    ComplaintOut,
    CsatOut,
    DisputeActIn,
    DisputeIn,
    DisputeOut,
    InvitationIn,
    InvitationOut,
    RangeQuery,
    RatingOut,
    RemedyIn,
    ReviewBatchIn,
    ReviewImportOut,
    ReviewIn,
    ReviewTaskOut,
    RevisionOut,
    RevisitIn,
    ServiceRatingBatchIn,
    ServiceRatingIn,
    TaskActIn,
    VerdictIn,
)

router = Router(tags=["complaints"], auth=AUTH)


def _agent(shop, agent_id: int | None) -> Agent | None:
    if agent_id is None:
        return None
    agent = Agent.objects.filter(shop=shop, pk=agent_id, active=True).first()
    if agent is None:
        raise Http404("agent")
    return agent


def _range(shop, q: RangeQuery) -> tuple[dt.date, dt.date]:
    date_to = q.date_to or shop_day(timezone.now(), shop.tz)
    date_from = q.date_from or date_to - dt.timedelta(days=29)
    if date_from > date_to:
        raise KefuError("from must not be after to", field="from")
    return date_from, date_to


def _events(events) -> list[dict]:
    return [{"action": e.action, "from_state": e.from_state, "to_state": e.to_state,
             "actor": e.actor.name if e.actor_id else None, "note": e.note, "created_at": e.created_at}
            for e in events]


def complaint_out(c: Complaint, detail: bool = False) -> dict:
    record = getattr(c, "agent_record", None) if c.against_id else None
    money = "executed" if c.remedy_money_action_id else "pending" if c.remedy_approval_id else None
    out = {"id": c.pk, "source": c.source, "category": c.category, "buyer_type": c.buyer_type, "state": c.state,
           "summary": c.summary, "buyer_id": c.customer.buyer_id if c.customer_id else None,
           "order_id": c.order.order_id if c.order_id else None, "owner_id": c.owner_id, "owner": c.owner.name,
           "against_id": c.against_id, "against": c.against.name if c.against_id else None,
           "verdict": record.verdict if record else None, "remedy_kind": c.remedy_kind, "remedy_text": c.remedy_text,
           "remedy_amount": c.remedy_amount, "remedy_money": money, "revisit_on": c.revisit_on,
           "negativity": c.negativity, "created_at": c.created_at, "closed_at": c.closed_at}
    if detail:
        out["checklist"] = checklist(c)
        out["events"] = _events(c.events.all())
    return out


def checklist(c: Complaint) -> list[dict]:
    done = {k.step: k for k in c.checks.all()}
    return [{"step": s, "label": str(label), "stage": STATE_OF_STEP[s], "done": s in done,
             "done_by": done[s].done_by.name if s in done and done[s].done_by_id else None,
             "done_at": done[s].done_at if s in done else None} for s, label in ComplaintStep.choices]


# ---------------------------------------------------------------- complaints

@router.get("/complaints", response=list[ComplaintOut])
def complaints_get(request, shop: str | None = None, state: str | None = None, owner_id: int | None = None,
                   limit: int = Query(100, ge=1, le=1000)):
    """Complaints, newest first: an agent's own, or the whole shop for supervisors and integrations."""
    shop_obj, member = request.auth.shop_for(shop)
    return [complaint_out(c) for c in sel.complaints_for(shop=shop_obj, member=member, state=state,
                                                          owner_id=owner_id)[:limit]]


@router.post("/complaints", response={201: ComplaintOut})
def complaint_post(request, payload: ComplaintIn, shop: str | None = None):
    """Register a complaint from a buyer or a colleague (optionally against an agent)."""
    shop_obj, member = request.auth.shop_for(shop)
    customer = order = None
    if payload.buyer_id:
        customer = Customer.objects.filter(shop=shop_obj, buyer_id=payload.buyer_id).first()
        if customer is None:
            raise Http404("customer")
    if payload.order_id:
        order = Order.objects.filter(shop=shop_obj, order_id=payload.order_id).first()
        if order is None:
            raise Http404("order")
    c = services.complaint_create(shop=shop_obj, source=payload.source, category=payload.category,
                                  summary=payload.summary, actor=member, customer=customer, order=order,
                                  against=_agent(shop_obj, payload.against_id), owner=_agent(shop_obj, payload.owner_id),
                                  buyer_type=payload.buyer_type, revisit_on=payload.revisit_on)
    return Status(201, complaint_out(sel.complaint_get_for_user(shop=shop_obj, member=None, id=c.pk), detail=True))


@router.get("/complaints/against", response=list[AgainstOut])
def complaints_against_get(request, q: Query[RangeQuery], agent_id: int | None = None, verdict: str | None = "upheld"):
    """Complaints against one agent in the shop days [from, to] (default: upheld only; `verdict=` for all)."""
    shop_obj, member = request.auth.shop_for(q.shop)
    if agent_id is None:
        raise KefuError("required", field="agent_id")
    agent = _agent(shop_obj, agent_id)
    if member is not None and member.pk != agent.pk and not sel.sees_whole_shop(member):
        raise Http404("agent")
    date_from, date_to = _range(shop_obj, q)
    rows = sel.complaints_against(shop=shop_obj, agent=agent, date_from=date_from, date_to=date_to,
                                  verdict=verdict or None)
    return [{"complaint_id": r.complaint_id, "agent_id": r.agent_id, "day": r.day, "category": r.category,
             "verdict": r.verdict} for r in rows]


@router.get("/complaints/{complaint_id}", response=ComplaintOut)
def complaint_get(request, complaint_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return complaint_out(sel.complaint_get_for_user(shop=shop_obj, member=member, id=complaint_id), detail=True)


def _complaint_after(request, shop_obj, member, complaint_id):
    return complaint_out(sel.complaint_get_for_user(shop=shop_obj, member=member, id=complaint_id), detail=True)


@router.post("/complaints/{complaint_id}/transition", response=ComplaintOut)
def complaint_transition(request, complaint_id: int, payload: ComplaintActIn, shop: str | None = None):
    """`advance` to the next stage (its checklist steps done), `close` after the revisit, or `dismiss`."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.complaint_get_for_user(shop=shop_obj, member=member, id=complaint_id)
    services.complaint_act(shop=shop_obj, complaint_id=complaint_id, action=payload.action, actor=member,
                           note=payload.note)
    return _complaint_after(request, shop_obj, member, complaint_id)


@router.post("/complaints/{complaint_id}/check", response=ComplaintOut)
def complaint_check(request, complaint_id: int, payload: CheckIn, shop: str | None = None):
    """Tick one of the seven steps of seed 003."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.complaint_get_for_user(shop=shop_obj, member=member, id=complaint_id)
    services.complaint_check(shop=shop_obj, complaint_id=complaint_id, step=payload.step, actor=member,
                             note=payload.note)
    return _complaint_after(request, shop_obj, member, complaint_id)


@router.post("/complaints/{complaint_id}/remedy", response=ComplaintOut)
def complaint_remedy(request, complaint_id: int, payload: RemedyIn, shop: str | None = None):
    """Choose the remedy; a compensation `amount` goes through the approvals module (a person only)."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.complaint_get_for_user(shop=shop_obj, member=member, id=complaint_id)
    services.complaint_remedy(shop=shop_obj, complaint_id=complaint_id, kind=payload.kind, text=payload.text,
                              amount=payload.amount, revisit_on=payload.revisit_on, actor=member)
    return _complaint_after(request, shop_obj, member, complaint_id)


@router.post("/complaints/{complaint_id}/revisit", response=ComplaintOut)
def complaint_revisit(request, complaint_id: int, payload: RevisitIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    sel.complaint_get_for_user(shop=shop_obj, member=member, id=complaint_id)
    services.complaint_revisit_set(shop=shop_obj, complaint_id=complaint_id, revisit_on=payload.revisit_on,
                                   actor=member)
    return _complaint_after(request, shop_obj, member, complaint_id)


@router.post("/complaints/{complaint_id}/verdict", response=ComplaintOut)
def complaint_verdict(request, complaint_id: int, payload: VerdictIn, shop: str | None = None):
    """Supervisors and up: is the complaint against the agent upheld?"""
    shop_obj, member = request.auth.shop_for(shop)
    sel.complaint_get_for_user(shop=shop_obj, member=member, id=complaint_id)
    services.complaint_verdict(shop=shop_obj, complaint_id=complaint_id, verdict=payload.verdict, actor=member,
                               note=payload.note)
    return _complaint_after(request, shop_obj, member, complaint_id)


# ---------------------------------------------------------------- reviews

@router.post("/reviews", response=ReviewImportOut, openapi_extra=openapi_body(ReviewIn, ReviewBatchIn))
def reviews_post(request, shop: str | None = None):
    """One review or `{"reviews": [...]}` (≤ 1,000), idempotent by review_id, all or nothing; each
    medium/bad review gets one task. Errors name the index and the field."""
    shop_obj, member = request.auth.shop_for(shop)
    raws = json_body(request, list_key="reviews", limit=settings.KEFU_MAX_BATCH)
    rows = reviews.reviews_clean(raws, tz=shop_obj.tz, first_row=0)
    return reviews.reviews_ingest(shop=shop_obj, rows=rows, first_row=0, actor=member).__dict__


def task_out(t: ReviewTask, detail: bool = False) -> dict:
    r = t.review
    out = {"id": t.pk, "review_id": r.review_id, "level": r.level, "rating": r.rating, "text": r.text,
           "buyer_id": r.customer.buyer_id, "order_id": r.order_ref, "agent_id": r.agent_id,
           "agent_source": r.agent_source, "owner_id": t.owner_id, "state": t.state, "priority": t.priority,
           "contact_count": t.contact_count, "resolution": t.resolution, "outcome": t.outcome,
           "created_at": t.created_at, "closed_at": t.closed_at}
    if detail:
        out["events"] = _events(t.events.all())
    return out


@router.get("/review-tasks", response=list[ReviewTaskOut])
def review_tasks_get(request, shop: str | None = None, state: str = "active", owner_id: int | None = None,
                     limit: int = Query(100, ge=1, le=1000)):
    """Review tasks by priority (bad and angrier first); `state=active` (default), a state, or `all`."""
    shop_obj, member = request.auth.shop_for(shop)
    qs = sel.review_tasks_for(shop=shop_obj, member=member, state=None if state == "all" else state,
                              owner_id=owner_id)
    return [task_out(t) for t in qs[:limit]]


@router.get("/review-tasks/revision-rates", response=list[RevisionOut])
def revision_rates_get(request, q: Query[RangeQuery]):
    """Revised / closed review tasks per agent (closed in [from, to]); the last row is the shop."""
    shop_obj, member = request.auth.shop_for(q.shop)
    date_from, date_to = _range(shop_obj, q)
    rows, total = sel.revision_rates(shop=shop_obj, date_from=date_from, date_to=date_to)
    if member is not None and not sel.sees_whole_shop(member):
        rows = [r for r in rows if r.agent_id == member.pk]
    return [{**r.__dict__, "revision_rate": r.revision_rate} for r in [*rows, total]]


@router.get("/review-tasks/{task_id}", response=ReviewTaskOut)
def review_task_get(request, task_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return task_out(sel.review_task_get_for_user(shop=shop_obj, member=member, id=task_id), detail=True)


@router.post("/review-tasks/{task_id}/transition", response=ReviewTaskOut)
def review_task_transition(request, task_id: int, payload: TaskActIn, shop: str | None = None):
    """`contact` the buyer, `resolve` (with the resolution), `close` with the revision outcome."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.review_task_get_for_user(shop=shop_obj, member=member, id=task_id)
    reviews.review_task_act(shop=shop_obj, task_id=task_id, action=payload.action, actor=member, note=payload.note,
                            resolution=payload.resolution, outcome=payload.outcome)
    return task_out(sel.review_task_get_for_user(shop=shop_obj, member=member, id=task_id), detail=True)


@router.post("/review-tasks/{task_id}/assign", response=ReviewTaskOut)
def review_task_assign(request, task_id: int, payload: AssignIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    sel.review_task_get_for_user(shop=shop_obj, member=member, id=task_id)
    reviews.review_task_assign(shop=shop_obj, task_id=task_id, owner=_agent(shop_obj, payload.owner_id), actor=member)
    return task_out(sel.review_task_get_for_user(shop=shop_obj, member=member, id=task_id), detail=True)


# ---------------------------------------------------------------- disputes

def dispute_out(d: Dispute, detail: bool = False) -> dict:
    out = {"id": d.pk, "kind": d.kind, "state": d.state, "description": d.description,
           "order_id": d.order.order_id if d.order_id else None,
           "review_id": d.review.review_id if detail and d.review_id else None, "platform_ref": d.platform_ref,
           "outcome": d.outcome, "owner_id": d.owner_id, "created_at": d.created_at, "submitted_at": d.submitted_at,
           "closed_at": d.closed_at}
    if detail:
        out["evidence"] = [{"id": e.pk, "name": e.name, "size": e.size, "content_type": e.content_type,
                            "note": e.note, "uploaded_at": e.uploaded_at} for e in d.evidence.all()]
        out["events"] = _events(d.events.all())
    return out


@router.get("/disputes", response=list[DisputeOut])
def disputes_get(request, shop: str | None = None, state: str | None = None, limit: int = Query(100, ge=1, le=1000)):
    shop_obj, member = request.auth.shop_for(shop)
    return [dispute_out(d) for d in sel.disputes_for(shop=shop_obj, member=member, state=state)[:limit]]


@router.post("/disputes", response={201: DisputeOut})
def dispute_post(request, payload: DisputeIn, shop: str | None = None):
    """A dispute raised to the platform (e.g. an extra item the buyer denies), to be filled with evidence."""
    shop_obj, member = request.auth.shop_for(shop)
    order = review = None
    if payload.order_id:
        order = Order.objects.filter(shop=shop_obj, order_id=payload.order_id).first()
        if order is None:
            raise Http404("order")
    if payload.review_id:
        review = Review.objects.filter(shop=shop_obj, review_id=payload.review_id).first()
        if review is None:
            raise Http404("review")
    d = reviews.dispute_create(shop=shop_obj, kind=payload.kind, description=payload.description, actor=member,
                               owner=_agent(shop_obj, payload.owner_id), order=order, review=review,
                               platform_ref=payload.platform_ref)
    return Status(201, dispute_out(sel.dispute_get_for_user(shop=shop_obj, member=None, id=d.pk), detail=True))


@router.get("/disputes/{dispute_id}", response=DisputeOut)
def dispute_get(request, dispute_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return dispute_out(sel.dispute_get_for_user(shop=shop_obj, member=member, id=dispute_id), detail=True)


@router.post("/disputes/{dispute_id}/transition", response=DisputeOut)
def dispute_transition(request, dispute_id: int, payload: DisputeActIn, shop: str | None = None):
    """`submit` (with evidence attached), then `win`/`lose` with the outcome, or `withdraw`."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.dispute_get_for_user(shop=shop_obj, member=member, id=dispute_id)
    reviews.dispute_act(shop=shop_obj, dispute_id=dispute_id, action=payload.action, actor=member, note=payload.note)
    return dispute_out(sel.dispute_get_for_user(shop=shop_obj, member=member, id=dispute_id), detail=True)


EVIDENCE_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}, "note": {"type": "string"}}}}}}}


@router.post("/disputes/{dispute_id}/evidence", response={201: DisputeOut}, openapi_extra=EVIDENCE_BODY)
def dispute_evidence(request, dispute_id: int, shop: str | None = None):
    """Attach one evidence file (multipart `file`, ≤ 10 MB; jpg/png/gif/webp/pdf/mp4/txt)."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.dispute_get_for_user(shop=shop_obj, member=member, id=dispute_id)
    upload = request.FILES.get("file")
    if upload is None:
        raise KefuError("attach a file (multipart field 'file')", field="file")
    reviews.dispute_evidence_add(shop=shop_obj, dispute_id=dispute_id, upload=upload, actor=member,
                                 note=request.POST.get("note"))
    return Status(201, dispute_out(sel.dispute_get_for_user(shop=shop_obj, member=member, id=dispute_id),
                                   detail=True))


# ---------------------------------------------------------------- service ratings and CSAT

def invitation_out(inv: RatingInvitation, created: bool | None = None) -> dict:
    rating = getattr(inv, "rating", None)
    return {"id": inv.pk, "agent_id": inv.agent_id, "buyer_id": inv.customer.buyer_id, "day": inv.day,
            "state": inv.state, "outbox_ref": inv.outbox_ref, "score": rating.score if rating else None,
            "created": created}


@router.get("/rating-invitations", response=list[InvitationOut])
def invitations_get(request, shop: str | None = None, day: dt.date | None = None,
                    limit: int = Query(100, ge=1, le=1000)):
    shop_obj, member = request.auth.shop_for(shop)
    return [invitation_out(i) for i in sel.invitations_for(shop=shop_obj, member=member, day=day)[:limit]]


@router.post("/rating-invitations", response=InvitationOut)
def invitation_post(request, payload: InvitationIn, shop: str | None = None):
    """Invite a reception's buyer to rate the service (once per agent, buyer and day), sent through
    the outbound channel."""
    shop_obj, member = request.auth.shop_for(shop)
    customer = Customer.objects.filter(shop=shop_obj, buyer_id=payload.buyer_id).first()
    if customer is None:
        raise Http404("customer")
    inv, created = ratings.rating_invite(shop=shop_obj, agent=_agent(shop_obj, payload.agent_id), customer=customer,
                                         day=payload.day, actor=member)
    return invitation_out(inv, created)


@router.post("/service-ratings", response=RatingOut, openapi_extra=openapi_body(ServiceRatingIn, ServiceRatingBatchIn))
def ratings_post(request, shop: str | None = None):
    """One rating or `{"ratings": [...]}` (≤ 1,000), all or nothing; a resend of the same rating is a duplicate."""
    shop_obj, member = request.auth.shop_for(shop)
    raws = json_body(request, list_key="ratings", limit=settings.KEFU_MAX_BATCH)
    errors, items = [], []
    for i, raw in enumerate(raws):
        inv = raw.get("invitation_id")
        if isinstance(inv, bool) or not isinstance(inv, int):
            errors.append({"row": i, "field": "invitation_id", "message": "must be an integer"})
            continue
        items.append((i, raw))
    if errors:
        raise ValidationFailed(errors)
    created = duplicates = 0
    with transaction.atomic():
        for i, raw in items:
            try:
                _, new = ratings.rating_record(shop=shop_obj, invitation_id=raw["invitation_id"],
                                               score=raw.get("score"), comment=raw.get("comment"),
                                               rated_at=raw.get("rated_at"), actor=member)
            except KefuError as exc:
                errors.append({"row": i, "field": exc.field, "message": exc.message})
                continue
            created += new
            duplicates += not new
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationFailed(errors)
    return {"created": created, "duplicates": duplicates}


@router.get("/csat", response=list[CsatOut])
def csat_get(request, q: Query[RangeQuery]):
    """CSAT (satisfied / rated invitations) and 邀评率 (invitations / replied receptions) per agent,
    over receptions of the shop days [from, to]."""
    shop_obj, member = request.auth.shop_for(q.shop)
    date_from, date_to = _range(shop_obj, q)
    rows = sel.csat_table(shop=shop_obj, date_from=date_from, date_to=date_to, member=member)
    return [{**r.__dict__, "csat": r.csat, "invite_rate": r.invite_rate} for r in rows]


@router.get("/angry-messages", response=list[AngryOut])
def angry_messages_get(request, shop: str | None = None, hours: int = Query(24, ge=1, le=168)):
    """Buyer messages of the last hours that read as angry (threats, insults, 差评/投诉/退款 …), angriest first."""
    shop_obj, member = request.auth.shop_for(shop)
    return [{"message_id": a.message.message_id, "buyer_id": a.message.customer.buyer_id,
             "agent_id": a.message.agent_id, "sent_at": a.message.sent_at, "text": a.message.text, "anger": a.anger,
             "score": a.score, "terms": [t for t, _ in a.hits]}
            for a in sel.angry_messages(shop=shop_obj, member=member, hours=hours)]
