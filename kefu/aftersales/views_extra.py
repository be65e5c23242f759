"""Pages for editing a case (money lines, items, override), refunds above authority, early refunds,
courier claims, retention, second service, evidence and the shop's return rules (AFT-2, 5, 6, 7, 10, 12).

Every case action posts the case version it showed; the answer (htmx) is the case panel again, with
the error in words when the case changed meanwhile or the step is not allowed.
"""

from decimal import Decimal, InvalidOperation

from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError, http_status
from kefu.core.timeutil import parse_day
from kefu.web.views import shop_page

from . import api as case_api
from . import evidence, logistics, money, rules
from . import selectors as sel
from .models import CourierClaim
from .views import _detail_context, _error_text


def _int(request, name: str) -> int:
    try:
        return int(request.POST.get(name, ""))
    except ValueError:
        return -1


def _amount(request, name: str, *, required: bool = True):
    raw = request.POST.get(name, "").strip()
    if not raw:
        if required:
            raise KefuError(_("请填写金额"), field=name)
        return None
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise KefuError(_("金额格式不对"), field=name) from exc


def _bool(request, name: str) -> bool | None:
    v = request.POST.get(name, "")
    return True if v in ("1", "true", "yes") else False if v in ("0", "false", "no") else None


def _op(request, case, op: str) -> str | None:
    """Run one action; returns a success message (for the timeline flash)."""
    s, m, P = request.shop, request.member, request.POST
    ver = _int(request, "version")
    common = {"shop": s, "case": case, "actor_agent": m}
    if op == "refund":
        _c, link = money.case_refund(**common, expected_version=ver, to=P.get("to", "refunded"),
                                     note=P.get("note", ""))
        return _("已提交审批，批准后自动执行退款") if link else _("已退款")
    if op == "early_refund":
        _c, link = money.case_early_refund(**common, expected_version=ver, note=P.get("note", ""))
        return _("已提交审批，批准后自动执行退款") if link else _("已提前退款")
    if op == "return_shipped":
        money.case_return_shipped(**common, expected_version=ver, courier=P.get("courier", ""),
                                  tracking_no=P.get("tracking_no", ""))
    elif op == "return_arrived":
        money.case_return_arrived(**common, expected_version=ver)
    elif op == "line_add":
        money.case_line_add(**common, expected_version=ver, kind=P.get("kind", ""), direction=P.get("direction", ""),
                            amount=_amount(request, "amount"), note=P.get("note", ""))
    elif op == "line_change":
        money.case_line_change(**common, expected_version=ver, line_id=_int(request, "line_id"),
                               amount=_amount(request, "amount"), note=P.get("note") if "note" in P else None)
    elif op == "line_remove":
        money.case_line_remove(**common, expected_version=ver, line_id=_int(request, "line_id"))
    elif op == "item_add":
        money.case_item_add(**common, expected_version=ver, sku=P.get("sku", ""), qty=_int(request, "qty"))
    elif op == "item_change":
        money.case_item_change(**common, expected_version=ver, item_id=_int(request, "item_id"),
                               qty=_int(request, "qty"))
    elif op == "item_remove":
        money.case_item_remove(**common, expected_version=ver, item_id=_int(request, "item_id"))
    elif op == "override":
        money.case_override(**common, expected_version=ver, reason=P.get("reason", ""))
    elif op == "claim_file":
        logistics.claim_file(**common, expected_version=ver, amount_claimed=_amount(request, "amount_claimed"),
                             courier=P.get("courier", ""), tracking_no=P.get("tracking_no", ""),
                             note=P.get("note", ""))
    elif op == "claim_move":
        claim = CourierClaim.objects.filter(shop=s, case=case, pk=_int(request, "claim_id")).first()
        if claim is None:
            raise KefuError(_("没有这个索赔"), field="claim_id", code="not_found")
        logistics.claim_transition(shop=s, claim_id=claim.pk, actor_agent=m, to=P.get("to", ""),
                                   expected_version=_int(request, "claim_version"),
                                   amount_recovered=_amount(request, "amount_recovered", required=False),
                                   note=P.get("note", ""))
    elif op == "retention_offer":
        logistics.retention_offer(**common, expected_version=ver, offer=P.get("offer", ""),
                                  offer_amount=_amount(request, "offer_amount", required=False))
    elif op == "retention_decide":
        logistics.retention_decide(**common, expected_version=ver, attempt_id=_int(request, "attempt_id"),
                                   accepted=P.get("accepted") == "1")
    elif op == "second_service":
        logistics.second_service_done(**common, note=P.get("note", ""), satisfied=_bool(request, "satisfied"))
    else:
        raise Http404("action")
    return _("已保存")


