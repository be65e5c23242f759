"""Onboarding pages (WF-7): the list (a supervisor's groups, a mentor's mentees, the agent's own), one
onboarding with the plan day by day, study material (typical cases, the script library), the exam, the
mentor's notes and sign-off and the supervisor's decision; the plan, edited by managers."""

from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.enums import Role
from kefu.core.errors import KefuError, PermissionDenied, ValidationFailed
from kefu.core.models import Agent
from kefu.web.views import shop_page

from .. import onboarding as services
from .. import selectors as S
from ..access import agent_get_for_user, agents_visible, is_manager, is_supervisor, supervises
from ..enums import TraineeState
from ..models import Onboarding
from ..months import shop_today
from .common import back, date_or_none, int_or_none


def _mentor_choices(shop) -> list[Agent]:
    busy = set(Onboarding.objects.filter(shop=shop, state__in=("training", "probation"))
               .values_list("mentor_id", flat=True))
    new = set(Onboarding.objects.filter(shop=shop, state__in=("training", "probation")).values_list("agent_id",
                                                                                                     flat=True))
    return [a for a in Agent.objects.filter(shop=shop, active=True).order_by("group", "name")
            if a.has_role(Role.AGENT, Role.SUPERVISOR) and a.id not in busy and a.id not in new]


@shop_page
def onboarding_list(request):
    shop, member = request.shop, request.member
    state = request.GET.get("state", "open")
    if state not in TraineeState.values and state not in ("open", "all"):
        state = "open"
    rows = S.onboardings_for(shop=shop, member=member, state=None if state == "all" else state)
    supervisor = is_supervisor(member)
    if not supervisor and len(rows) == 1 and rows[0].agent_id == member.id and "state" not in request.GET:
        return redirect("people:onboarding", rows[0].pk)
    plan = services.training_plan(shop)
    started = set(Onboarding.objects.filter(shop=shop).values_list("agent_id", flat=True))
    ctx = {"rows": rows, "state": state, "states": TraineeState.choices, "supervisor": supervisor,
           "plan_days": plan.days.count(), "error": request.GET.get("error", "")[:300], "today": shop_today(shop)}
    if supervisor:
        ctx["candidates"] = [a for a in agents_visible(shop=shop, member=member).order_by("group", "name")
                             if a.has_role(Role.AGENT) and a.id not in started]
        ctx["mentors"] = _mentor_choices(shop)
    return TemplateResponse(request, "people/onboarding_list.html", ctx)


@require_POST
@shop_page
def onboarding_start(request):
    shop, member = request.shop, request.member
    try:
        agent = agent_get_for_user(shop=shop, member=member, id=int_or_none(request.POST.get("agent")) or 0)
        mentor = Agent.objects.filter(shop=shop, pk=int_or_none(request.POST.get("mentor")) or 0).first()
        if mentor is None:
            raise KefuError(_("请选择师傅"), field="mentor_id")
        start = date_or_none(request.POST.get("start_date"))
        if start is None:
            raise KefuError(_("请选择入职日期"), field="start_date")
        o = services.onboarding_start(shop=shop, agent=agent, mentor=mentor, start_date=start, by=member,
                                      actor=request.user,
                                      probation_end=date_or_none(request.POST.get("probation_end")))
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:onboarding_list", error=exc.message)
    except Http404:
        return back("people:onboarding_list", error=_("找不到该客服"))
    return redirect("people:onboarding", o.pk)


@shop_page
def onboarding_detail(request, onboarding_id: int):
    shop, member = request.shop, request.member
    o = S.onboarding_get_for_user(shop=shop, member=member, id=onboarding_id)
    plan = services.training_plan(shop)
    done = {d.day_no: d for d in o.days_done.select_related("done_by")}
    days = [(d, done.get(d.day_no)) for d in plan.days.all()]
    is_sup = supervises(member, o.agent) and member.id != o.agent_id
    is_mentor = member.id == o.mentor_id
    ctx = {
        "o": o, "plan": plan, "days": days, "days_done": len(done), "exams": list(o.exams.select_related("graded_by")),
        "events": list(o.events.all()), "own": member.id == o.agent_id, "is_mentor": is_mentor,
        "is_supervisor": is_sup, "may_tick": o.in_probation and (member.id in (o.agent_id, o.mentor_id) or is_sup),
        "questions": list(plan.questions.all()) if (is_sup or is_mentor) else [],
        "cases": S.study_cases(shop=shop), "mentors": _mentor_choices(shop) if is_sup else [],
        "error": request.GET.get("error", "")[:300],
    }
    return TemplateResponse(request, "people/onboarding.html", ctx)


