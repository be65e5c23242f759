"""The agent's own page (issue 9 §8): what an agent needs to know about themself this month, visible
only to them and their supervisors."""

from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from kefu.web.views import shop_page

from .. import selectors as S
from ..access import agent_get_for_user, supervises
from ..enums import AttendanceStatus
from ..rules import people_settings
from .common import month_ctx


def _page(request, agent):
    shop, member = request.shop, request.member
    month, ctx = month_ctx(request, shop)
    sheet = S.month_sheet(shop=shop, member=member, month=month, agent=agent)
    row = sheet["rows"][0] if sheet["rows"] else None
    settings = people_settings(shop)
    deductions = list(S.deductions_for(shop=shop, member=member, month=month, agent=agent))
    # Points left: the month's ledger row (the sheet read it), else the shop's start — as the points
    # overview counts an agent (only people with the agent role carry points).
    points_left = row.points_left if row is not None and row.points_left is not None and agent.has_role("agent") \
        else settings.start_points
    ctx.update({
        "agent": agent, "own": member.id == agent.id, "page_title": _("我的") if member.id == agent.id else agent.name,
        "page_subtitle": agent.group_text if agent.group else "", "supervisor": supervises(member, agent) and member.id != agent.id,
        "sheet": sheet, "row": row, "settings": settings,
        "deductions": deductions, "points_left": points_left,
        "warnings": S.warnings_for(shop=shop, member=member, month=month, agent=agent),
        "leave_requests": S.leave_requests_for(shop=shop, member=member, agent=agent, limit=10),
        "statement": S.statement_of(shop=shop, agent=agent, month=month),
        "month_state": S.month_state(shop=shop, month=month), "error": request.GET.get("error", "")[:300],
        "tally_statuses": [(s, AttendanceStatus(s).label) for s in S.TALLY],
        "weekday_labels": [_("一"), _("二"), _("三"), _("四"), _("五"), _("六"), _("日")],
    })
    return TemplateResponse(request, "people/me.html", ctx)


@shop_page
def me(request):
    return _page(request, request.member)


@shop_page
def agent_page(request, agent_id: int):
    agent = agent_get_for_user(shop=request.shop, member=request.member, id=agent_id)
    return _page(request, agent)
