"""Quality inspection under /api/v1/qa/…: rubric and settings, sampling and queues, reviews,
appeals and calibration, QA figures, automatic flags, typical cases, script effectiveness; product
knowledge under /api/v1/products/… and the knowledge fault of a complaint."""

import datetime as dt

from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Status

from kefu.catalog.models import Product
from kefu.conversations.selectors import conversation_get_for_user, conversation_messages
from kefu.core.access import sees_whole_shop
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.timeutil import shop_day

from . import selectors as sel
from . import services
from .effectiveness import script_effectiveness
from .flags import qa_settings
from .knowledge import knowledge_for_conversation, knowledge_search
from .models import ConversationFlag, QaAppeal, QaCategory, QaSample, TypicalCase
from .sampling import sampling_run
from .schemas import (
    AppealDecideIn,
    AppealIn,
    AppealOut,
    CalibrationOut,
    CaseScriptIn,
    CategoryIn,
    CategoryOut,
    EffectOut,
    FaultIn,
    FaultOut,
    FaultWithdrawIn,
    FlagOut,
    KnowledgeIn,
    KnowledgeOut,
    QaCaseIn,
    QaCaseOut,
    RangeQuery,
    ReviewOut,
    ReviewSaveIn,
    ReviewStartIn,
    RunIn,
    SampleOut,
    SettingsIn,
    SettingsOut,
    StatOut,
    TrendOut,
)

router = Router(tags=["quality"], auth=AUTH)


def _range(shop, q_from, q_to, days: int = 30) -> tuple[dt.date, dt.date]:
    date_to = q_to or shop_day(timezone.now(), shop.tz)
    date_from = q_from or date_to - dt.timedelta(days=days - 1)
    if date_from > date_to:
        raise KefuError("from must not be after to", field="from")
    return date_from, date_to


def _supervisor(member) -> None:
    if member is not None and not sees_whole_shop(member):
        raise PermissionDenied("supervisors and managers only", code="supervisor_only")


# ---------------------------------------------------------------- rubric and settings

@router.get("/qa/rubric", response=list[CategoryOut])
def rubric_get(request, shop: str | None = None):
    """The shop's rubric (礼貌用语, 专业准确, 响应及时, 问题解决, 主动推荐 by default)."""
    shop_obj, _ = request.auth.shop_for(shop)
    return services.rubric_ensure(shop_obj)


