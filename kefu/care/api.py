"""Customer care under /api/v1/: care settings, revisit plans and revisits (CRM-2), care messages,
replies and opt-outs (CRM-3), surprises and their monthly cost (CRM-4), churn watch (CRM-5)."""

import datetime as dt

from django.http import Http404
from ninja import Query, Router, Status

from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import MAX_OFFSET
from kefu.core.models import Agent
from kefu.customers.selectors import customer_find, customer_get_for_user

from . import campaigns, churn, services, surprises
from . import selectors as sel
from .enums import ChurnReason, OptOutSource
from .models import CareCampaign, RevisitPlan, Surprise
from .schemas import (
    AtRiskOut,
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    CareCheckIn,
    CareReplyIn,
    CareReplyOut,
    CareReportOut,
    CareSettingsIn,
    CareSettingsOut,
    CostsOut,
    CountOut,
    OptOutIn,
    OptOutOut,
    PlanIn,
    PlanOut,
    PlanPatch,
    ReassignIn,
    RecordIn,
    RevisitOut,
    ScanOut,
    ScheduleIn,
    SurpriseIn,
    SurpriseOut,
    WarningOut,
)

router = Router(tags=["care"], auth=AUTH)


def _staff(request, shop):
    shop_obj, member = request.auth.shop_for(shop)
    if not sel.is_care_staff(member):
        raise PermissionDenied("care owners (专属客服), supervisors and managers only")
    return shop_obj, member


# ---------------------------------------------------------------- settings

def settings_out(s) -> dict:
    owners = list(s.owners.order_by("name"))
    return {"owners": [a.name for a in owners], "owner_ids": [a.pk for a in owners], "cap_count": s.cap_count,
            "cap_days": s.cap_days, "reply_window_days": s.reply_window_days,
            "repeat_min_orders": s.repeat_min_orders, "silent_factor": s.silent_factor,
            "silent_min_days": s.silent_min_days, "review_watch_days": s.review_watch_days}


@router.get("/care/settings", response=CareSettingsOut)
def care_settings_get(request, shop: str | None = None):
    shop_obj, _member = request.auth.shop_for(shop)
    return settings_out(sel.care_settings(shop_obj))


@router.post("/care/settings", response=CareSettingsOut)
def care_settings_post(request, payload: CareSettingsIn, shop: str | None = None):
    """Care owners, the frequency cap of care messages, the reply window and the churn rules
    (supervisors and up)."""
    shop_obj, member = request.auth.shop_for(shop)
    changes = {k: v for k, v in payload.dict().items() if v is not None and k != "owner_ids"}
    s = services.care_settings_update(shop=shop_obj, actor=member, owner_ids=payload.owner_ids, **changes)
    return settings_out(s)


# ---------------------------------------------------------------- revisit plans and revisits

def plan_out(p: RevisitPlan, outcomes: dict | None = None) -> dict:
    return {"id": p.pk, "name": p.name, "segment": p.segment, "cadence_days": p.cadence_days,
            "questions": p.questions, "assignee_ids": sorted(a.pk for a in p.assignees.all()),
            "per_owner_daily": p.per_owner_daily, "active": p.active, "outcomes": outcomes or {}}


@router.get("/revisit-plans", response=list[PlanOut])
def plans_get(request, shop: str | None = None):
    shop_obj, _member = _staff(request, shop)
    plans = list(RevisitPlan.objects.filter(shop=shop_obj).prefetch_related("assignees"))
    outcomes = sel.plan_outcomes(shop=shop_obj, plan_ids=[p.pk for p in plans])
    return [plan_out(p, outcomes.get(p.pk)) for p in plans]


@router.post("/revisit-plans", response={201: PlanOut})
def plan_post(request, payload: PlanIn, shop: str | None = None):
    """A revisit plan (CRM-2): its buyers (segment), cadence, questions and who calls."""
    shop_obj, member = request.auth.shop_for(shop)
    p = services.revisit_plan_save(shop=shop_obj, actor=member, **payload.dict())
    return Status(201, plan_out(p))


