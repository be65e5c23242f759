"""Pages of the daily sales reports (WF-6) and the reports up (WF-8)."""

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError
from kefu.core.timeutil import shop_day
from kefu.people.access import is_supervisor
from kefu.people.months import month_end
from kefu.people.views.common import GROUPS, group_of, month_ctx
from kefu.web.views import shop_page

from . import daily
from . import selectors as S
from .enums import DailyState


def _day(raw, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


@shop_page
def daily_list(request):
    shop, member = request.shop, request.member
    today = shop_day(timezone.now(), shop.tz)
    yesterday = today - dt.timedelta(days=1)
    supervisor = is_supervisor(member)
    ctx = {"supervisor": supervisor, "error": request.GET.get("error", "")[:300], "figures": daily.FIGURES}
    if not supervisor:
        month, mctx = month_ctx(request, shop)
        rows = S.daily_reports_for(shop=shop, member=member, date_from=month, date_to=month_end(month))
        ctx.update(mctx)
        ctx.update(reports=rows, to_sign=sum(1 for r in rows if r.state == DailyState.PENDING or r.changed))
        return TemplateResponse(request, "reports/daily_own.html", ctx)
    day = _day(request.GET.get("day"), yesterday)
    group = group_of(request)
    state = request.GET.get("state", "")
    rows = S.daily_reports_for(shop=shop, member=member, day=day, group=group)
    counts = {"all": len(rows), "pending": sum(1 for r in rows if r.state == DailyState.PENDING),
              "signed": sum(1 for r in rows if r.state == DailyState.SIGNED),
              "changed": sum(1 for r in rows if r.changed)}
    if state == "changed":
        rows = [r for r in rows if r.changed]
    elif state in DailyState.values:
        rows = [r for r in rows if r.state == state]
    ctx.update(reports=rows, day=day, prev_day=day - dt.timedelta(days=1),
               next_day=day + dt.timedelta(days=1) if day < yesterday else None, yesterday=yesterday,
               group=group, groups=GROUPS, state=state, counts=counts, states=DailyState.choices)
    return TemplateResponse(request, "reports/daily_list.html", ctx)


@shop_page
def daily_detail(request, report_id: int):
    shop, member = request.shop, request.member
    r = S.daily_report_get_for_user(shop=shop, member=member, id=report_id)
    own = member.id == r.agent_id
    orders = r.signed_orders if r.state == DailyState.SIGNED and r.signed_orders is not None else r.orders
    totals = {"paid": sum((_dec(o["paid"]) for o in orders), _dec(0)),
              "refund": sum((_dec(o["refund"]) for o in orders), _dec(0))}
    ctx = {"r": r, "own": own, "changes": daily.daily_report_changes(r), "figures": daily.FIGURES,
           "shown": r.signed_figures if r.state == DailyState.SIGNED else r.figures, "orders": orders,
           "totals": totals, "can_sign": own and (r.state == DailyState.PENDING or r.changed),
           "supervisor": is_supervisor(member), "error": request.GET.get("error", "")[:300]}
    return TemplateResponse(request, "reports/daily_detail.html", ctx)


def _dec(v) -> Decimal:
    return Decimal(str(v))


@require_POST
@shop_page
def daily_sign(request, report_id: int):
    shop, member = request.shop, request.member
    S.daily_report_get_for_user(shop=shop, member=member, id=report_id)
    url = reverse("reports:daily_detail", args=[report_id])
    try:
        daily.daily_report_sign(shop=shop, report_id=report_id, by=member, note=request.POST.get("note", ""),
                                actor=request.user)
    except KefuError as exc:
        return redirect(f"{url}?{urlencode({'error': exc.message})}")
    return redirect(url)


@require_POST
@shop_page
def daily_generate(request):
    shop, member = request.shop, request.member
    if not is_supervisor(member):
        return HttpResponseForbidden(_("只有主管和经理可以生成日报"))
    raw = request.POST.get("day", "")
    day = _day(raw, shop_day(timezone.now(), shop.tz) - dt.timedelta(days=1))
    url = reverse("reports:daily") + f"?day={day.isoformat()}"
    try:
        daily.daily_reports_generate(shop=shop, day=day)
    except KefuError as exc:
        return redirect(f"{url}&{urlencode({'error': exc.message})}")
    return redirect(url)
