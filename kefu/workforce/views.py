"""Pages: roster per week and group, shift types, swaps, on shift now with statuses (SPEC WF-1, WF-3)."""

import datetime as dt

from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.access import sees_whole_shop
from kefu.core.enums import Group
from kefu.core.errors import KefuError, PermissionDenied
from kefu.people.selectors import agents_in_probation
from kefu.web.views import shop_page

from . import selectors as S
from . import services
from .enums import PresenceStatus, ShiftGroup, SwapStatus

GROUPS = [(Group.PRESALES.value, Group.PRESALES.label), (Group.AFTERSALES.value, Group.AFTERSALES.label)]


def _date(raw: str | None, default: dt.date | None = None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _status_ctx(member) -> dict:
    presence = S.presence_of(agent=member)
    return {"my_status": presence.status if presence else PresenceStatus.OFFLINE,
            "my_since": presence.since if presence else None, "statuses": PresenceStatus.choices}


# ---------------------------------------------------------------- roster

@shop_page
def roster(request):
    shop, member = request.shop, request.member
    today = S.shop_today(shop)
    week_start = S.week_start_of(_date(request.GET.get("week"), today))
    group = request.GET.get("group") or ""
    if group not in dict(GROUPS):
        group = ""
    can_edit = sees_whole_shop(member)
    data = S.roster_week(shop=shop, member=member, week_start=week_start, group=group or None)
    shifts = S.shifts_list(shop=shop, active_only=True)
    ctx = {
        "days": data["days"], "rows": data["rows"], "week_start": week_start, "today": today,
        "prev_week": week_start - dt.timedelta(days=7), "next_week": week_start + dt.timedelta(days=7),
        "group": group, "groups": GROUPS, "can_edit": can_edit, "shifts": shifts,
        "on_shift": S.on_shift_now(shop=shop), "error": request.GET.get("error", "")[:300],
        "probation": agents_in_probation(shop=shop, day=today), **_status_ctx(member),
    }
    return TemplateResponse(request, "workforce/roster.html", ctx)


@require_POST
@shop_page
def roster_cell(request):
    """A supervisor sets one agent's shift of one day (htmx: the cell comes back)."""
    shop, member = request.shop, request.member
    if not sees_whole_shop(member):
        return HttpResponseForbidden(_("只有主管可以排班"))
    agent = S.agent_get(shop=shop, id=_int(request.POST.get("agent")) or 0)
    day = _date(request.POST.get("date"))
    if day is None:
        raise Http404("date")
    shift_id = _int(request.POST.get("shift"))
    shifts = [S.shift_get(shop=shop, id=shift_id)] if shift_id else []
    error = ""
    try:
        services.roster_day_set(shop=shop, agent=agent, date=day, shifts=shifts, by=member, actor=request.user)
    except KefuError as exc:
        error = exc.message
    entries = list(agent.roster_entries.filter(date=day).select_related("shift").order_by("starts_at"))
    ctx = {"agent": agent, "day": day, "entries": entries, "can_edit": True,
           "shifts": S.shifts_list(shop=shop, active_only=True), "cell_error": error}
    if request.htmx:
        return TemplateResponse(request, "workforce/roster.html#cell", ctx)
    return _back_to_roster(day, error)


def _back_to_roster(day: dt.date, error: str = ""):
    from urllib.parse import urlencode

    query = {"week": S.week_start_of(day).isoformat()}
    if error:
        query["error"] = error
    return redirect(reverse("workforce:roster") + "?" + urlencode(query))


@require_POST
@shop_page
def roster_copy(request):
    """Copy last week's roster into this week (supervisors)."""
    shop, member = request.shop, request.member
    if not sees_whole_shop(member):
        return HttpResponseForbidden(_("只有主管可以排班"))
    week_start = S.week_start_of(_date(request.POST.get("week"), S.shop_today(shop)))
    group = request.POST.get("group") or None
    try:
        services.roster_week_copy(shop=shop, week_start=week_start, group=group, by=member, actor=request.user)
    except KefuError as exc:
        return _back_to_roster(week_start, exc.message)
    return _back_to_roster(week_start)


# ---------------------------------------------------------------- status

@require_POST
@shop_page
def status_set(request):
    """The person sets their own status: online, away, offline."""
    shop, member = request.shop, request.member
    try:
        services.presence_set(shop=shop, agent=member, status=request.POST.get("status", ""), by=member,
                              actor=request.user)
    except KefuError as exc:
        return HttpResponse(exc.message, status=400)
    if request.htmx:
        return TemplateResponse(request, "workforce/_status.html", _status_ctx(member))
    nxt = str(request.POST.get("next", ""))
    # Back to the page the control sits on (roster pages, the conversation list); never off-site.
    return redirect(nxt if nxt.startswith(("/workforce/", "/conversations/")) else "workforce:roster")


# ---------------------------------------------------------------- on shift now

@shop_page
def now(request):
    shop, member = request.shop, request.member
    day = _date(request.GET.get("day"), S.shop_today(shop))
    only = None if sees_whole_shop(member) else member
    ctx = {"on_shift": S.on_shift_now(shop=shop), "day": day,
           "probation": agents_in_probation(shop=shop, day=S.shop_today(shop)),
           "gaps": S.not_online_intervals(shop=shop, day=day, agent=only),
           "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1),
           **_status_ctx(member)}
    if request.htmx and request.htmx.target == "on-shift":
        return TemplateResponse(request, "workforce/_on_shift.html", ctx)
    return TemplateResponse(request, "workforce/now.html", ctx)


# ---------------------------------------------------------------- shift types

def _shift_form_values(request) -> dict:
    return {k: request.POST.get(k, "").strip() for k in ("name", "start", "end", "group")}


@shop_page
def shifts(request):
    shop, member = request.shop, request.member
    can_edit = sees_whole_shop(member)
    form, error = {"group": ShiftGroup.ANY}, None
    if request.method == "POST":
        if not can_edit:
            return HttpResponseForbidden(_("只有主管可以编辑班次"))
        form = _shift_form_values(request)
        try:
            services.shift_create(shop=shop, by=member, actor=request.user, **form)
            return redirect("workforce:shifts")
        except KefuError as exc:
            error = exc
    ctx = {"shifts": S.shifts_list(shop=shop), "can_edit": can_edit, "form": form, "error": error,
           "shift_groups": ShiftGroup.choices}
    return TemplateResponse(request, "workforce/shifts.html", ctx, status=400 if error else 200)


@shop_page
def shift_edit(request, shift_id: int):
    shop, member = request.shop, request.member
    shift = S.shift_get(shop=shop, id=shift_id)
    if not sees_whole_shop(member):
        raise Http404("shift")
    error = None
    form = {"name": shift.name, "start": shift.start_label, "end": shift.end_label, "group": shift.group,
            "active": shift.active}
    if request.method == "POST":
        form = {**_shift_form_values(request), "active": request.POST.get("active") == "1"}
        try:
            services.shift_update(shop=shop, shift=shift, by=member, actor=request.user, **form)
            return redirect("workforce:shifts")
        except KefuError as exc:
            error = exc
    ctx = {"shift": shift, "form": form, "error": error, "shift_groups": ShiftGroup.choices}
    return TemplateResponse(request, "workforce/shift_edit.html", ctx, status=400 if error else 200)


# ---------------------------------------------------------------- swaps

@shop_page
def swaps(request):
    shop, member = request.shop, request.member
    supervisor = sees_whole_shop(member)
    error, form = None, {}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in ("date", "agent_a", "agent_b", "shift_a", "shift_b", "reason")}
        try:
            day = _date(form["date"])
            if day is None:
                raise KefuError(_("请选择日期"), field="date")
            agent_a = S.agent_get(shop=shop, id=_int(form["agent_a"]) or 0) if supervisor and form["agent_a"] else member
            agent_b = S.agent_get(shop=shop, id=_int(form["agent_b"]) or 0)
            shift_a = S.shift_get(shop=shop, id=_int(form["shift_a"]) or 0)
            shift_b = S.shift_get(shop=shop, id=_int(form["shift_b"]) or 0) if form["shift_b"] else None
            services.swap_request(shop=shop, date=day, agent_a=agent_a, agent_b=agent_b, shift_a=shift_a,
                                  shift_b=shift_b, reason=form["reason"], by=member, actor=request.user)
            return redirect("workforce:swaps")
        except (KefuError, Http404) as exc:
            error = exc.message if isinstance(exc, KefuError) else _("找不到该客服或班次")
    status = request.GET.get("status") or ""
    ctx = {
        "swaps": S.swaps_list(shop=shop, member=member, status=status or None),
        "status": status, "swap_statuses": SwapStatus.choices, "supervisor": supervisor, "error": error,
        "form": form, "agents": list(shop.agents.filter(active=True).order_by("group", "name")),
        "shifts": S.shifts_list(shop=shop, active_only=True), "today": S.shop_today(shop),
    }
    return TemplateResponse(request, "workforce/swaps.html", ctx, status=400 if error else 200)


@require_POST
@shop_page
def swap_decide(request, swap_id: int, action: str):
    shop, member = request.shop, request.member
    swap = S.swap_get_for_user(shop=shop, member=member, id=swap_id)
    to = {"approve": SwapStatus.APPROVED, "reject": SwapStatus.REJECTED, "cancel": SwapStatus.CANCELLED}.get(action)
    if to is None:
        raise Http404("action")
    try:
        services.swap_transition(shop=shop, swap=swap, to=to, by=member, note=request.POST.get("note", ""),
                                 actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        from urllib.parse import urlencode

        return redirect(reverse("workforce:swaps") + "?" + urlencode({"error": exc.message}))
    return redirect("workforce:swaps")
