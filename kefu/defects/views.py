"""Pages: production alerts (list, detail with cases, buyers' opinions and actions), the alert rule,
and the return-reasons report with charts and Excel/CSV export.

Supervisors, managers and admins see them; only managers and admins act (acknowledge, close, edit the
rule, scan now). Other roles get a 404, as for any page that is not theirs.
"""

import datetime as dt

from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.aftersales.enums import CaseReason, Party
from kefu.core.errors import KefuError
from kefu.core.exports import MONEY, column_sums
from kefu.core.timeutil import parse_day, shop_day
from kefu.web.views import EXPORT_FORMATS, export_response, shop_page

from . import selectors as sel
from . import services
from .enums import AlertAction, AlertState, GroupBy

REPORT_DEFAULT_DAYS = 30
REPORT_LABELS = {"period": gettext_lazy("期间"), "sku": "SKU", "reason": gettext_lazy("售后原因"),
                 "responsible": gettext_lazy("责任方"), "cases": gettext_lazy("售后单数"), "qty": gettext_lazy("件数"),
                 "refund": gettext_lazy("退款净额"), "shipping": gettext_lazy("运费净额"), "cost": gettext_lazy("售后成本")}


def _error_text(exc: KefuError) -> str:
    if exc.code == "invalid_transition":
        return _("这条预警的状态已变化，不能再执行该操作")
    if exc.code == "manager_only":
        return _("只有经理可以操作")
    return {
        "note": _("请写明处理情况（例如：已通知工厂）"),
        "threshold": _("阈值须为 2 到 100 的整数"),
        "window_days": _("时间窗口须为 1 到 90 天"),
        "reasons": _("请至少选择一个原因"),
    }.get((exc.field or "").split(".")[0], exc.message)


@shop_page
def alert_list(request):
    shop, member = request.shop, request.member
    sel.require_viewer(member)
    state = request.GET.get("state") if request.GET.get("state") in AlertState.values else None
    alerts = list(sel.alerts_for(shop=shop, member=member, state=state)[:200])
    rule = services.rule_for(shop)
    ctx = {"alerts": alerts, "state": state or "", "states": AlertState.choices, "rule": rule,
           "reason_choices": CaseReason.choices, "can_manage": sel.can_manage(member),
           "rule_error": request.GET.get("rule_error", "")[:200], "scanned": request.GET.get("scanned")}
    return TemplateResponse(request, "defects/list.html", ctx)


@shop_page
@require_POST
def rule_edit(request):
    shop, member = request.shop, request.member
    sel.require_viewer(member)
    try:
        services.rule_update(shop=shop, editor=member, reasons=request.POST.getlist("reasons"),
                             threshold=_int(request.POST.get("threshold"), "threshold"),
                             window_days=_int(request.POST.get("window_days"), "window_days"))
    except KefuError as exc:
        resp = redirect("defects:list")
        resp["Location"] += "?" + _query(rule_error=_error_text(exc))
        return resp
    return redirect("defects:list")


def _int(raw, field: str) -> int:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        raise KefuError("a whole number", field=field) from None


def _query(**kw) -> str:
    from urllib.parse import urlencode

    return urlencode(kw)


@shop_page
@require_POST
def scan_now(request):
    shop, member = request.shop, request.member
    sel.require_viewer(member)
    try:
        services.require_manager(shop, member)
    except KefuError:
        raise Http404("defects") from None
    res = services.alerts_scan(shop=shop)
    resp = redirect("defects:list")
    resp["Location"] += "?" + _query(scanned=len(res.raised))
    return resp


@shop_page
def alert_detail(request, alert_id: int):
    shop, member = request.shop, request.member
    alert = sel.alert_get_for_user(shop=shop, member=member, id=alert_id)
    return TemplateResponse(request, "defects/detail.html", _detail_ctx(request, alert))


