"""Pages of commissions (WF-5): the month's statements with the payroll export, one statement with
its orders and clawbacks, and the plans (managers edit them)."""

from decimal import Decimal

from django.http import HttpResponseBadRequest, HttpResponseForbidden
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.exports import MONEY, column_sums
from kefu.web.views import export_response, shop_page

from .. import pay as services
from .. import selectors as S
from ..access import is_manager, is_supervisor
from ..api.common import month_of
from ..enums import LineKind, PlanMode
from ..models import CommissionPlan
from .common import GROUPS, back, group_of, month_ctx

PAYROLL_COLUMNS = ("agent", "group", "orders", "sales", "refunds", "net_sales", "base", "kpi_tier", "kpi_factor",
                   "points_left", "points_factor", "commission", "clawback", "bonus", "total")


def _labels() -> dict:
    return {"agent": _("客服"), "group": _("组"), "orders": _("订单数"), "sales": _("销售额"), "refunds": _("退款"),
            "net_sales": _("计提销售额"), "base": _("阶梯提成"), "kpi_tier": _("绩效等级"), "kpi_factor": _("绩效系数"),
            "points_left": _("考核分"), "points_factor": _("考核分系数"), "commission": _("提成"),
            "clawback": _("追回/补发"), "bonus": _("奖金"), "total": _("应发")}


@shop_page
def pay(request):
    shop, member = request.shop, request.member
    month, ctx = month_ctx(request, shop)
    if not is_supervisor(member):
        st = S.statement_of(shop=shop, agent=member, month=month)
        if st is not None:
            return back("people:statement", st.id)
    group = group_of(request)
    statements = S.statements_for(shop=shop, member=member, month=month, group=group)
    fmt = request.GET.get("export")
    if fmt:
        if fmt not in ("csv", "xlsx"):
            return HttpResponseBadRequest(_("导出格式只能是 csv 或 xlsx"))
        rows = [{c: getattr(st, c) for c in PAYROLL_COLUMNS if c not in ("agent", "group")}
                | {"agent": st.agent.name, "group": st.agent.group_text} for st in statements]
        money = ("sales", "refunds", "net_sales", "base", "commission", "clawback", "bonus", "total")
        return export_response(fmt, list(PAYROLL_COLUMNS), rows, f"payroll-{month:%Y-%m}", _labels(),
                               title=_("提成工资单") + f" {month:%Y-%m}", kinds=dict.fromkeys(money, MONEY),
                               total=column_sums(rows, ("orders", *money)))
    totals = {k: sum((getattr(st, k) for st in statements), Decimal(0))
              for k in ("sales", "refunds", "net_sales", "commission", "clawback", "bonus", "total")}
    ctx.update({"statements": statements, "totals": totals, "group": group, "groups": GROUPS, "group_labels": dict(GROUPS),
                "supervisor": is_supervisor(member), "can_edit": is_manager(member),
                "plans": list(CommissionPlan.objects.filter(shop=shop).order_by("group")),
                "modes": PlanMode.choices, "month_state": S.month_state(shop=shop, month=month),
                "error": request.GET.get("error", "")[:300]})
    return TemplateResponse(request, "people/pay.html", ctx)


@shop_page
def statement(request, statement_id: int):
    shop, member = request.shop, request.member
    st = S.statement_get_for_user(shop=shop, member=member, id=statement_id)
    lines = list(st.lines.all())
    ctx = {"st": st, "orders": [ln for ln in lines if ln.kind == LineKind.ORDER],
           "clawbacks": [ln for ln in lines if ln.kind == LineKind.CLAWBACK],
           "bonuses": [ln for ln in lines if ln.kind in (LineKind.BONUS, LineKind.RANKING)],
           "month_state": S.month_state(shop=shop, month=st.month), "own": member.id == st.agent_id}
    return TemplateResponse(request, "people/statement.html", ctx)


@require_POST
@shop_page
def recompute(request):
    shop, member = request.shop, request.member
    month = request.POST.get("month", "")
    if not is_supervisor(member):
        return HttpResponseForbidden(_("只有主管可以重算"))
    try:
        services.commission_recompute(shop=shop, month=month_of(shop, month))
    except KefuError as exc:
        return back("people:pay", month=month, error=exc.message)
    return back("people:pay", month=month)


def _pairs(text: str, width: int, field: str) -> list[list[str]]:
    """ "0:1, 50000:1.5" → [["0", "1"], ["50000", "1.5"]] (also with Chinese punctuation)."""
    out = []
    for part in text.replace("，", ",").replace("：", ":").split(","):
        part = part.strip()
        if not part:
            continue
        bits = [b.strip() for b in part.split(":")]
        if len(bits) != width:
            raise KefuError(_("%(f)s 的格式不对：%(p)s") % {"f": field, "p": part}, field=field)
        out.append(bits)
    return out


@require_POST
@shop_page
def plan_save(request):
    shop, member = request.shop, request.member
    month = request.POST.get("month", "")
    p = request.POST
    try:
        if p.get("delete") == "1":
            services.commission_plan_delete(shop=shop, by=member, group=p.get("group", ""), actor=request.user)
        else:
            services.commission_plan_set(
                shop=shop, by=member, group=p.get("group", ""), mode=p.get("mode", PlanMode.PROGRESSIVE),
                tiers=_pairs(p.get("tiers", ""), 2, "tiers"), floor=p.get("floor") or "0",
                kpi_tiers=_pairs(p.get("kpi_tiers", ""), 3, "kpi_tiers"),
                points_tiers=_pairs(p.get("points_tiers", ""), 2, "points_tiers"), actor=request.user)
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except KefuError as exc:
        return back("people:pay", month=month, error=exc.message)
    return back("people:pay", month=month)

