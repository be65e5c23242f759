"""Pages: request form, approver queue (htmx decisions), money action history, limits, notifications."""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError
from kefu.core.models import Agent
from kefu.orders.models import Order
from kefu.web.views import shop_page

from . import selectors as sel
from . import services
from .authority import AuthorityTable, authority_check
from .enums import APPROVER_ROLES, LIMIT_EDITOR_ROLES, SETTABLE_ROLES, MoneyKind

HISTORY_PER_PAGE = 50
UNLIMITED_WORDS = {"不限", "unlimited", "∞", "无限"}


def _is_approver(member) -> bool:
    return member is not None and member.has_role(*APPROVER_ROLES)


def _is_editor(member) -> bool:
    return member is not None and member.has_role(*LIMIT_EDITOR_ROLES)


# ---------------------------------------------------------------- request form

class MoneyActionForm(forms.Form):
    order_id = forms.CharField(label=gettext_lazy("订单编号"), max_length=64, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=MoneyKind.choices)
    amount = forms.DecimalField(label=gettext_lazy("金额 (元)"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"),
                                required=False, help_text=gettext_lazy("免单可留空：按订单实付金额"))
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    request_id = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)


def _check_context(shop, member, kind, amount) -> dict:
    try:
        return {"decision": authority_check(shop=shop, agent=member, kind=kind, amount=amount)}
    except KefuError:
        return {"decision": None}


@shop_page
def request_new(request):
    shop, member = request.shop, request.member
    result = None
    if request.method == "POST":
        form = MoneyActionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            order = None
            if data["order_id"]:
                order = Order.objects.filter(shop=shop, order_id=data["order_id"].strip()).select_related(
                    "customer").first()
                if order is None:
                    form.add_error("order_id", _("本店没有这个订单"))
            if not form.errors:
                try:
                    result = services.money_action_request(
                        shop=shop, agent=member, kind=data["kind"], amount=data["amount"], reason=data["reason"],
                        order=order, request_id=data["request_id"])
                except KefuError as exc:
                    field = exc.field if exc.field in form.fields else None
                    form.add_error(field, exc.message)
        if result is not None:
            return TemplateResponse(request, "approvals/request_done.html",
                                    {"result": result, "is_editor": _is_editor(member)})
    else:
        form = MoneyActionForm(initial={"order_id": request.GET.get("order", "")[:64], "kind": MoneyKind.DISCOUNT,
                                        "request_id": uuid.uuid4().hex})
    kind = form["kind"].value() or MoneyKind.DISCOUNT
    ctx = {"form": form, **_check_context(shop, member, kind, form["amount"].value() or "0.01"),
           "limits": _my_limits(shop, member), "is_editor": _is_editor(member)}
    return TemplateResponse(request, "approvals/request_new.html", ctx)


def _my_limits(shop, member) -> list[tuple[str, Decimal | None]]:
    table = AuthorityTable(shop=shop, agents=[member])
    return [(label, table.limit_for(member, kind)[0]) for kind, label in MoneyKind.choices]


@shop_page
def request_check(request):
    """htmx: within my authority or not, as the amount is typed."""
    ctx = _check_context(request.shop, request.member, request.GET.get("kind", ""), request.GET.get("amount", ""))
    return TemplateResponse(request, "approvals/request_new.html#check", ctx)


# ---------------------------------------------------------------- approver queue

@shop_page
def queue(request):
    shop, member = request.shop, request.member
    ctx = {"is_approver": _is_approver(member), "is_editor": _is_editor(member),
           "pending": list(sel.approvals_pending_for(shop=shop, member=member)),
           "above": list(sel.approvals_pending_above(shop=shop, member=member)),
           "mine": list(sel.approvals_requested_by(shop=shop, member=member))}
    ctx["pending_count"] = len(ctx["pending"])
    return TemplateResponse(request, "approvals/queue.html", ctx)


@require_POST
@shop_page
def decide(request, approval_id: int):
    shop, member = request.shop, request.member
    if not _is_approver(member):
        raise Http404("approval")
    req = sel.approval_get_for_user(shop=shop, member=member, id=approval_id)
    action = request.POST.get("action")
    error = None
    if action not in ("approve", "reject"):
        error = _("请选择批准或驳回")
    else:
        try:
            req = services.approval_decide(shop=shop, approval_id=req.pk, approver=member, approve=action == "approve",
                                           reason=request.POST.get("reason", ""))
        except KefuError as exc:
            error = _decide_error(exc)
        else:
            messages.success(request, (_("已批准 #%(id)s") if action == "approve" else _("已驳回 #%(id)s"))
                             % {"id": req.pk})
        req = sel.approval_get_for_user(shop=shop, member=member, id=req.pk)
    if request.htmx:
        # The row, and the 待我审批 count beside the heading (out of band).
        count = sel.approvals_pending_for(shop=shop, member=member).count()
        return TemplateResponse(request, "approvals/_decided.html",
                                {"r": req, "error": error, "decidable": True, "pending_count": count}, status=200)
    return redirect("approvals:queue")


