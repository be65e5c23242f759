"""Pages of the 10-point ledger (WF-4): points of the month with every deduction and its source,
manual deductions and reversals, appeals, and the rule table with the settings."""

from decimal import Decimal

from django.http import Http404, HttpResponseForbidden
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError, PermissionDenied, ValidationFailed, http_status
from kefu.web.views import shop_page

from .. import ledger as services
from .. import rules as R
from .. import selectors as S
from ..access import agent_get_for_user, agents_visible, is_manager, is_supervisor
from ..api.common import month_of
from ..enums import AppealState, RuleSource
from ..models import PeopleSettings
from ..months import month_end, shop_today
from ..templatetags.people_tags import pts
from .common import GROUPS, back, date_or_none, group_of, int_or_none, month_ctx


@shop_page
def points(request):
    shop, member = request.shop, request.member
    month, ctx = month_ctx(request, shop)
    supervisor = is_supervisor(member)
    if not supervisor:
        return back("people:me", month=month.strftime("%Y-%m"))
    group = group_of(request)
    agent = None
    if request.GET.get("agent"):
        agent = agent_get_for_user(shop=shop, member=member, id=int_or_none(request.GET.get("agent")) or 0)
    settings = R.people_settings(shop)
    manual_rules = [r for r in R.rules_list(shop) if r.source == RuleSource.MANUAL and r.active]
    ctx.update({
        "settings": settings, "group": group, "groups": GROUPS, "agent": agent,
        "overview": S.points_overview(shop=shop, member=member, month=month, group=group),
        "deductions": list(S.deductions_for(shop=shop, member=member, month=month, agent=agent)),
        "warnings": S.warnings_for(shop=shop, member=member, month=month),
        "month_state": S.month_state(shop=shop, month=month), "manual_rules": manual_rules,
        "month_over": month_end(month) < shop_today(shop), "can_lock": is_manager(member),
        "agents": [a for a in agents_visible(shop=shop, member=member).order_by("group", "name") if a.has_role("agent")],
        "error": request.GET.get("error", "")[:300],
    })
    return TemplateResponse(request, "people/points.html", ctx)


