"""Pages: the SLA board (running clocks by due time, countdowns, warned/missed highlighted; agents
see their own) and the policies page (managers edit, everyone reads)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.access import sees_whole_shop
from kefu.core.enums import Group
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import Agent
from kefu.web.views import shop_page

from . import selectors as sel
from . import services
from .enums import ConversationKind
from .services import EDITOR_ROLES, LIST_FIELDS, MINUTE_FIELDS

BOARD_LIMIT = 300


def decorate(clocks, now) -> None:
    """Seconds left (negative when overdue) for the countdowns; shown as a positive 剩余/超时 duration."""
    for c in clocks:
        c.left = int((c.due_at - now).total_seconds())
        c.left_abs = abs(c.left)


def _board_ctx(request) -> dict:
    shop, member = request.shop, request.member
    whole = sees_whole_shop(member)
    agent_id, group = None, request.GET.get("group", "")
    if group not in {g for g, _l in Group.choices if g}:
        group = ""
    if whole and request.GET.get("agent", "").isdigit():
        agent_id = int(request.GET["agent"])
    open_only = request.GET.get("scope", "open") != "all"
    clocks = sel.board(shop=shop, member=member, agent_id=agent_id, group=group or None, limit=BOARD_LIMIT,
                       open_only=open_only)
    decorate(clocks, timezone.now())
    return {"clocks": clocks, "whole_shop": whole, "agent_id": agent_id, "group": group,
            "scope": "open" if open_only else "all", "recent_days": sel.BOARD_RECENT_DAYS,
            "counts": sel.board_counts(shop=shop, member=member, agent_id=agent_id, group=group or None,
                                       open_only=open_only),
            "groups": [(g, label) for g, label in Group.choices if g], "limit": BOARD_LIMIT}


@shop_page
def board(request):
    ctx = _board_ctx(request)
    if ctx["whole_shop"]:
        ctx["agents"] = Agent.objects.filter(shop=request.shop, active=True).order_by("name")
    if request.htmx and request.GET.get("partial") == "table":
        return TemplateResponse(request, "sla/board.html#table", ctx)
    return TemplateResponse(request, "sla/board.html", ctx)


def _form_data(post) -> dict:
    data = {"name": post.get("name", ""), "priority": post.get("priority", "") or 100,
            "active": post.get("active") == "on", "business_hours": post.get("business_hours") == "on",
            "warn_before_minutes": post.get("warn_before_minutes", "") or 0}
    for f in LIST_FIELDS:
        data[f] = post.getlist(f) if f in ("conversation_kinds", "case_types", "case_reasons", "groups") \
            else post.get(f, "")
    for f in MINUTE_FIELDS:
        data[f] = post.get(f, "") or None
    return data


def _status(exc: KefuError) -> int:
    return 403 if isinstance(exc, PermissionDenied) else 400


def _policies_ctx(request, **extra) -> dict:
    from kefu.aftersales.enums import CaseReason, CaseType

    return {"policies": list(sel.policy_list(shop=request.shop)),
            "can_edit": request.member.has_role(*EDITOR_ROLES),
            "kinds": ConversationKind.choices, "case_types": CaseType.choices, "case_reasons": CaseReason.choices,
            "groups": [(g, label) for g, label in Group.choices if g], **extra}


@shop_page
def policies(request):
    shop, member = request.shop, request.member
    if request.method != "POST":
        return TemplateResponse(request, "sla/policies.html", _policies_ctx(request))
    if request.POST.get("action") == "defaults":
        try:
            services._editor(shop, member)
        except KefuError:
            raise Http404("policy") from None
        services.policies_install_defaults(shop=shop)
        messages.success(request, _("已安装默认 SLA 策略"))
        return redirect("sla:policies")
    try:
        services.policy_create(shop=shop, editor=member, data=_form_data(request.POST))
    except KefuError as exc:
        return TemplateResponse(request, "sla/policies.html", _policies_ctx(
            request, error=exc, form=request.POST), status=_status(exc))
    messages.success(request, _("已添加 SLA 策略"))
    return redirect("sla:policies")


@shop_page
def policy_edit(request, policy_id: int):
    shop, member = request.shop, request.member
    policy = sel.policy_get(shop=shop, id=policy_id)
    if request.method != "POST":
        raise Http404("policy")
    try:
        services.policy_update(shop=shop, editor=member, policy_id=policy.pk, data=_form_data(request.POST))
    except KefuError as exc:
        return TemplateResponse(request, "sla/policies.html", _policies_ctx(
            request, error=exc, error_policy=policy.pk), status=_status(exc))
    messages.success(request, _("已保存 SLA 策略"))
    return redirect("sla:policies")
