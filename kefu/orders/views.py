"""Pages: an order (items, requests, remarks, money, timeline), the request list, the warehouse worklist."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.approvals.models import MoneyAction
from kefu.core.access import mask_address, sees_contacts, sees_whole_shop
from kefu.core.errors import KefuError, NotFound, http_status
from kefu.integrations.selectors import order_tracking
from kefu.web.views import shop_page

from . import requests as svc
from . import selectors as sel
from .adjust import payable
from .enums import OrderStatus, RequestKind, RequestState, TaskKind, TaskOutcome, TaskState
from .remarks import order_remark_add, remark_types_for, remarks_text
from .replies import suggested_reply

PER_PAGE = 50
OUTCOMES_BY_KIND = {k: [(o, TaskOutcome(o).label) for (kk, o) in svc.TASK_OUTCOMES if kk == k] for k in TaskKind.values}


def _error_text(exc: KefuError) -> str:
    return {
        "invalid_transition": _("当前状态不能执行此操作"),
        "already_done": _("该任务已被处理，请刷新"),
        "forbidden": _("你的角色不能执行此操作"),
        "person_required": _("需要登录的人员操作"),
        "wrong_order_state": _("订单当前状态不适用这种备注"),
    }.get(exc.code, f"{exc.field}: {exc.message}" if exc.field else exc.message)


def _request_rows(reqs, member, contacts: bool) -> list[dict]:
    rows = []
    for r in reqs:
        key, text = suggested_reply(r)
        value = r.new_value if contacts or r.kind != RequestKind.CHANGE_ADDRESS else mask_address(r.new_value)
        mine = r.requested_by_id == member.pk or sees_whole_shop(member)
        actions = [(a, svc.A(a).label) for a in svc.AGENT_ACTIONS if mine and (r.state, a) in svc.TRANSITIONS
                   and (a != svc.A.ASK_INTERCEPT or r.kind == RequestKind.CANCEL)]
        rows.append({"r": r, "value": value, "key": key, "reply": text, "actions": actions,
                     "advice": svc.ROUTES[(r.kind, r.order_status)].advice})
    return rows


def _state_label(value: str) -> str:
    for choices in (RequestState, TaskState):
        if value in choices.values:
            return str(choices(value).label)
    return value


def _label_states(event):
    event.from_label, event.to_label = _state_label(event.from_state), _state_label(event.to_state)
    return event


def _order_context(request, order, error=None) -> dict:
    shop, member = request.shop, request.member
    contacts = sees_contacts(member)
    reqs = sel.order_requests_for(shop=shop, member=member, order=order).select_related("order__customer", "shop")
    remarks = list(sel.order_remarks(shop=shop, order=order))
    return {
        "order": order, "items": list(order.items.all()), "payable": payable(order),
        "address": order.address if contacts else mask_address(order.address),
        "requests": _request_rows(reqs, member, contacts), "kinds": RequestKind.choices,
        "remarks": remarks, "remark_text": remarks_text(remarks), "remark_types": remark_types_for(member, order),
        "events": [_label_states(e) for e in sel.order_events(shop=shop, order=order)],
        "tasks": list(sel.warehouse_tasks_for(shop=shop, order=order)),
        "money_actions": list(MoneyAction.objects.filter(shop=shop, order=order)
                              .select_related("requested_by", "approved_by")),
        "adjustments": list(order.adjustments.all()), "error": error,
        "case_refunds": _case_refunds(shop, order),
        "tracking": order_tracking(order=order),
        "buyer_openable": _buyer_openable(member, order),
    }


def _buyer_openable(member, order) -> bool:
    """The order page links its buyer when the person may open that buyer (the buyer list's rule)."""
    from kefu.customers.models import Customer
    from kefu.customers.selectors import visible_buyers_q

    return Customer.objects.filter(pk=order.customer_id).filter(visible_buyers_q(member)).exists()


def _case_refunds(shop, order) -> list:
    """Money the shop paid the buyer through after-sales cases on this order (refund history)."""
    from kefu.aftersales.enums import Direction
    from kefu.aftersales.models import CaseMoneyLine

    return list(CaseMoneyLine.objects.filter(shop=shop, case__order=order, direction=Direction.SHOP_TO_BUYER)
                .select_related("case").order_by("created_at", "id"))


def _list_filters(request) -> tuple[dict, list[str]]:
    """The order list's query string, parsed; bad values are named and left out, never a 500."""
    g, errors = request.GET, []
    f = {"q": g.get("q", "").strip()[:100], "status": g.get("status", ""), "refund": g.get("refund", "")}
    if f["status"] not in OrderStatus.values:
        f["status"] = ""
    if f["refund"] not in ("yes", "no"):
        f["refund"] = ""
    for key, label in (("from", _("下单日期从")), ("to", _("到"))):
        raw = g.get(key, "").strip()
        try:
            f[key] = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            f[key] = None
            errors.append(_("%(field)s：不是日期（YYYY-MM-DD）：%(value)s") % {"field": label, "value": raw})
    for key, label in (("pay_from", _("付款日期从")), ("pay_to", _("到"))):
        raw = g.get(key, "").strip()
        try:
            f[key] = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            f[key] = None
            errors.append(_("%(field)s：不是日期（YYYY-MM-DD）：%(value)s") % {"field": label, "value": raw})
    raw = g.get("agent", "").strip()
    f["agent"] = int(raw) if raw.isdigit() else None
    if raw and f["agent"] is None:
        errors.append(_("%(field)s：不是客服编号：%(value)s") % {"field": _("客服"), "value": raw})
    for key, label in (("min", _("实付金额从")), ("max", _("实付金额到"))):
        raw = g.get(key, "").strip()
        try:
            f[key] = Decimal(raw) if raw else None
            if f[key] is not None and not f[key].is_finite():
                raise InvalidOperation
        except InvalidOperation:
            f[key] = None
            errors.append(_("%(field)s：不是金额：%(value)s") % {"field": label, "value": raw})
    return f, errors


@shop_page
def order_list(request):
    """Find an order: by id or buyer, state, order day, paid amount, refunded or not."""
    f, errors = _list_filters(request)
    member = request.member
    credited = f["pay_from"] is not None or f["pay_to"] is not None or f["agent"] is not None
    if credited and not sees_whole_shop(member):
        f["agent"] = member.id  # an agent drills into their own sales only
    qs = sel.orders_filter(shop=request.shop, q=f["q"], status=f["status"], date_from=f["from"], date_to=f["to"],
                           amount_min=f["min"], amount_max=f["max"], refund=f["refund"], credited=credited,
                           pay_from=f["pay_from"], pay_to=f["pay_to"], agent_id=f["agent"])
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"page": page, "f": f, "errors": errors, "statuses": OrderStatus.choices, "query": query.urlencode(),
           "filtered": any(v not in ("", None) for v in f.values())}
    if credited:
        # The figures of the dashboard cell this list was opened from, over the same orders.
        ctx["credited"] = sel.credited_totals(qs)
        ctx["credited_agent"] = sel.agent_name(shop=request.shop, agent_id=f["agent"])
    return TemplateResponse(request, "orders/list.html", ctx)