@router.post("/qa/rubric", response={201: CategoryOut})
def rubric_post(request, payload: CategoryIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    services.rubric_ensure(shop_obj)
    return Status(201, services.category_save(shop=shop_obj, actor=member, **payload.dict()))


@router.post("/qa/rubric/{category_id}", response=CategoryOut)
def rubric_item_post(request, category_id: int, payload: CategoryIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    if not QaCategory.objects.filter(shop=shop_obj, pk=category_id).exists():
        raise Http404("category")
    return services.category_save(shop=shop_obj, actor=member, category_id=category_id, **payload.dict())


@router.get("/qa/settings", response=SettingsOut)
def settings_get(request, shop: str | None = None):
    shop_obj, _ = request.auth.shop_for(shop)
    return qa_settings(shop_obj)


@router.post("/qa/settings", response=SettingsOut)
def settings_post(request, payload: SettingsIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return services.settings_update(shop=shop_obj, actor=member, **payload.dict())


# ---------------------------------------------------------------- sampling

def _sample_out(s: QaSample) -> dict:
    return {"id": s.pk, "agent_id": s.agent_id, "agent": s.agent.name, "buyer_id": s.customer.buyer_id, "day": s.day,
            "round_day": s.round_day, "reviewer_id": s.reviewer_id, "weight": s.weight, "reasons": s.reasons,
            "state": s.state}


@router.post("/qa/sampling/run", response=list[SampleOut])
def sampling_run_post(request, payload: RunIn, shop: str | None = None):
    """Draw a sampling round now (the scheduler does it every N days); idempotent."""
    shop_obj, member = request.auth.shop_for(shop)
    _supervisor(member)
    got = sampling_run(shop=shop_obj, round_day=payload.day)
    ids = [s.pk for s in got]
    return [_sample_out(s) for s in QaSample.objects.filter(pk__in=ids).select_related("agent", "customer")]


@router.get("/qa/queue", response=list[SampleOut])
def queue_get(request, shop: str | None = None):
    """The calling reviewer's pending samples."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is None:
        raise PermissionDenied("a reviewer's queue needs a person", code="forbidden")
    return [_sample_out(s) for s in sel.review_queue(shop=shop_obj, member=member)]


@router.get("/qa/samples", response=list[SampleOut])
def samples_get(request, shop: str | None = None, round_day: dt.date | None = None,
                limit: int = Query(200, ge=1, le=1000)):
    shop_obj, member = request.auth.shop_for(shop)
    return [_sample_out(s) for s in sel.samples_for(shop=shop_obj, member=member, round_day=round_day)[:limit]]


# ---------------------------------------------------------------- reviews

def review_out(r, detail: bool = True) -> dict:
    try:
        appeal = r.appeal
    except QaAppeal.DoesNotExist:
        appeal = None
    return {"id": r.pk, "agent_id": r.agent_id, "agent": r.agent.name, "reviewer_id": r.reviewer_id,
            "reviewer": r.reviewer.name, "buyer_id": r.customer.buyer_id, "conversation_id": r.conversation_id,
            "sample_id": r.sample_id, "calibration_of": r.calibration_of_id, "window_start": r.window_start,
            "window_end": r.window_end, "state": r.state, "score": r.score, "auto_failed": r.auto_failed,
            "summary": r.summary, "submitted_at": r.submitted_at, "acknowledged_at": r.acknowledged_at,
            "scores": sel.review_scores(r) if detail else [], "appeal": _appeal_out(appeal) if appeal else None}


def _appeal_out(a: QaAppeal) -> dict:
    return {"id": a.pk, "review_id": a.review_id, "reason": a.reason, "state": a.state,
            "score_before": a.score_before, "decided_by": a.decided_by.name if a.decided_by_id else None,
            "decided_at": a.decided_at, "decision_note": a.decision_note, "created_at": a.created_at}


@router.get("/qa/reviews", response=list[ReviewOut])
def reviews_get(request, shop: str | None = None, agent_id: int | None = None, reviewer_id: int | None = None,
                state: str | None = None, limit: int = Query(100, ge=1, le=500)):
    """Reviews this person may read: agents their own once submitted; supervisors their group's."""
    shop_obj, member = request.auth.shop_for(shop)
    qs = sel.reviews_for(shop=shop_obj, member=member, agent_id=agent_id, reviewer_id=reviewer_id, state=state)
    return [review_out(r, detail=False) for r in qs[:limit]]


@router.post("/qa/reviews", response={201: ReviewOut})
def review_post(request, payload: ReviewStartIn, shop: str | None = None):
    """Start (or get back) a draft review of a sample, of any conversation, or a calibration."""
    shop_obj, member = request.auth.shop_for(shop)
    sample = conv = original = None
    if payload.sample_id is not None:
        sample = QaSample.objects.filter(shop=shop_obj, pk=payload.sample_id).first()
        if sample is None:
            raise Http404("sample")
    elif payload.conversation_id is not None:
        conv = conversation_get_for_user(shop=shop_obj, member=member, id=payload.conversation_id)
    elif payload.calibration_of is not None:
        original = sel.review_get_for_user(shop=shop_obj, member=member, id=payload.calibration_of)
    r = services.review_start(shop=shop_obj, reviewer=member, sample=sample, conversation=conv,
                              calibration_of=original)
    return Status(201, review_out(sel.review_get_for_user(shop=shop_obj, member=member, id=r.pk)))


@router.get("/qa/reviews/{review_id}", response=ReviewOut)
def review_get(request, review_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return review_out(sel.review_get_for_user(shop=shop_obj, member=member, id=review_id))


@router.post("/qa/reviews/{review_id}", response=ReviewOut)
def review_save_post(request, review_id: int, payload: ReviewSaveIn, shop: str | None = None):
    """Save the scores (with comments anchored to messages) as a draft, or submit them."""
    shop_obj, member = request.auth.shop_for(shop)
    r = sel.review_get_for_user(shop=shop_obj, member=member, id=review_id)
    services.review_save(shop=shop_obj, review=r, reviewer=member, scores=[s.dict() for s in payload.scores],
                         summary=payload.summary, submit=payload.submit)
    return review_out(sel.review_get_for_user(shop=shop_obj, member=member, id=review_id))


@router.post("/qa/reviews/{review_id}/acknowledge", response=ReviewOut)
def review_ack_post(request, review_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    r = sel.review_get_for_user(shop=shop_obj, member=member, id=review_id)
    services.review_acknowledge(shop=shop_obj, review=r, agent=member)
    return review_out(sel.review_get_for_user(shop=shop_obj, member=member, id=review_id))


@router.post("/qa/reviews/{review_id}/appeal", response={201: AppealOut})
def review_appeal_post(request, review_id: int, payload: AppealIn, shop: str | None = None):
    """The reviewed agent appeals (申诉), once."""
    shop_obj, member = request.auth.shop_for(shop)
    r = sel.review_get_for_user(shop=shop_obj, member=member, id=review_id)
    return Status(201, _appeal_out(services.appeal_open(shop=shop_obj, review=r, agent=member, reason=payload.reason)))


@router.get("/qa/reviews/{review_id}/calibration", response=list[CalibrationOut])
def review_calibration_get(request, review_id: int, shop: str | None = None):
    """Each second reviewer's scores beside the original's, item by item, with the gap."""
    shop_obj, member = request.auth.shop_for(shop)
    r = sel.review_get_for_user(shop=shop_obj, member=member, id=review_id)
    return [{"review_id": c["review"].pk, "reviewer": c["reviewer"], "score": c["score"], "gap": c["gap"],
             "items": c["items"]} for c in sel.calibration(r)["calibrations"]]


@router.get("/qa/appeals", response=list[AppealOut])
def appeals_get(request, shop: str | None = None):
    """Open appeals the caller may decide."""
    shop_obj, member = request.auth.shop_for(shop)
    return [_appeal_out(a) for a in sel.appeals_open(shop=shop_obj, member=member)]


@router.post("/qa/appeals/{appeal_id}/decide", response=AppealOut)
def appeal_decide_post(request, appeal_id: int, payload: AppealDecideIn, shop: str | None = None):
    """Decide an appeal once (409 already_decided after that); not by the reviewer or the agent."""
    shop_obj, member = request.auth.shop_for(shop)
    a = QaAppeal.objects.filter(shop=shop_obj, pk=appeal_id).first()
    if a is None or not sel.reviews_for(shop=shop_obj, member=member).filter(pk=a.review_id).exists():
        raise Http404("appeal")
    a = services.appeal_decide(shop=shop_obj, appeal=a, decider=member, accept=payload.accept, note=payload.note,
                               scores=[s.dict() for s in payload.scores] if payload.scores else None)
    return _appeal_out(QaAppeal.objects.select_related("decided_by").get(pk=a.pk))


# ---------------------------------------------------------------- figures

def _stat(r) -> dict:
    return {"key": str(r.key), "label": r.label, "reviews": r.reviews, "mean": r.mean,
            "extra": {k: (str(v) if v is not None else None) for k, v in r.extra.items()}}


@router.get("/qa/agents", response=list[StatOut])
def qa_agents_get(request, q: Query[RangeQuery]):
    """Quality score per agent (mean of review scores) with reviews and auto-fails."""
    shop_obj, member = request.auth.shop_for(q.shop)
    f, t = _range(shop_obj, q.date_from, q.date_to)
    return [_stat(r) for r in sel.agent_stats(shop=shop_obj, member=member, date_from=f, date_to=t)]


@router.get("/qa/agents/{agent_id}/trend", response=TrendOut)
def qa_trend_get(request, agent_id: int, q: Query[RangeQuery]):
    shop_obj, member = request.auth.shop_for(q.shop)
    from kefu.core.models import Agent

    agent = Agent.objects.filter(shop=shop_obj, pk=agent_id).filter(sel.agent_scope(member)).first()
    if agent is None:
        raise Http404("agent")
    f, t = _range(shop_obj, q.date_from, q.date_to, days=90)
    return sel.agent_trend(shop=shop_obj, agent=agent, date_from=f, date_to=t)


@router.get("/qa/items", response=list[StatOut])
def qa_items_get(request, q: Query[RangeQuery]):
    """Mean 0–100 score per rubric item."""
    shop_obj, member = request.auth.shop_for(q.shop)
    from kefu.core.models import Agent

    f, t = _range(shop_obj, q.date_from, q.date_to)
    ids = None if sel.sees_all_reviews(member) else list(
        Agent.objects.filter(shop=shop_obj).filter(sel.agent_scope(member)).values_list("id", flat=True))
    return [_stat(r) for r in sel.item_stats(shop=shop_obj, date_from=f, date_to=t, agent_ids=ids)]


@router.get("/qa/reviewers", response=list[StatOut])
def qa_reviewers_get(request, q: Query[RangeQuery]):
    """How harsh each reviewer is (mean score minus others' mean on the same agents)."""
    shop_obj, member = request.auth.shop_for(q.shop)
    _supervisor(member)
    f, t = _range(shop_obj, q.date_from, q.date_to)
    return [_stat(r) for r in sel.reviewer_stats(shop=shop_obj, date_from=f, date_to=t)]


# ---------------------------------------------------------------- flags

@router.get("/qa/flags", response=list[FlagOut])
def flags_get(request, q: Query[RangeQuery], kind: str | None = None,
              limit: int = Query(200, ge=1, le=1000)):
    """Automatic flags (QA-3) of the conversations this person may see, newest first."""
    from kefu.conversations.selectors import visible_q

    shop_obj, member = request.auth.shop_for(q.shop)
    f, t = _range(shop_obj, q.date_from, q.date_to, days=7)
    qs = ConversationFlag.objects.filter(shop=shop_obj, day__gte=f, day__lte=t).select_related("customer")
    if kind:
        qs = qs.filter(kind=kind)
    if member is not None and not sees_whole_shop(member):
        from kefu.conversations.models import Conversation

        qs = qs.filter(conversation__in=Conversation.objects.filter(shop=shop_obj).filter(visible_q(member)))
    return [{"id": x.pk, "kind": x.kind, "conversation_id": x.conversation_id, "message_id": x.message_id,
             "buyer_id": x.customer.buyer_id, "agent_id": x.agent_id, "detail": x.detail, "at": x.at,
             "followup_id": x.followup_id} for x in qs.order_by("-at", "-id")[:limit]]


# ---------------------------------------------------------------- typical cases

def _case_out(c: TypicalCase) -> dict:
    return {"id": c.pk, "kind": c.kind, "title": c.title, "note": c.note, "week": c.week,
            "agent": c.agent.name if c.agent_id else None, "buyer_id": c.customer.buyer_id,
            "conversation_id": c.conversation_id, "review_id": c.review_id, "marked_by": c.marked_by.name,
            "script_id": c.script_id, "window_start": c.window_start, "window_end": c.window_end}


@router.get("/qa/cases", response=list[QaCaseOut])
def cases_get(request, shop: str | None = None, week: dt.date | None = None, kind: str | None = None):
    """Typical cases: one week's (any day of it), or all as study material, newest first."""
    shop_obj, _ = request.auth.shop_for(shop)
    if week:
        cases = sel.cases_of_week(shop=shop_obj, week=services.week_of(week))
        cases = [c for c in cases if not kind or c.kind == kind]
    else:
        cases = sel.cases_for_study(shop=shop_obj, kind=kind)
    return [_case_out(c) for c in cases]


@router.post("/qa/cases", response={201: QaCaseOut})
def case_post(request, payload: QaCaseIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    conv = review = None
    if payload.review_id is not None:
        review = sel.review_get_for_user(shop=shop_obj, member=member, id=payload.review_id)
    elif payload.conversation_id is not None:
        conv = conversation_get_for_user(shop=shop_obj, member=member, id=payload.conversation_id)
    c = services.case_mark(shop=shop_obj, actor=member, kind=payload.kind, title=payload.title, note=payload.note,
                           conversation=conv, review=review)
    return Status(201, _case_out(TypicalCase.objects.select_related("agent", "customer", "marked_by").get(pk=c.pk)))


@router.post("/qa/cases/{case_id}/script", response=QaCaseOut)
def case_script_post(request, case_id: int, payload: CaseScriptIn, shop: str | None = None):
    """Put the case into the script library; the script's version history names the case."""
    shop_obj, member = request.auth.shop_for(shop)
    c = TypicalCase.objects.filter(shop=shop_obj, pk=case_id).first()
    if c is None:
        raise Http404("case")
    services.case_to_script(shop=shop_obj, actor=member, case=c, category=payload.category, title=payload.title,
                            body=payload.body)
    return _case_out(TypicalCase.objects.select_related("agent", "customer", "marked_by").get(pk=c.pk))


# ---------------------------------------------------------------- script effectiveness

@router.get("/qa/script-effectiveness", response=list[EffectOut])
def effectiveness_get(request, q: Query[RangeQuery]):
    """Per script: uses, conversion of the inquiries it was used in, the buyer's next message
    (negative or not) and CSAT of the reception; too_few below the shop's minimum uses."""
    shop_obj, member = request.auth.shop_for(q.shop)
    _supervisor(member)
    f, t = _range(shop_obj, q.date_from, q.date_to)
    return [{"script_id": e.script.pk, "title": e.script.title, "category": e.script.category, "uses": e.uses,
             "inquiries": e.inquiries, "converted": e.converted, "conversion_rate": e.conversion_rate,
             "replies": e.replies, "negative_replies": e.negative_replies, "negative_rate": e.negative_rate,
             "rated": e.rated, "satisfied": e.satisfied, "csat": e.csat, "too_few": e.too_few}
            for e in script_effectiveness(shop=shop_obj, date_from=f, date_to=t)]


# ---------------------------------------------------------------- product knowledge (SCR-4)

def _knowledge_out(k) -> dict:
    return {"id": k.pk, "product_id": k.product_id, "product": k.product.title, "sizes": k.sizes, "fabric": k.fabric,
            "model_measurements": k.model_measurements, "care": k.care, "fit_advice": k.fit_advice,
            "keywords": k.keywords, "version": k.version, "updated_at": k.updated_at}


@router.get("/products/knowledge", response=list[KnowledgeOut])
def knowledge_get(request, shop: str | None = None, q: str = ""):
    """Product knowledge cards, searched in Chinese like the scripts."""
    shop_obj, _ = request.auth.shop_for(shop)
    return [_knowledge_out(k) for k in knowledge_search(shop=shop_obj, q=q[:100])]


@router.post("/products/{product_id}/knowledge", response=KnowledgeOut)
def knowledge_post(request, product_id: int, payload: KnowledgeIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    product = Product.objects.filter(shop=shop_obj, pk=product_id).first()
    if product is None:
        raise Http404("product")
    k = services.knowledge_save(shop=shop_obj, actor=member, product=product, **payload.dict())
    return _knowledge_out(k)


@router.get("/conversations/{conversation_id}/knowledge", response=list[KnowledgeOut])
def conversation_knowledge_get(request, conversation_id: int, shop: str | None = None):
    """Cards of the products the buyer ordered or names in the conversation."""
    shop_obj, member = request.auth.shop_for(shop)
    conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
    texts = [m.text for m in conversation_messages(conversation=conv) if m.sender == "buyer"]
    return [_knowledge_out(k) for k in knowledge_for_conversation(shop=shop_obj, customer_id=conv.customer_id,
                                                                  texts=texts)]


def _fault_out(f) -> dict:
    return {"id": f.pk, "complaint_id": f.complaint_id, "agent_id": f.agent_id, "agent": f.agent.name,
            "product_id": f.product_id, "day": f.day, "note": f.note}


@router.post("/complaints/{complaint_id}/knowledge-fault", response={201: FaultOut})
def fault_post(request, complaint_id: int, payload: FaultIn, shop: str | None = None):
    """Trace the complaint to its agent as a wrong-product-knowledge fault (遇一罚一)."""
    from kefu.complaints.models import Complaint

    shop_obj, member = request.auth.shop_for(shop)
    c = Complaint.objects.filter(shop=shop_obj, pk=complaint_id).first()
    if c is None:
        raise Http404("complaint")
    product = None
    if payload.product_id is not None:
        product = Product.objects.filter(shop=shop_obj, pk=payload.product_id).first()
        if product is None:
            raise Http404("product")
    f = services.knowledge_fault_record(shop=shop_obj, actor=member, complaint=c, product=product, note=payload.note)
    return Status(201, _fault_out(f))


@router.post("/qa/knowledge-faults/{fault_id}/withdraw", response={204: None})
def fault_withdraw(request, fault_id: int, payload: FaultWithdrawIn, shop: str | None = None):
    """Take back a wrong-product-knowledge trace recorded in error; its ledger deduction follows."""
    from .models import KnowledgeFault

    shop_obj, member = request.auth.shop_for(shop)
    f = KnowledgeFault.objects.filter(shop=shop_obj, pk=fault_id).first()
    if f is None:
        raise Http404("knowledge fault")
    services.knowledge_fault_withdraw(shop=shop_obj, actor=member, fault=f, reason=payload.reason)
    return Status(204, None)


@router.get("/qa/knowledge-faults", response=list[FaultOut])
def faults_get(request, q: Query[RangeQuery], agent_id: int | None = None):
    shop_obj, member = request.auth.shop_for(q.shop)
    from kefu.core.models import Agent

    agent = None
    if member is not None and not sees_whole_shop(member):
        agent = member
    elif agent_id is not None:
        agent = Agent.objects.filter(shop=shop_obj, pk=agent_id).first()
        if agent is None:
            raise Http404("agent")
    return [_fault_out(f) for f in sel.knowledge_faults(shop=shop_obj, agent=agent, date_from=q.date_from,
                                                         date_to=q.date_to)]