def _detail_ctx(request, alert, error: str | None = None) -> dict:
    return {"alert": alert, "cases": [ac for ac in alert.alert_cases.all()], "events": list(alert.events.all()),
            "opinions": sel.alert_opinions(shop=request.shop, alert=alert), "can_manage": sel.can_manage(request.member),
            "batch_info": sel.alert_batch(shop=request.shop, alert=alert),
            "actions": [(a, AlertAction(a).label) for a in services.ACTION_TARGET
                        if services.ACTION_TARGET[a] in services.TRANSITIONS[alert.state]],
            "error": error}


@shop_page
@require_POST
def alert_act(request, alert_id: int):
    shop, member = request.shop, request.member
    alert = sel.alert_get_for_user(shop=shop, member=member, id=alert_id)
    error = None
    try:
        services.alert_act(shop=shop, alert_id=alert.pk, action=request.POST.get("action", ""), actor=member,
                           note=request.POST.get("note", ""))
    except KefuError as exc:
        error = _error_text(exc)
    if not request.htmx:
        return redirect("defects:detail", alert_id=alert.pk)
    alert = sel.alert_get_for_user(shop=shop, member=member, id=alert.pk)
    return TemplateResponse(request, "defects/detail.html#state", _detail_ctx(request, alert, error))


def _date(raw: str | None, field: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return parse_day(raw)
    except ValueError as exc:
        raise KefuError(str(exc), field=field) from None


@shop_page
def report(request):
    shop, member = request.shop, request.member
    sel.require_viewer(member)
    today = shop_day(timezone.now(), shop.tz)
    g = request.GET
    error = None
    try:
        date_to = _date(g.get("to"), "to") or today
        date_from = _date(g.get("from"), "from") or date_to - dt.timedelta(days=REPORT_DEFAULT_DAYS - 1)
        q = sel.report_query(date_from=date_from, date_to=date_to, group_by=g.get("group_by") or None,
                             responsible=g.get("responsible") or None, reason=g.get("reason") or None,
                             sku=g.get("sku") or None)
    except KefuError as exc:
        error = f"{exc.field}: {exc.message}"
        q = sel.report_query(date_from=today - dt.timedelta(days=REPORT_DEFAULT_DAYS - 1), date_to=today)
    fmt = g.get("export")
    rep = sel.return_report(shop=shop, member=member, q=q)
    if fmt in EXPORT_FORMATS and error is None:
        columns, rows = sel.report_export_rows(rep)
        name = f"return-reasons-{q.date_from:%Y%m%d}-{q.date_to:%Y%m%d}"
        return export_response(fmt, columns, rows, name, REPORT_LABELS, title=_("售后原因"),
                               date_from=q.date_from, date_to=q.date_to,
                               kinds={k: MONEY for k in ("refund", "shipping", "cost")},
                               total=column_sums(rows, ("cases", "qty", "refund", "shipping", "cost")))
    reasons, parties = dict(CaseReason.choices), dict(Party.choices)
    rows = [{**r, "reason": reasons.get(r["reason"], r["reason"]), "responsible": parties.get(r["responsible"], "")}
            for r in rep["rows"]]
    labels = {"reasons": _("各原因售后单数"), "skus": _("售后单数最多的 SKU"), "cases": _("售后单数"),
              "cost": _("售后成本")}
    ops = (sel.sku_opinions(shop=shop, member=member, sku=q.sku, date_from=q.date_from, date_to=q.date_to)
           if q.sku else None)
    ctx = {"rep": rep, "rows": rows, "opinions": ops, "q": q, "error": error, "group_choices": GroupBy.choices, "chart_labels": labels,
           "party_choices": [*Party.choices, (sel.NO_RESPONSIBLE, _("未定责"))], "reason_choices": CaseReason.choices,
           "export_query": _query(**{k: v for k, v in (("from", q.date_from.isoformat()), ("to", q.date_to.isoformat()),
                                                       ("group_by", q.group_by), ("responsible", q.responsible or ""),
                                                       ("reason", q.reason or ""), ("sku", q.sku or ""))})}
    return TemplateResponse(request, "defects/report.html", ctx, status=400 if error else 200)