@shop_page
def order_detail(request, order_id: str):
    order = sel.order_get_in_shop(shop=request.shop, order_id=order_id)
    return TemplateResponse(request, "orders/order.html", _order_context(request, order))


@require_POST
@shop_page
def order_request_new(request, order_id: str):
    shop, member = request.shop, request.member
    order = sel.order_get_in_shop(shop=shop, order_id=order_id)
    try:
        r = svc.order_request_create(shop=shop, order=order, kind=request.POST.get("kind", ""), actor=member,
                                     reason=request.POST.get("reason", ""), new_value=request.POST.get("new_value", ""))
    except KefuError as exc:
        order = sel.order_get_in_shop(shop=shop, order_id=order_id)
        return TemplateResponse(request, "orders/order.html", _order_context(request, order, _error_text(exc)),
                                status=400)
    messages.success(request, _("已提交：%(kind)s — %(state)s") % {"kind": RequestKind(r.kind).label,
                                                                   "state": RequestState(r.state).label})
    return redirect(f"{request.path.rsplit('/requests/', 1)[0]}/#request-{r.pk}")


@require_POST
@shop_page
def order_request_act(request, request_id: int):
    shop, member = request.shop, request.member
    r = sel.order_request_get(shop=shop, request_id=request_id)
    try:
        svc.order_request_transition(shop=shop, request_id=r.pk, action=request.POST.get("action", ""), actor=member,
                                     note=request.POST.get("note", ""))
    except KefuError as exc:
        order = sel.order_get_in_shop(shop=shop, order_id=r.order.order_id)
        return TemplateResponse(request, "orders/order.html", _order_context(request, order, _error_text(exc)),
                                status=409 if exc.code == "invalid_transition" else 400)
    return redirect("orders:detail", order_id=r.order.order_id)


@require_POST
@shop_page
def order_remark_new(request, order_id: str):
    shop, member = request.shop, request.member
    order = sel.order_get_in_shop(shop=shop, order_id=order_id)
    try:
        order_remark_add(shop=shop, order=order, type=request.POST.get("type", ""),
                         reason=request.POST.get("reason", ""), author=member)
    except KefuError as exc:
        return TemplateResponse(request, "orders/order.html", _order_context(request, order, _error_text(exc)),
                                status=400)
    return redirect(f"{request.path.rsplit('/remarks/', 1)[0]}/#remarks")


@shop_page
def request_list(request):
    shop, member = request.shop, request.member
    state = request.GET.get("state") if request.GET.get("state") in RequestState.values else None
    qs = sel.order_requests_for(shop=shop, member=member, state=state)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "orders/requests.html",
                            {"page": page, "state": state or "", "states": RequestState.choices,
                             "whole_shop": sees_whole_shop(member)})


def _worklist_context(request, error=None, error_task=None) -> dict:
    wl = sel.warehouse_worklist(shop=request.shop)
    return {"open": wl["open"], "done_today": wl["done_today"], "outcomes": OUTCOMES_BY_KIND,
            "can_work": request.member.has_role(*svc.WAREHOUSE_ROLES), "contacts": sees_contacts(request.member),
            "error": error, "error_task": error_task}


@shop_page
def warehouse(request):
    return TemplateResponse(request, "orders/warehouse.html", _worklist_context(request))


@require_POST
@shop_page
def warehouse_complete(request, task_id: int):
    shop, member = request.shop, request.member
    error = None
    try:
        svc.warehouse_task_complete(shop=shop, task_id=task_id, actor=member, outcome=request.POST.get("outcome", ""),
                                    tracking_no=request.POST.get("tracking_no", ""),
                                    courier=request.POST.get("courier", ""), note=request.POST.get("note", ""))
    except NotFound as exc:
        raise Http404("warehouse task") from exc
    except KefuError as exc:
        error, status = _error_text(exc), http_status(exc)
    if error:
        return TemplateResponse(request, "orders/warehouse.html", _worklist_context(request, error, task_id),
                                status=status)
    messages.success(request, _("任务 #%(id)s 已完成") % {"id": task_id})
    return redirect("orders:warehouse")
