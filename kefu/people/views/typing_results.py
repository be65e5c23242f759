"""Typing pages (WF-9): the month of the team (supervisors; an agent is sent to their own page), one
agent's trend and results, recording a practice or a test, voiding a wrong result."""

from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError, PermissionDenied
from kefu.web.views import shop_page

from .. import typing_results as services
from ..access import agent_get_for_user, is_supervisor, supervises
from ..enums import TypingKind
from ..months import month_start, shop_today
from .common import back, date_or_none, int_or_none, month_ctx


@shop_page
def typing_month(request):
    shop, member = request.shop, request.member
    if not is_supervisor(member):
        return redirect("people:typing_agent", member.pk)
    month, ctx = month_ctx(request, shop)
    rows = services.typing_month(shop=shop, member=member, month=month)
    ctx.update({"rows": rows, "kinds": TypingKind.choices, "error": request.GET.get("error", "")[:300],
                "agents": [a for a, _f in rows], "improved": sum(1 for _a, f in rows if f.improved),
                "tested": sum(1 for _a, f in rows if f.test is not None)})
    return TemplateResponse(request, "people/typing_month.html", ctx)


@shop_page
def typing_agent(request, agent_id: int):
    shop, member = request.shop, request.member
    agent = agent_get_for_user(shop=shop, member=member, id=agent_id)
    trend = services.typing_trend(shop=shop, agent=agent)
    sup = supervises(member, agent) and member.pk != agent.pk
    ctx = {"agent": agent, "trend": trend, "this": trend[-1], "own": member.pk == agent.pk, "supervisor": sup,
           "results": list(services.typing_results_for(shop=shop, member=member, agent=agent)[:60]),
           "kinds": TypingKind.choices if sup else [(TypingKind.PRACTICE.value, TypingKind.PRACTICE.label)],
           "today": shop_today(shop), "error": request.GET.get("error", "")[:300],
           "max_net": max([f.test.net_speed for f in trend if f.test] + [f.practice_best or 0 for f in trend] + [1])}
    return TemplateResponse(request, "people/typing_agent.html", ctx)


@require_POST
@shop_page
def typing_record(request):
    shop, member, p = request.shop, request.member, request.POST
    agent_id = int_or_none(p.get("agent")) or member.pk
    back_to = p.get("back") == "month"
    try:
        agent = agent_get_for_user(shop=shop, member=member, id=agent_id)
        services.typing_record(shop=shop, agent=agent, kind=p.get("kind", ""), taken_on=date_or_none(p.get("taken_on")),
                               speed=p.get("speed", ""), accuracy=p.get("accuracy", ""), text=p.get("text", ""),
                               note=p.get("note", ""), request_id=p.get("request_id", ""), by=member,
                               actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        if back_to:
            return back("people:typing", error=exc.message)
        return back("people:typing_agent", agent_id, error=exc.message)
    if back_to:
        taken = date_or_none(p.get("taken_on"))
        return back("people:typing", month=month_start(taken).strftime("%Y-%m") if taken else None)
    return back("people:typing_agent", agent.pk)


@require_POST
@shop_page
def typing_void(request, result_id: int):
    shop, member = request.shop, request.member
    row = services.typing_result_get_for_user(shop=shop, member=member, id=result_id)
    try:
        services.typing_void(shop=shop, result=row, reason=request.POST.get("reason", ""), by=member,
                             actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:typing_agent", row.agent_id, error=exc.message)
    return back("people:typing_agent", row.agent_id)