@require_POST
@shop_page
def deduction_add(request):
    shop, member = request.shop, request.member
    month = request.POST.get("month", "")
    try:
        agent = agent_get_for_user(shop=shop, member=member, id=int_or_none(request.POST.get("agent")) or 0)
        day = date_or_none(request.POST.get("day"))
        if day is None:
            raise KefuError(_("请选择日期"), field="day")
        services.deduction_add(shop=shop, agent=agent, rule_code=request.POST.get("rule", ""),
                               points=request.POST.get("points", ""), day=day, reason=request.POST.get("reason", ""),
                               by=member, actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:points", month=month, error=exc.message)
    except Http404:
        return back("people:points", month=month, error=_("找不到该客服"))
    return back("people:points", month=month)


@require_POST
@shop_page
def deduction_reverse(request, deduction_id: int):
    shop, member = request.shop, request.member
    d = S.deduction_get_for_user(shop=shop, member=member, id=deduction_id)
    try:
        services.deduction_reverse(shop=shop, deduction=d, reason=request.POST.get("reason", ""), by=member,
                                   actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:points", month=d.month.strftime("%Y-%m"), error=exc.message)
    return back("people:points", month=d.month.strftime("%Y-%m"))


@require_POST
@shop_page
def appeal_create(request, deduction_id: int):
    shop, member = request.shop, request.member
    d = S.deduction_get_for_user(shop=shop, member=member, id=deduction_id)
    try:
        services.appeal_create(shop=shop, deduction=d, reason=request.POST.get("reason", ""), by=member,
                               actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:me", month=d.month.strftime("%Y-%m"), error=exc.message)
    return back("people:me", month=d.month.strftime("%Y-%m"))


@shop_page
def appeals(request):
    shop, member = request.shop, request.member
    state = request.GET.get("state", AppealState.PENDING)
    if state not in AppealState.values and state != "all":
        state = AppealState.PENDING
    ctx = {"appeals": S.appeals_for(shop=shop, member=member, state=None if state == "all" else state),
           "state": state, "states": AppealState.choices, "supervisor": is_supervisor(member),
           "error": request.GET.get("error", "")[:300]}
    return TemplateResponse(request, "people/appeals.html", ctx)


@require_POST
@shop_page
def appeal_decide(request, appeal_id: int, action: str):
    shop, member = request.shop, request.member
    a = S.appeal_get_for_user(shop=shop, member=member, id=appeal_id)
    if action not in ("grant", "reject"):
        raise Http404("action")
    try:
        services.appeal_decide(shop=shop, appeal=a, grant=action == "grant", note=request.POST.get("note", ""),
                               by=member, actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:appeals", error=exc.message)
    return back("people:appeals")


@require_POST
@shop_page
def month_decide(request, month: str, action: str):
    """Close (supervisors) or lock (managers) a finished month from the points page."""
    from .. import close as C

    shop, member = request.shop, request.member
    if action not in ("close", "lock"):
        raise Http404("action")
    try:
        m = month_of(shop, month)
        (C.month_close if action == "close" else C.month_lock)(shop=shop, month=m, by=member, actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:points", month=month, error=exc.message)
    return back("people:points", month=month)


# ---------------------------------------------------------------- rules and settings

@shop_page
def rules(request):
    shop, member = request.shop, request.member
    if not is_supervisor(member):
        raise Http404("rules")
    can_edit = is_manager(member)
    error, status = None, 200
    if request.method == "POST":
        if not can_edit:
            return HttpResponseForbidden(_("只有经理可以修改规则"))
        try:
            if request.POST.get("form") == "settings":
                changes = {f: request.POST.get(f, "") for f in R.SETTINGS_FIELDS if f != "ledger_enabled"}
                for f, v in list(changes.items()):
                    if not f.endswith("_points"):
                        changes[f] = int_or_none(v)
                        if changes[f] is None:
                            raise KefuError(_("%(f)s 必须是整数") % {"f": f}, field=f)
                changes["ledger_enabled"] = request.POST.get("ledger_enabled") == "1"
                R.people_settings_update(shop=shop, by=member, actor=request.user, **changes)
            else:
                R.penalty_rules_update(shop=shop, by=member, actor=request.user, changes=_rule_changes(request))
            return back("people:rules")
        except ValidationFailed as exc:
            error, status = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors), 400
        except KefuError as exc:
            error, status = exc.message, http_status(exc)
    settings = R.people_settings(shop)
    rows = [(f, PeopleSettings._meta.get_field(f).verbose_name,
             pts(getattr(settings, f)) if f.endswith("_points") else getattr(settings, f))
            for f in R.SETTINGS_FIELDS if f != "ledger_enabled"]
    if request.method == "POST" and request.POST.get("form") == "settings":
        rows = [(f, label, request.POST.get(f, v)) for f, label, v in rows]  # show what was typed
    ctx = {"rules": R.rules_list(shop), "settings": settings, "setting_rows": rows, "can_edit": can_edit,
           "error": error}
    return TemplateResponse(request, "people/rules.html", ctx, status=status)


def _rule_changes(request) -> list[dict]:
    """The table form: one block of inputs per rule code (rule-<code>-points_each …); tiers as "3:5, 5:10"."""
    changes = []
    codes = request.POST.getlist("code")
    for code in codes:
        p = f"rule-{code}-"
        ch = {"code": code, "name": request.POST.get(p + "name", ""), "active": request.POST.get(p + "active") == "1"}
        for f in ("points_each", "min_points", "max_points"):
            if p + f in request.POST:
                ch[f] = request.POST.get(p + f) or "0"
        if p + "tiers" in request.POST:
            ch["tiers"] = _tiers(request.POST.get(p + "tiers", ""))
        changes.append(ch)
    new_code = request.POST.get("new-code", "").strip()
    if new_code:
        changes.append({"code": new_code, "name": request.POST.get("new-name", ""),
                        "min_points": request.POST.get("new-min_points") or "0",
                        "max_points": request.POST.get("new-max_points") or "0"})
    return changes


def _tiers(text: str) -> list:
    out = []
    for part in text.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        count, _sep, total = part.partition(":")
        try:
            out.append([int(count), str(Decimal(total.strip()))])
        except Exception:
            raise KefuError(_("累计档格式应为 3:5, 5:10"), field="tiers") from None
    return out
