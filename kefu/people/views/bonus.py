"""The rewards page (奖励, WF-5): a month's special bonuses (supervisors propose, managers decide), ranking
incentives (managers edit the rules and award a finished month; the places are published to the team)
and the 惊喜 wish list (private: the agent's own wishes; supervisors see and grant their groups')."""

import uuid

from django.http import Http404, HttpResponseForbidden
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from kefu.core.enums import Role
from kefu.core.errors import KefuError, PermissionDenied
from kefu.web.views import shop_page

from .. import bonus as services
from ..access import agent_get_for_user, agents_visible, is_manager, is_supervisor
from ..enums import BonusKind, BonusState, RankingMetric
from ..models import RankingAward, RankingRule
from ..months import month_start, shop_today
from .common import back, int_or_none, month_ctx


@shop_page
def rewards(request):
    shop, member = request.shop, request.member
    month, ctx = month_ctx(request, shop)
    supervisor, manager = is_supervisor(member), is_manager(member)
    rules = list(RankingRule.objects.filter(shop=shop))
    awarded = set(RankingAward.objects.filter(shop=shop, month=month).values_list("rule_id", flat=True))
    ctx.update({
        "bonuses": list(services.bonuses_for(shop=shop, member=member, month=month).order_by("-created_at", "-id")),
        "awards": list(RankingAward.objects.filter(shop=shop, month=month).select_related("rule", "agent")),
        "rules": rules, "awarded": awarded, "month_over": month < month_start(shop_today(shop)),
        "wishes": list(services.wishes_for(shop=shop, member=member)[:200]),
        "supervisor": supervisor, "manager": manager, "kinds": BonusKind.choices, "metrics": RankingMetric.choices,
        "proposed": BonusState.PROPOSED, "error": request.GET.get("error", "")[:300],
        "request_token": uuid.uuid4().hex,
        "agents": [a for a in agents_visible(shop=shop, member=member).order_by("group", "name")
                   if a.has_role(Role.AGENT)] if supervisor else [],
    })
    return TemplateResponse(request, "people/rewards.html", ctx)


def _act(request, fn, month=None):
    try:
        fn()
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:rewards", month=month or request.POST.get("month"), error=exc.message)
    return back("people:rewards", month=month or request.POST.get("month"))


@require_POST
@shop_page
def bonus_propose(request):
    shop, member, p = request.shop, request.member, request.POST

    def run():
        from ..api.common import month_of

        agent = agent_get_for_user(shop=shop, member=member, id=int_or_none(p.get("agent")) or 0)
        services.bonus_propose(shop=shop, agent=agent, kind=p.get("kind", ""), amount=p.get("amount", ""),
                               reason=p.get("reason", ""), month=month_of(shop, p.get("month")),
                               case_id=int_or_none(p.get("case")), request_id=p.get("request_id", ""), by=member,
                               actor=request.user)
    try:
        return _act(request, run)
    except Http404:
        return back("people:rewards", error="agent")


@require_POST
@shop_page
def bonus_decide(request, bonus_id: int, action: str):
    shop, member = request.shop, request.member
    if action not in ("approve", "reject"):
        raise Http404("action")
    b = services.bonus_get_for_user(shop=shop, member=member, id=bonus_id)
    return _act(request, lambda: services.bonus_decide(shop=shop, bonus=b, approve=action == "approve",
                                                       note=request.POST.get("note", ""), by=member,
                                                       actor=request.user), month=b.month.strftime("%Y-%m"))


@require_POST
@shop_page
def ranking_rule_save(request):
    shop, member, p = request.shop, request.member, request.POST
    amounts = [a.strip() for a in p.get("amounts", "").replace("，", ",").split(",") if a.strip()]
    return _act(request, lambda: services.ranking_rule_set(shop=shop, by=member, name=p.get("name", ""),
                                                           metric=p.get("metric", ""), amounts=amounts,
                                                           group=p.get("group", ""), active=p.get("active") == "1",
                                                           actor=request.user))


@require_POST
@shop_page
def ranking_award(request, rule_id: int):
    from ..api.common import month_of

    shop, member = request.shop, request.member
    rule = RankingRule.objects.filter(shop=shop, pk=rule_id).first()
    if rule is None:
        raise Http404("rule")
    return _act(request, lambda: services.ranking_award(shop=shop, rule=rule, month=month_of(shop, request.POST.get("month")),
                                                        by=member, actor=request.user))


@require_POST
@shop_page
def wish_add(request):
    shop, member, p = request.shop, request.member, request.POST
    try:
        agent = agent_get_for_user(shop=shop, member=member, id=int_or_none(p.get("agent")) or member.pk)
    except Http404:
        return back("people:rewards", error="agent")
    return _act(request, lambda: services.wish_add(shop=shop, agent=agent, text=p.get("text", ""), by=member,
                                                   actor=request.user))


@require_POST
@shop_page
def wish_act(request, wish_id: int, action: str):
    shop, member = request.shop, request.member
    w = services.wish_get_for_user(shop=shop, member=member, id=wish_id)
    if action == "grant":
        return _act(request, lambda: services.wish_grant(shop=shop, wish=w, granted_for=request.POST.get("granted_for", ""),
                                                         by=member, actor=request.user))
    if action == "withdraw":
        return _act(request, lambda: services.wish_withdraw(shop=shop, wish=w, by=member))
    raise Http404("action")
