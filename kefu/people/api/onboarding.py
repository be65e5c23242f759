"""Onboarding under /api/v1/ (WF-7): the training plan, onboardings (role-aware list and one with its
exams and history), and every action of the pages: start, day done, exam, note, sign-off, decision,
mentor change; the study material (typical cases)."""

from django.http import Http404
from ninja import Router, Status

from kefu.core.api_auth import AUTH
from kefu.core.errors import NotFound
from kefu.core.models import Agent

from .. import onboarding as services
from .. import selectors as S
from ..access import is_supervisor
from ..schemas import (
    OnboardingDayIn,
    OnboardingDecisionIn,
    OnboardingExamIn,
    OnboardingMentorIn,
    OnboardingOut,
    OnboardingSignoffIn,
    OnboardingStartIn,
    OnboardingTextIn,
    StudyCaseOut,
    TrainingPlanIn,
    TrainingPlanOut,
)
from .common import actor_of, agent_of

router = Router(tags=["onboarding"], auth=AUTH)


def plan_out(plan, answers: bool) -> dict:
    return {"name": plan.name, "pass_mark": plan.pass_mark, "probation_days": plan.probation_days,
            "days": [{"topic": d.topic, "materials": d.materials} for d in plan.days.all()],
            "questions": [{"question": q.question, "answer": q.answer, "points": q.points}
                          for q in plan.questions.all()] if answers else []}


def onboarding_out(o, plan_days: int, full: bool = False) -> dict:
    out = {"id": o.id, "agent_id": o.agent_id, "agent": o.agent.name, "mentor_id": o.mentor_id,
           "mentor": o.mentor.name, "start_date": o.start_date, "probation_end": o.probation_end, "state": o.state,
           "days_done": sorted(d.day_no for d in o.days_done.all()), "plan_days": plan_days,
           "mentor_signed_at": o.mentor_signed_at, "mentor_opinion": o.mentor_opinion, "decided_on": o.decided_on,
           "decision_note": o.decision_note}
    if full:
        out["exams"] = [{"taken_on": e.taken_on, "score": e.score, "pass_mark": e.pass_mark, "passed": e.passed,
                         "note": e.note} for e in o.exams.all()]
        out["events"] = [{"action": e.action, "from_state": e.from_state, "to_state": e.to_state,
                          "actor": e.actor_label, "text": e.text, "at": e.at} for e in o.events.all()]
    return out


def _get(request, shop, onboarding_id):
    shop_obj, member = request.auth.shop_for(shop)
    return shop_obj, member, S.onboarding_get_for_user(shop=shop_obj, member=member, id=onboarding_id)


def _full(shop_obj, member, o) -> dict:
    o = S.onboarding_get_for_user(shop=shop_obj, member=member, id=o.id)
    return onboarding_out(o, services.training_plan(shop_obj).days.count(), full=True)


@router.get("/training-plan", response=TrainingPlanOut)
def plan_get(request, shop: str | None = None):
    """The shop's training plan (the exam's answers for supervisors and up only)."""
    shop_obj, member = request.auth.shop_for(shop)
    return plan_out(services.training_plan(shop_obj), answers=is_supervisor(member))


@router.post("/training-plan", response=TrainingPlanOut)
def plan_post(request, payload: TrainingPlanIn, shop: str | None = None):
    """A manager changes the plan; `days` and `questions`, when given, replace the lists (all or nothing)."""
    shop_obj, member = request.auth.shop_for(shop)
    data = payload.dict()
    for k in ("days", "questions"):
        if data[k] is not None:
            data[k] = [dict(x) for x in data[k]]
    plan = services.training_plan_update(shop=shop_obj, by=member, actor=actor_of(request), **data)
    return plan_out(plan, answers=True)


@router.get("/onboardings", response=list[OnboardingOut])
def onboardings_get(request, shop: str | None = None, state: str | None = "open"):
    """Onboardings the person sees (own, mentees', supervisors their groups'); state=open|all|training|…"""
    shop_obj, member = request.auth.shop_for(shop)
    n = services.training_plan(shop_obj).days.count()
    rows = S.onboardings_for(shop=shop_obj, member=member, state=None if state == "all" else state)
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(rows, "days_done")
    return [onboarding_out(o, n) for o in rows]