def _act(request, onboarding_id: int, fn):
    shop, member = request.shop, request.member
    o = S.onboarding_get_for_user(shop=shop, member=member, id=onboarding_id)
    try:
        fn(shop, member, o)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:onboarding", o.pk, error=exc.message)
    return back("people:onboarding", o.pk)


@require_POST
@shop_page
def onboarding_action(request, onboarding_id: int, action: str):
    p, user = request.POST, request.user
    actions = {
        "day": lambda shop, m, o: services.onboarding_day_done(
            shop=shop, onboarding=o, day_no=int_or_none(p.get("day_no")) or 0, note=p.get("note", ""), by=m,
            actor=user),
        "exam": lambda shop, m, o: services.onboarding_exam_record(
            shop=shop, onboarding=o, score=p.get("score", ""), note=p.get("note", ""), by=m, actor=user),
        "note": lambda shop, m, o: services.onboarding_note(shop=shop, onboarding=o, text=p.get("text", ""), by=m,
                                                           actor=user),
        "signoff": lambda shop, m, o: services.onboarding_signoff(shop=shop, onboarding=o,
                                                                  opinion=p.get("opinion", ""), by=m, actor=user),
        "confirm": lambda shop, m, o: services.onboarding_decide(shop=shop, onboarding=o, confirm=True,
                                                                 note=p.get("note", ""), by=m, actor=user),
        "fail": lambda shop, m, o: services.onboarding_decide(shop=shop, onboarding=o, confirm=False,
                                                              note=p.get("note", ""), by=m, actor=user),
        "mentor": lambda shop, m, o: services.onboarding_mentor_change(
            shop=shop, onboarding=o, reason=p.get("reason", ""), by=m, actor=user,
            mentor=_agent(shop, p.get("mentor"))),
    }
    if action not in actions:
        raise Http404("action")
    return _act(request, onboarding_id, actions[action])


def _agent(shop, raw) -> Agent:
    a = Agent.objects.filter(shop=shop, pk=int_or_none(raw) or 0).first()
    if a is None:
        raise KefuError(_("请选择师傅"), field="mentor_id")
    return a


@shop_page
def training_plan(request):
    shop, member = request.shop, request.member
    plan = services.training_plan(shop)
    manager = is_manager(member)
    ctx = {"plan": plan, "days": list(plan.days.all()), "manager": manager,
           "questions": list(plan.questions.all()) if is_supervisor(member) else [],
           "show_answers": is_supervisor(member), "cases": S.study_cases(shop=shop),
           "error": request.GET.get("error", "")[:300], "saved": request.GET.get("saved") == "1"}
    return TemplateResponse(request, "people/training_plan.html", ctx)


def _rows(post, prefix: str, fields: tuple[str, ...]) -> list[dict]:
    """Form rows name_0, name_1, …; a row with every field blank is left out (that is how one is removed)."""
    out, i = [], 0
    while any(f"{f}_{i}" in post for f in fields):
        row = {f: post.get(f"{f}_{i}", "").strip() for f in fields}
        if any(row.values()):
            out.append(row)
        i += 1
    return out


@require_POST
@shop_page
def training_plan_save(request):
    shop, member = request.shop, request.member
    p = request.POST
    try:
        services.training_plan_update(
            shop=shop, by=member, actor=request.user, name=p.get("name"), pass_mark=p.get("pass_mark"),
            probation_days=p.get("probation_days"), days=_rows(p, "day", ("topic", "materials")),
            questions=_rows(p, "q", ("question", "answer", "points")))
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except ValidationFailed as exc:
        first = exc.errors[0] if getattr(exc, "errors", None) else {"message": str(exc)}
        row = first.get("row")
        where = f"{first.get('field')}{'' if row is None else ' #' + str(row + 1)}"
        return back("people:training_plan", error=f"{where}: {first.get('message')}")
    except KefuError as exc:
        return back("people:training_plan", error=exc.message)
    return back("people:training_plan", saved="1")
