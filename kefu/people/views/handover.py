"""Account handover pages (CONV-8): the list (a supervisor's groups; an agent the handovers they
received), the form with what the former owner has open now, and one handover with the buyers to greet."""

import uuid

from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import Agent
from kefu.web.views import shop_page

from .. import handover as services
from ..access import agent_get_for_user, agents_visible, is_supervisor, supervises
from ..enums import HandoverItemKind
from .common import back, int_or_none


@shop_page
def handovers(request):
    shop, member = request.shop, request.member
    supervisor = is_supervisor(member)
    rows = list(services.handovers_for(shop=shop, member=member)[:200])
    ctx = {"rows": rows, "supervisor": supervisor, "error": request.GET.get("error", "")[:300],
           "kinds": HandoverItemKind.choices, "request_token": uuid.uuid4().hex}
    if supervisor:
        people = list(agents_visible(shop=shop, member=member, include_inactive=True).order_by("-active", "name"))
        ctx["people"] = people
        ctx["new_owners"] = [a for a in people if a.active]
        chosen = next((a for a in people if a.id == int_or_none(request.GET.get("from"))), None)
        if chosen is not None:
            ctx["chosen"] = chosen
            ctx["scope"] = services.handover_scope(shop=shop, from_agent=chosen).counts()
    return TemplateResponse(request, "people/handovers.html", ctx)


@require_POST
@shop_page
def handover_start(request):
    shop, member, p = request.shop, request.member, request.POST
    try:
        from_agent = agent_get_for_user(shop=shop, member=member, id=int_or_none(p.get("from_agent")) or 0)
        to_agent = Agent.objects.filter(shop=shop, pk=int_or_none(p.get("to_agent")) or 0).first()
        if to_agent is None:
            raise KefuError(_("请选择接手人"), field="to_agent_id")
        h, _created = services.handover_run(shop=shop, from_agent=from_agent, to_agent=to_agent,
                                            reason=p.get("reason", ""), accounts=p.get("accounts") == "1",
                                            request_id=p.get("request_id", ""), by=member, actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:handovers", error=exc.message, **{"from": p.get("from_agent")})
    except Http404:
        return back("people:handovers", error=_("找不到该客服"))
    return redirect("people:handover", h.pk)


@shop_page
def handover_detail(request, handover_id: int):
    shop, member = request.shop, request.member
    h = services.handover_get_for_user(shop=shop, member=member, id=handover_id)
    groups = services.handover_items(h)
    buyers = groups.pop(HandoverItemKind.BUYER)
    others = [(HandoverItemKind(k).label, [(it, *_shown(it)) for it in rows]) for k, rows in groups.items() if rows]
    ctx = {"h": h, "buyers": buyers, "others": others, "to_greet": sum(1 for b in buyers if b.greeted_at is None),
           "may_greet": member.id == h.to_agent_id or supervises(member, h.to_agent),
           "error": request.GET.get("error", "")[:300]}
    return TemplateResponse(request, "people/handover.html", ctx)


def _shown(it) -> tuple[str, str]:
    """An item as the page lists it: its text in the reader's language and a link to it, if it has a page."""
    from kefu.aftersales.enums import CaseType
    from kefu.followups.enums import FollowUpKind

    if it.kind == HandoverItemKind.FOLLOWUP:
        return (FollowUpKind(it.label).label if it.label in FollowUpKind.values else it.label), ""
    if it.kind == HandoverItemKind.CASE:
        return (CaseType(it.label).label if it.label in CaseType.values else it.label,
                reverse("aftersales:detail", args=[it.object_id]))
    if it.kind == HandoverItemKind.COMPLAINT:
        return it.label, reverse("complaints:detail", args=[it.object_id])
    if it.kind == HandoverItemKind.CONVERSATION:
        return _("会话"), reverse("web:conversation_detail", args=[it.object_id])
    if it.kind == HandoverItemKind.REVISIT:
        return _("回访日期 %(day)s") % {"day": it.label}, ""
    return it.label, ""


@require_POST
@shop_page
def handover_greeted(request, handover_id: int):
    shop, member = request.shop, request.member
    h = services.handover_get_for_user(shop=shop, member=member, id=handover_id)
    ids = [i for i in (int_or_none(x) for x in request.POST.getlist("item")) if i is not None]
    try:
        services.handover_greeted(shop=shop, handover=h, item_ids=ids, by=member, actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:handover", h.pk, error=exc.message)
    return back("people:handover", h.pk)