@router.post("/onboardings", response={201: OnboardingOut})
def onboarding_post(request, payload: OnboardingStartIn, shop: str | None = None):
    """The agent's supervisor starts an onboarding with a mentor (one mentee per mentor)."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, payload.agent_id)
    mentor = Agent.objects.filter(shop=shop_obj, pk=payload.mentor_id).first()
    if mentor is None:
        raise NotFound("no such mentor in this shop", field="mentor_id")
    o = services.onboarding_start(shop=shop_obj, agent=agent, mentor=mentor, start_date=payload.start_date,
                                  probation_end=payload.probation_end, by=member, actor=actor_of(request))
    return Status(201, _full(shop_obj, member, o))


@router.get("/onboardings/{onboarding_id}", response=OnboardingOut)
def onboarding_get(request, onboarding_id: int, shop: str | None = None):
    shop_obj, member, o = _get(request, shop, onboarding_id)
    return _full(shop_obj, member, o)


@router.post("/onboardings/{onboarding_id}/days", response=OnboardingOut)
def onboarding_day(request, onboarding_id: int, payload: OnboardingDayIn, shop: str | None = None):
    """A training day done (the trainee, the mentor or a supervisor; once per day)."""
    shop_obj, member, o = _get(request, shop, onboarding_id)
    services.onboarding_day_done(shop=shop_obj, onboarding=o, day_no=payload.day_no, note=payload.note, by=member,
                                 actor=actor_of(request))
    return _full(shop_obj, member, o)


@router.post("/onboardings/{onboarding_id}/exam", response=OnboardingOut)
def onboarding_exam(request, onboarding_id: int, payload: OnboardingExamIn, shop: str | None = None):
    """A supervisor records an exam score (0–100); passing opens probation."""
    shop_obj, member, o = _get(request, shop, onboarding_id)
    services.onboarding_exam_record(shop=shop_obj, onboarding=o, score=payload.score, note=payload.note,
                                    taken_on=payload.taken_on, by=member, actor=actor_of(request))
    return _full(shop_obj, member, o)


@router.post("/onboardings/{onboarding_id}/notes", response=OnboardingOut)
def onboarding_note(request, onboarding_id: int, payload: OnboardingTextIn, shop: str | None = None):
    shop_obj, member, o = _get(request, shop, onboarding_id)
    services.onboarding_note(shop=shop_obj, onboarding=o, text=payload.text, by=member, actor=actor_of(request))
    return _full(shop_obj, member, o)


@router.post("/onboardings/{onboarding_id}/signoff", response=OnboardingOut)
def onboarding_signoff(request, onboarding_id: int, payload: OnboardingSignoffIn, shop: str | None = None):
    """The mentor signs off the mentee in probation (once)."""
    shop_obj, member, o = _get(request, shop, onboarding_id)
    services.onboarding_signoff(shop=shop_obj, onboarding=o, opinion=payload.opinion, by=member,
                                actor=actor_of(request))
    return _full(shop_obj, member, o)


@router.post("/onboardings/{onboarding_id}/decision", response=OnboardingOut)
def onboarding_decision(request, onboarding_id: int, payload: OnboardingDecisionIn, shop: str | None = None):
    """The supervisor confirms (转正) or fails the trainee, once (a second decision: 409 already_decided)."""
    shop_obj, member, o = _get(request, shop, onboarding_id)
    services.onboarding_decide(shop=shop_obj, onboarding=o, confirm=payload.confirm, note=payload.note, by=member,
                               actor=actor_of(request))
    return _full(shop_obj, member, o)


@router.post("/onboardings/{onboarding_id}/mentor", response=OnboardingOut)
def onboarding_mentor(request, onboarding_id: int, payload: OnboardingMentorIn, shop: str | None = None):
    shop_obj, member, o = _get(request, shop, onboarding_id)
    mentor = Agent.objects.filter(shop=shop_obj, pk=payload.mentor_id).first()
    if mentor is None:
        raise Http404("mentor")
    services.onboarding_mentor_change(shop=shop_obj, onboarding=o, mentor=mentor, reason=payload.reason, by=member,
                                      actor=actor_of(request))
    return _full(shop_obj, member, o)


@router.get("/onboarding/study-cases", response=list[StudyCaseOut])
def study_cases_get(request, shop: str | None = None):
    """Typical cases marked by reviewers (kefu.quality), newest first: the onboarding's study material."""
    shop_obj, _member = request.auth.shop_for(shop)
    return [{"id": c.id, "kind": c.kind, "title": c.title, "note": c.note, "week": c.week,
             "agent": c.agent.name if c.agent else None} for c in S.study_cases(shop=shop_obj)]
