"""Pages: case list, new case, a case with its timeline, money lines, policy and transition buttons."""

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.approvals.authority import authority_check
from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError
from kefu.orders.models import Order
from kefu.web.views import shop_page

from . import logistics, money, policy, services
from . import selectors as sel
from .enums import CaseReason, CaseState, CaseType, ClaimState, Direction, MoneyLineKind, Party

PER_PAGE = 50


class CaseForm(forms.Form):
    order_id = forms.CharField(label=gettext_lazy("订单编号"), max_length=64, required=False)
    type = forms.ChoiceField(label=gettext_lazy("售后类型"), choices=CaseType.choices)
    reason = forms.ChoiceField(label=gettext_lazy("售后原因"), choices=CaseReason.choices)
    responsible = forms.ChoiceField(label=gettext_lazy("责任方"), choices=[("", "—"), *Party.choices], required=False)
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=80, required=False)
    qty = forms.IntegerField(label=gettext_lazy("数量"), min_value=1, initial=1, required=False)
    intercepted = forms.BooleanField(label=gettext_lazy("拦截件"), required=False)
    refused = forms.BooleanField(label=gettext_lazy("拒收"), required=False)
    note = forms.CharField(label=gettext_lazy("备注"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


@shop_page
def case_list(request):
    shop, member = request.shop, request.member
    state = request.GET.get("state") if request.GET.get("state") in CaseState.values else None
    qs = sel.cases_for(shop=shop, member=member, state=state)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "aftersales/list.html",
                            {"page": page, "state": state or "", "states": CaseState.choices,
                             "whole_shop": sees_whole_shop(member)})


@shop_page
def case_new(request):
    shop, member = request.shop, request.member
    if request.method == "POST":
        form = CaseForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            order = None
            if d["order_id"]:
                order = Order.objects.filter(shop=shop, order_id=d["order_id"].strip()).first()
                if order is None:
                    form.add_error("order_id", _("本店没有这个订单"))
            if not form.errors:
                items = [(d["sku"], d["qty"] or 1)] if d["sku"] else []
                try:
                    case = services.case_open(shop=shop, actor_agent=member, type=d["type"], reason=d["reason"],
                                              order=order, responsible=d["responsible"], items=items,
                                              intercepted=d["intercepted"], refused=d["refused"], note=d["note"])
                    return redirect("aftersales:detail", case_id=case.pk)
                except KefuError as exc:
                    field = (exc.field or "").split(".")[-1]
                    form.add_error(field if field in form.fields else None, exc.message)
    else:
        form = CaseForm(initial={"order_id": request.GET.get("order", "")[:64]})
    return TemplateResponse(request, "aftersales/new.html", {"form": form}, status=400 if form.errors else 200)


def _detail_context(request, case, error=None, new_item_price=None) -> dict:
    shop, member = request.shop, request.member
    payout = services.planned_payout(case)
    money_blocked = None
    if payout > 0:
        decision = authority_check(shop=shop, agent=member, kind=services.AUTHORITY_KIND, amount=payout)
        if not decision.allowed:
            money_blocked = decision
    first = next(iter(case.items.all()), None)
    windows = sel.windows_for(shop=shop, category=sel.category_of(shop, first.sku if first else None),
                              signed_at=case.order.signed_at if case.order_id else None)
    try:
        suggestion = sel.policy_for_case(case, new_item_price=new_item_price, windows=windows)
    except KefuError:
        suggestion = None
        if new_item_price:
            error = error or _("换货新商品价格不对")
    names = policy.labels()

    def name(code):
        return names.get(code, code)

    shown = None
    if suggestion is not None:
        shown = {"handling": [name(h) for h in suggestion.handling], "checks": [name(c) for c in suggestion.checks],
                 "return_shipping": name(suggestion.return_shipping),
                 "reship_shipping": name(suggestion.reship_shipping),
                 "direction": name(suggestion.price_difference_direction)}
    # Money steps are not plain buttons: they go through the refund form (approval above authority).
    buttons = [(s, CaseState(s).label, False)
               for s in CaseState.values if s in services.TRANSITIONS[case.state]
               and not (s in services.MONEY_STATES and payout > 0)]
    money_steps = [(s, CaseState(s).label) for s in sorted(services.MONEY_STATES)
                   if s in services.TRANSITIONS[case.state] and payout > 0]
    pending = next((a for a in case.approvals.all() if a.state == "pending"), None)
    trusted = sel.buyer_trusted(shop=shop, case=case) if case.state == CaseState.WAITING_RETURN else False
    early_ok, early_why = money.early_refund_eligibility(case, trusted=trusted)
    return {"case": case, "suggestion": suggestion, "shown": shown, "buttons": buttons, "payout": payout,
            "money_blocked": money_blocked, "error": error, "money_steps": money_steps, "pending": pending,
            "days_since_signed": sel.days_since_signed_in_shop(shop, case.order),
            "new_item_price": new_item_price or "", "windows": windows,
            "editable": case.state not in money.FINISHED and pending is None,
            "early_ok": early_ok, "early_why": early_why, "trusted": trusted,
            "needs_retention": sel.needs_retention(case), "outcome": logistics.money_outcome(case),
            "claim_reasons": case.reason in logistics.CLAIM_REASONS, "claim_states": ClaimState.choices,
            "line_kinds": MoneyLineKind.choices, "directions": Direction.choices,
            "order_skus": [it.sku_code for it in case.order.items.all()] if case.order_id else [],
            "second_service": getattr(case, "second_service", None) if hasattr(case, "second_service") else None,
            "evidence": list(case.evidence.all()), "whole_shop": sees_whole_shop(member),
            "pending_retention": next((r for r in case.retentions.all() if r.outcome == "offered"), None)}


@shop_page
def case_detail(request, case_id: int):
    case = sel.case_get_for_user(shop=request.shop, member=request.member, id=case_id)
    new_price = request.GET.get("new_item_price", "").strip()[:20] or None
    return TemplateResponse(request, "aftersales/detail.html", _detail_context(request, case, new_item_price=new_price))


def _error_text(exc: KefuError) -> str:
    known = {
        "stale_version": _("该售后单已被他人更新，请刷新后重试"),
        "invalid_transition": _("当前状态不能执行此操作"),
        "approval_pending": _("该售后单有退款正在审批，审批后再操作"),
        "not_open": _("该售后单已结束，不能再修改"),
        "line_done": _("该款项已执行，不能修改"),
        "not_eligible": _("不满足提前退款条件："),
        "person_required": _("需要登录的客服本人操作"),
    }
    if exc.code == "not_eligible":
        return known["not_eligible"] + exc.message
    if exc.code == "above_authority":
        return _("超出你的权限：") + exc.message
    text = known.get(exc.code)
    if text:
        return text
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


@require_POST
@shop_page
def case_transition_view(request, case_id: int):
    shop, member = request.shop, request.member
    case = sel.case_get_for_user(shop=shop, member=member, id=case_id)
    error = None
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    try:
        services.case_transition(shop=shop, case=case, to=request.POST.get("to", ""), actor_agent=member,
                                 expected_version=version, note=request.POST.get("note", ""))
    except KefuError as exc:
        error = _error_text(exc)
    case = sel.case_get_for_user(shop=shop, member=member, id=case_id)
    if request.htmx:
        return TemplateResponse(request, "aftersales/detail.html#panel", _detail_context(request, case, error))
    if error:
        return TemplateResponse(request, "aftersales/detail.html", _detail_context(request, case, error), status=409)
    return redirect("aftersales:detail", case_id=case.pk)