@router.post("/revisit-plans/{plan_id}", response=PlanOut)
def plan_patch(request, plan_id: int, payload: PlanPatch, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    if not RevisitPlan.objects.filter(shop=shop_obj, pk=plan_id).exists():
        raise Http404("plan")
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    p = services.revisit_plan_save(shop=shop_obj, actor=member, plan_id=plan_id, **changes)
    return plan_out(p)


@router.post("/revisit-plans/{plan_id}/generate", response=CountOut)
def plan_generate(request, plan_id: int, shop: str | None = None):
    """Put today's due buyers of the plan into the owners' lists now (the scheduler does it at 08:00)."""
    shop_obj, _member = _staff(request, shop)
    if not RevisitPlan.objects.filter(shop=shop_obj, pk=plan_id).exists():
        raise Http404("plan")
    return {"count": services.revisits_generate(shop=shop_obj, plan_id=plan_id)}


def revisit_out(r) -> dict:
    return {"id": r.pk, "plan_id": r.plan_id, "plan": r.plan.name, "buyer_id": r.customer.buyer_id,
            "owner_id": r.owner_id, "owner": r.owner.name, "due_on": r.due_on, "state": r.state,
            "outcome": r.outcome, "answers": r.answers, "done_at": r.done_at}


@router.get("/revisits", response=list[RevisitOut])
def revisits_get(request, shop: str | None = None, owner_id: int | None = None, state: str = "open",
                 plan_id: int | None = None, limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """A revisit list: agents get their own; care staff anyone's (`owner_id`). `state=` for all."""
    shop_obj, member = request.auth.shop_for(shop)
    qs = sel.revisits_for(shop=shop_obj, member=member, owner_id=owner_id, state=state or None, plan_id=plan_id)
    return [revisit_out(r) for r in qs[offset:offset + limit]]


@router.post("/revisits/{revisit_id}/record", response=RevisitOut)
def revisit_record_post(request, revisit_id: int, payload: RecordIn, shop: str | None = None):
    """Record the call: outcome, answers to the plan's questions, a note — a phone note on the
    buyer's timeline. The owner (or care staff), once."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.revisit_get_for_user(shop=shop_obj, member=member, id=revisit_id)
    r = services.revisit_record(shop=shop_obj, revisit_id=revisit_id, actor=member, outcome=payload.outcome,
                                answers=payload.answers, note=payload.note)
    return revisit_out(sel.revisit_get_for_user(shop=shop_obj, member=member, id=r.pk))


@router.post("/revisits/{revisit_id}/cancel", response=RevisitOut)
def revisit_cancel_post(request, revisit_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    sel.revisit_get_for_user(shop=shop_obj, member=member, id=revisit_id)
    r = services.revisit_cancel(shop=shop_obj, revisit_id=revisit_id, actor=member)
    return revisit_out(sel.revisit_get_for_user(shop=shop_obj, member=member, id=r.pk))


@router.post("/revisits/reassign", response=CountOut)
def revisits_reassign_post(request, payload: ReassignIn, shop: str | None = None):
    """Hand a person's open revisits and plan places to another (handover). Supervisors and up."""
    shop_obj, member = request.auth.shop_for(shop)
    people = {a.pk: a for a in Agent.objects.filter(shop=shop_obj, pk__in=[payload.from_agent_id,
                                                                           payload.to_agent_id])}
    if payload.from_agent_id not in people or payload.to_agent_id not in people:
        raise NotFound("no such person in this shop", field="to_agent_id")
    n = services.revisits_reassign(shop=shop_obj, from_agent=people[payload.from_agent_id],
                                   to_agent=people[payload.to_agent_id], actor=member)
    return {"count": n}


# ---------------------------------------------------------------- care messages

def campaign_out(c: CareCampaign) -> dict:
    return {"id": c.pk, "name": c.name, "text": c.text, "segment": c.segment, "state": c.state,
            "scheduled_at": c.scheduled_at, "warnings": c.warnings, "started_at": c.started_at,
            "finished_at": c.finished_at}


def _campaign(request, shop, campaign_id: int):
    shop_obj, member = _staff(request, shop)
    c = CareCampaign.objects.filter(shop=shop_obj, pk=campaign_id).first()
    if c is None:
        raise Http404("campaign")
    return shop_obj, member, c


@router.get("/care-campaigns", response=list[CampaignOut])
def campaigns_get(request, shop: str | None = None, limit: int = Query(100, ge=1, le=500)):
    shop_obj, _member = _staff(request, shop)
    return [campaign_out(c) for c in CareCampaign.objects.filter(shop=shop_obj)[:limit]]


@router.post("/care-campaigns", response={201: CampaignOut})
def campaign_post(request, payload: CampaignIn, shop: str | None = None):
    """A care message (draft): text with no product content, and its segment."""
    shop_obj, member = request.auth.shop_for(shop)
    return Status(201, campaign_out(campaigns.campaign_save(shop=shop_obj, actor=member, **payload.dict())))


@router.post("/care-campaigns/{campaign_id}", response=CampaignOut)
def campaign_patch(request, campaign_id: int, payload: CampaignPatch, shop: str | None = None):
    shop_obj, member, c = _campaign(request, shop, campaign_id)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return campaign_out(campaigns.campaign_save(shop=shop_obj, actor=member, campaign_id=c.pk, **changes))


@router.post("/care-campaigns/{campaign_id}/schedule", response=CampaignOut)
def campaign_schedule_post(request, campaign_id: int, payload: ScheduleIn, shop: str | None = None):
    """Schedule it; the content check must find nothing, or `accept_warnings` must be true."""
    shop_obj, member, c = _campaign(request, shop, campaign_id)
    return campaign_out(campaigns.campaign_schedule(shop=shop_obj, campaign_id=c.pk, scheduled_at=payload.scheduled_at,
                                                    actor=member, accept_warnings=payload.accept_warnings))


@router.post("/care-campaigns/{campaign_id}/cancel", response=CampaignOut)
def campaign_cancel_post(request, campaign_id: int, shop: str | None = None):
    shop_obj, member, c = _campaign(request, shop, campaign_id)
    return campaign_out(campaigns.campaign_cancel(shop=shop_obj, campaign_id=c.pk, actor=member))


@router.get("/care-campaigns/{campaign_id}/report", response=CareReportOut)
def campaign_report_get(request, campaign_id: int, shop: str | None = None):
    """Sent, failed, waiting, skipped (opted out, over the cap, no phone), replies, opt-outs."""
    shop_obj, _member, c = _campaign(request, shop, campaign_id)
    return sel.campaign_report(shop=shop_obj, campaign=c)


@router.post("/care-content-check", response=list[WarningOut])
def content_check_post(request, payload: CareCheckIn, shop: str | None = None):
    """What in a text looks like product content (product names, prices, links, promotion words)."""
    shop_obj, _member = _staff(request, shop)
    return campaigns.content_check(shop=shop_obj, text=payload.text)


@router.post("/care/replies", response={201: CareReplyOut, 200: CareReplyOut})
def care_reply_post(request, payload: CareReplyIn, shop: str | None = None):
    """The SMS connector reports a buyer's reply (by buyer id or phone); T/TD/退订 opts them out for
    good. Idempotent by reply_id."""
    shop_obj, _member = _staff(request, shop)
    if not payload.buyer_id and not payload.phone:
        raise KefuError("buyer_id or phone is required", field="buyer_id")
    reply, created = campaigns.care_reply_record(shop=shop_obj, reply_id=payload.reply_id, text=payload.text,
                                                 received_at=payload.received_at, buyer_id=payload.buyer_id,
                                                 phone=payload.phone)
    out = {"id": reply.pk, "buyer_id": reply.customer.buyer_id, "is_opt_out": reply.is_opt_out,
           "campaign_id": reply.send.campaign_id if reply.send else None, "created": created}
    return Status(201 if created else 200, out)


@router.post("/customers/{buyer_id}/opt-out", response=OptOutOut)
def opt_out_post(request, buyer_id: str, payload: OptOutIn, shop: str | None = None):
    """Record that the buyer wants no care message (e.g. said so on the phone). Forever."""
    shop_obj, member = _staff(request, shop)
    c = customer_find(shop=shop_obj, buyer_id=buyer_id)
    if c is None:
        raise Http404("customer")
    o = campaigns.opt_out_record(shop=shop_obj, customer=c, actor=member, note=payload.note,
                                 source=OptOutSource.API if member is None else OptOutSource.AGENT)
    return {"buyer_id": c.buyer_id, "source": o.source, "created_at": o.created_at}


# ---------------------------------------------------------------- surprises

def surprise_out(s: Surprise) -> dict:
    return {"id": s.pk, "buyer_id": s.customer.buyer_id, "kind": s.kind, "description": s.description,
            "reason": s.reason, "cost": s.cost, "state": s.state, "requested_by": s.requested_by.name,
            "approved_by": s.approved_by.name if s.approved_by else None, "approval_id": s.approval_id,
            "created_at": s.created_at, "decided_at": s.decided_at}


@router.get("/surprises", response=list[SurpriseOut])
def surprises_get(request, shop: str | None = None, limit: int = Query(100, ge=1, le=500),
                  offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """Surprises, newest first: yours, or every one for care staff."""
    shop_obj, member = request.auth.shop_for(shop)
    qs = sel.surprises_for(shop=shop_obj, member=member)
    return [surprise_out(s) for s in qs[offset:offset + limit]]


@router.post("/surprises", response={201: SurpriseOut})
def surprise_post(request, payload: SurpriseIn, shop: str | None = None):
    """A gift or gesture for a buyer (授权): with a cost, through the authority check — executed
    within your limit, else waiting in the approval queue. A person, not an integration."""
    shop_obj, member = request.auth.shop_for(shop)
    c = customer_find(shop=shop_obj, buyer_id=payload.buyer_id)
    if c is None:
        raise NotFound("no such buyer in this shop", field="buyer_id")
    c = customer_get_for_user(shop=shop_obj, member=member, id=c.pk)
    s = surprises.surprise_create(shop=shop_obj, customer=c, actor=member, kind=payload.kind,
                                  description=payload.description, reason=payload.reason, cost=payload.cost,
                                  request_id=payload.request_id)
    return Status(201, surprise_out(Surprise.objects.select_related("customer", "requested_by", "approved_by")
                                    .get(pk=s.pk)))


@router.post("/surprises/{surprise_id}/cancel", response=SurpriseOut)
def surprise_cancel_post(request, surprise_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    if not Surprise.objects.filter(shop=shop_obj, pk=surprise_id).exists():
        raise Http404("surprise")
    s = surprises.surprise_cancel(shop=shop_obj, surprise_id=surprise_id, actor=member)
    return surprise_out(Surprise.objects.select_related("customer", "requested_by", "approved_by").get(pk=s.pk))


@router.get("/surprises/costs", response=CostsOut)
def surprise_costs_get(request, shop: str | None = None, date_from: str = Query(..., alias="from"),
                       date_to: str = Query(..., alias="to")):
    """CRM-4's monthly cost report: approved surprises per month of approval (shop time), by kind
    and person; `from`/`to` are days (YYYY-MM-DD) of the first and last month."""
    shop_obj, _member = _staff(request, shop)
    try:
        from_, to = dt.date.fromisoformat(date_from), dt.date.fromisoformat(date_to)
    except ValueError as exc:
        raise KefuError("dates YYYY-MM-DD", field="from") from exc
    if to < from_ or (to.year - from_.year) * 12 + to.month - from_.month > 36:
        raise KefuError("from ≤ to, at most 36 months", field="to")
    return surprises.surprise_costs(shop=shop_obj, month_from=from_, month_to=to)


# ---------------------------------------------------------------- churn watch

@router.get("/churn/at-risk", response=list[AtRiskOut])
def at_risk_get(request, shop: str | None = None, reason: str = "", limit: int = Query(100, ge=1, le=1000),
                offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """Buyers at risk with their reasons (complaint, case, review, silent), newest risk first."""
    shop_obj, _member = _staff(request, shop)
    if reason and reason not in ChurnReason.values:
        raise KefuError(f"one of {', '.join(ChurnReason.values)}", field="reason")
    out = []
    for c in sel.at_risk_list(shop=shop_obj, reason=reason or None)[offset:offset + limit]:
        grade = getattr(c, "grade", None)
        out.append({"buyer_id": c.buyer_id, "nick": c.nick, "grade": grade.grade if grade else None,
                    "flags": [{"reason": f.reason, "ref_id": f.ref_id, "detail": f.detail, "raised_at": f.raised_at}
                              for f in c.open_flags]})
    return out


@router.post("/churn/scan", response=ScanOut)
def churn_scan_post(request, shop: str | None = None):
    """Scan now (the scheduler does it hourly): raise new flags, clear those whose cause is gone."""
    shop_obj, _member = _staff(request, shop)
    raised, cleared = churn.churn_scan(shop=shop_obj)
    return {"raised": raised, "cleared": cleared}