def _panel(request, case_id: int, *, error=None, message=None, status=200):
    case = sel.case_get_for_user(shop=request.shop, member=request.member, id=case_id)
    ctx = _detail_context(request, case, error)
    ctx["message"] = message
    template = "aftersales/detail.html#panel" if request.htmx else "aftersales/detail.html"
    return TemplateResponse(request, template, ctx, status=status if not request.htmx else 200)


@require_POST
@shop_page
def case_action(request, case_id: int, op: str):
    case = sel.case_get_for_user(shop=request.shop, member=request.member, id=case_id)
    try:
        msg = _op(request, case, op)
    except KefuError as exc:
        return _panel(request, case_id, error=_error_text(exc), status=http_status(exc))
    if request.htmx:
        return _panel(request, case_id, message=msg)
    return redirect("aftersales:detail", case_id=case_id)


@require_POST
@shop_page
def evidence_upload(request, case_id: int):
    case = sel.case_get_for_user(shop=request.shop, member=request.member, id=case_id)
    files = request.FILES.getlist("file")
    error = None if files else _("请选择文件")
    for f in files:
        if f.size > evidence.max_bytes():
            error = _("文件太大：") + f.name
            break
        try:
            evidence.evidence_add(shop=request.shop, case=case, actor_agent=request.member, name=f.name,
                                  data=f.read(), sku=request.POST.get("sku", ""), note=request.POST.get("note", ""))
        except KefuError as exc:
            error = f"{f.name}：{_('只能上传图片（jpg/png/gif/webp）、PDF 或 mp4，且不超过 10 MB') if exc.code in ('file_type', 'file_size') else exc.message}"
            break
    if error or request.htmx:
        return _panel(request, case_id, error=error, message=None if error else _("已上传"), status=400)
    return redirect("aftersales:detail", case_id=case_id)


@require_GET
@shop_page
def evidence_file(request, evidence_id: int):
    ev = sel.evidence_get(shop=request.shop, member=request.member, id=evidence_id)
    return case_api.evidence_file_response(ev, thumbnail=request.GET.get("thumb") == "1")


def _date(value: str):
    try:
        return parse_day(value) if value else None
    except ValueError:
        return None


@require_GET
@shop_page
def evidence_search(request):
    shop, member = request.shop, request.member
    buyer_id = request.GET.get("buyer_id", "").strip()[:120]
    sku = request.GET.get("sku", "").strip()[:80]
    date_from, date_to = _date(request.GET.get("from", "")), _date(request.GET.get("to", ""))
    rows = list(sel.evidence_for(shop=shop, member=member, buyer_id=buyer_id or None, sku=sku or None,
                                 date_from=date_from, date_to=date_to)[:200])
    return TemplateResponse(request, "aftersales/evidence.html", {
        "rows": rows, "buyer_id": buyer_id, "sku": sku, "date_from": request.GET.get("from", "")[:10],
        "date_to": request.GET.get("to", "")[:10], "can_zip": bool(buyer_id or sku)})


@require_GET
@shop_page
def evidence_zip(request):
    if not (request.GET.get("sku") or request.GET.get("buyer_id")):
        return redirect("aftersales:evidence")
    return case_api.evidence_zip_response(
        request.shop, request.member, buyer_id=request.GET.get("buyer_id", "").strip()[:120] or None,
        sku=request.GET.get("sku", "").strip()[:80] or None, date_from=_date(request.GET.get("from", "")),
        date_to=_date(request.GET.get("to", "")))


@shop_page
def rules_page(request):
    shop, member = request.shop, request.member
    error = None
    if request.method == "POST":
        P = request.POST
        try:
            op = P.get("op")
            if op == "category":
                rules.category_policy_set(shop=shop, member=member, category=P.get("category", ""),
                                          return_days=_int(request, "return_days"),
                                          quality_days=_int(request, "quality_days"), note=P.get("note", ""))
            elif op == "category_delete":
                rules.category_policy_delete(shop=shop, member=member, policy_id=_int(request, "id"))
            elif op == "holiday":
                rules.holiday_add(shop=shop, member=member, name=P.get("name", ""),
                                  date_from=_date(P.get("date_from", "")), date_to=_date(P.get("date_to", "")))
            elif op == "holiday_delete":
                rules.holiday_delete(shop=shop, member=member, holiday_id=_int(request, "id"))
            else:
                raise KefuError(_("未知操作"), field="op")
            return redirect("aftersales:rules")
        except KefuError as exc:
            error = f"{exc.field}: {exc.message}" if exc.field else exc.message
    ctx = {"rules": sel.rules_for(shop=shop), "can_edit": sees_whole_shop(member), "error": error}
    return TemplateResponse(request, "aftersales/rules.html", ctx, status=400 if error else 200)


@shop_page
def overdue_page(request):
    shop, member = request.shop, request.member
    return TemplateResponse(request, "aftersales/followups.html", {
        "overdue": list(sel.early_refunds_overdue(shop=shop, member=member)[:200]),
        "second": list(sel.second_services_due(shop=shop, member=member)[:200])})