def _decide_error(exc: KefuError) -> str:
    return {
        "already_decided": _("已被他人处理，无需重复操作"),
        "above_authority": _("超出你的审批权限，请转交经理"),
        "own_request": _("不能审批自己的申请"),
    }.get(exc.code, _("请填写驳回原因") if exc.field == "reason" else exc.message)


@require_POST
@shop_page
def cancel(request, approval_id: int):
    shop, member = request.shop, request.member
    req = sel.approval_get_for_user(shop=shop, member=member, id=approval_id)
    try:
        services.approval_cancel(shop=shop, approval_id=req.pk, agent=member, reason=request.POST.get("reason", ""))
    except KefuError:
        pass  # already decided: the list shows its state
    return redirect("approvals:queue")


# ---------------------------------------------------------------- history

@shop_page
def history(request):
    shop, member = request.shop, request.member
    kind = request.GET.get("kind") if request.GET.get("kind") in MoneyKind.values else None
    order_id = request.GET.get("order", "").strip()[:64] or None
    qs = sel.money_actions_for(shop=shop, member=member, kind=kind, order_id=order_id)
    page = Paginator(qs, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    ctx = {"page": page, "kind": kind or "", "order": order_id or "", "kinds": MoneyKind.choices,
           "query": params.urlencode(), "whole_shop": sees_whole_shop(member), "is_editor": _is_editor(member)}
    return TemplateResponse(request, "approvals/history.html", ctx)


# ---------------------------------------------------------------- limits

def _parse_limit(text: str):
    """'' → reset (default), 不限/unlimited → None (unlimited), else a number."""
    text = (text or "").strip()
    if not text:
        return "reset"
    if text.lower() in UNLIMITED_WORDS:
        return None
    return text


@shop_page
def limits(request):
    shop, member = request.shop, request.member
    if not _is_editor(member):
        raise Http404("limits")
    errors: list[str] = []
    saved = False
    if request.method == "POST":
        overview = sel.limits_overview(shop=shop)
        changes = []
        for role in SETTABLE_ROLES:
            for kind in MoneyKind.values:
                raw = request.POST.get(f"role-{role}-{kind}")
                if raw is None:
                    continue
                cell = overview["roles"][role][kind]
                current = "" if cell["default"] else ("∞" if cell["limit"] is None else cell["limit"])
                if raw.strip() == current:
                    continue
                parsed = _parse_limit(raw)
                changes.append(services.LimitChange(kind=kind, role=role, reset=parsed == "reset",
                                                    limit=None if parsed == "reset" else parsed))
        person_id, kind = request.POST.get("person"), request.POST.get("person_kind")
        if person_id:
            agent = Agent.objects.filter(shop=shop, pk=int(person_id) if person_id.isdigit() else 0).first()
            if agent is None:
                errors.append(_("本店没有这个人"))
            else:
                parsed = _parse_limit(request.POST.get("person_limit", ""))
                changes.append(services.LimitChange(kind=kind or "", agent=agent, reset=parsed == "reset",
                                                    limit=None if parsed == "reset" else parsed))
        if changes and not errors:
            try:
                services.authority_limits_update(shop=shop, editor=member, changes=changes)
                saved = True
            except KefuError as exc:
                errors.append(f"{exc.field or ''}: {exc.message}" if exc.field else exc.message)
    overview = sel.limits_overview(shop=shop)
    kinds = MoneyKind.choices
    role_rows = [(role, role_label, [(kind, overview["roles"][role][kind]) for kind, _k in kinds])
                 for role, role_label in _role_choices()]
    labels = dict(kinds)
    for p in overview["people"]:
        p["kind_label"] = labels.get(p["kind"], p["kind"])
    ctx = {"overview": overview, "kinds": kinds, "role_rows": role_rows, "errors": errors, "saved": saved,
           "people": Agent.objects.filter(shop=shop, active=True).order_by("name"), "is_editor": True}
    return TemplateResponse(request, "approvals/limits.html", ctx, status=400 if errors else 200)


def _role_choices():
    from kefu.core.enums import Role

    return [(r, Role(r).label) for r in (*SETTABLE_ROLES, "admin")]


# ---------------------------------------------------------------- notifications

@shop_page
def notifications(request):
    shop, member = request.shop, request.member
    if request.method == "POST":
        services.notifications_mark_read(shop=shop, member=member)
        return redirect("approvals:notifications")
    return TemplateResponse(request, "approvals/notifications.html",
                            {"items": sel.notifications_for(member=member)})



