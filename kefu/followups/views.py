"""Pages: the worklist of an agent (due now, overdue, done today), the supervisor's view of
everyone's with the 催付 figures, contact/close actions as htmx forms, and the new follow-up form."""

import datetime as dt

from django import forms
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError
from kefu.core.timeutil import shop_day
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.web.views import shop_page

from . import selectors as sel
from . import services
from .enums import MANUAL_KINDS, REASONS_BY_KIND, FollowUpAction, FollowUpKind, FollowUpReason

REASON_LABELS = dict(FollowUpReason.choices)
ACTION_CHOICES = [(a, FollowUpAction(a).label) for a in services.PERSON_ACTIONS]
FIGURE_DAYS = 30


def _reasons(kind: str) -> list[tuple[str, str]]:
    return [(r, REASON_LABELS[r]) for r in REASONS_BY_KIND[kind]]


def _decorate(items) -> None:
    for fu in items:
        fu.reason_choices = _reasons(fu.kind)


def _local(value: str, tz) -> dt.datetime | None:
    """A datetime-local field (shop time) → aware datetime; '' → None; bad text → ValueError."""
    value = (value or "").strip()
    if not value:
        return None
    return dt.datetime.fromisoformat(value).replace(tzinfo=tz)


@shop_page
def worklist(request):
    shop, member = request.shop, request.member
    whole = sees_whole_shop(member)
    now = timezone.now()
    agent_param = request.GET.get("agent", "")
    owner = member
    if whole and agent_param == "all":
        owner = None
    elif whole and agent_param.isdigit():
        owner = sel.agent_get_in_shop(shop=shop, id=int(agent_param))
    wl = sel.worklist(shop=shop, owner=owner, now=now)
    for group in (wl.overdue, wl.due_now, wl.later, wl.done_today):
        _decorate(group)
    ctx = {"wl": wl, "whole_shop": whole, "owner": owner, "agent_param": agent_param if whole else "",
           "actions": ACTION_CHOICES, "show_owner": owner is None}
    if whole:
        today = shop_day(now, shop.tz)
        ctx["agents"] = sel.agents_of_shop(shop=shop)
        ctx["figures"] = sel.payment_reminder_figures(shop=shop, date_from=today - dt.timedelta(days=FIGURE_DAYS - 1),
                                                      date_to=today)
        ctx["figure_days"] = FIGURE_DAYS
    return TemplateResponse(request, "followups/worklist.html", ctx)


@shop_page
def act(request, followup_id: int):
    if request.method != "POST":
        raise Http404("follow-up")
    shop, member = request.shop, request.member
    fu = sel.followup_get_for_user(shop=shop, member=member, id=followup_id)
    error = None
    try:
        next_contact_at = _local(request.POST.get("next_contact_at", ""), shop.tz)
    except ValueError:
        error = _("下次联系时间格式不对")
    if error is None:
        try:
            services.followup_act(shop=shop, followup_id=fu.pk, action=request.POST.get("action", ""), actor=member,
                                  reason=request.POST.get("reason", ""), outcome=request.POST.get("outcome", ""),
                                  note=request.POST.get("note", ""), next_contact_at=next_contact_at)
        except KefuError as exc:
            error = _act_error(exc)
    if not request.htmx:
        return redirect("followups:worklist")
    fu = sel.followup_get_for_user(shop=shop, member=member, id=fu.pk)
    _decorate([fu])
    ctx = {"fu": fu, "error": error, "actions": ACTION_CHOICES, "show_owner": sees_whole_shop(member)}
    return TemplateResponse(request, "followups/worklist.html#row", ctx, status=200)


def _act_error(exc: KefuError) -> str:
    if exc.code == "invalid_transition":
        return _("这条跟进已关闭，不能再操作")
    if exc.code == "not_owner":
        return _("只有负责人或主管可以操作")
    return {
        "action": _("请选择操作"),
        "next_contact_at": _("下次联系时间须晚于现在"),
        "reason": _("原因不适用于这类跟进"),
    }.get(exc.field or "", exc.message)


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"),
                             choices=[(k, FollowUpKind(k).label) for k in MANUAL_KINDS])
    buyer_id = forms.CharField(label=gettext_lazy("买家ID"), max_length=120)
    order_id = forms.CharField(label=gettext_lazy("订单编号"), max_length=64, required=False)
    reason = forms.ChoiceField(label=gettext_lazy("原因"), required=False,
                               choices=[("", "—")] + [(r, REASON_LABELS[r]) for r in dict.fromkeys(
                                   REASONS_BY_KIND[FollowUpKind.LEAD] + REASONS_BY_KIND[FollowUpKind.PROMISED_ANSWER])])
    due_at = forms.CharField(label=gettext_lazy("承诺答复时间"), required=False,
                             widget=forms.TextInput(attrs={"type": "datetime-local"}),
                                 help_text=gettext_lazy("待查问题必填，最多 24 小时内"))
    next_contact_at = forms.CharField(label=gettext_lazy("下次联系时间"), required=False,
                                      widget=forms.TextInput(attrs={"type": "datetime-local"}))
    note = forms.CharField(label=gettext_lazy("备注"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


@shop_page
def create(request):
    shop, member = request.shop, request.member
    if request.method == "POST":
        form = FollowUpForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            customer = Customer.objects.filter(shop=shop, buyer_id=d["buyer_id"].strip()).first()
            order = None
            if customer is None:
                form.add_error("buyer_id", _("本店没有这个买家"))
            if d["order_id"]:
                order = Order.objects.filter(shop=shop, order_id=d["order_id"].strip()).first()
                if order is None:
                    form.add_error("order_id", _("本店没有这个订单"))
            aware = {}
            for k in ("due_at", "next_contact_at"):
                try:
                    aware[k] = _local(d[k], shop.tz)
                except ValueError:
                    form.add_error(k, _("时间格式不对"))
            if not form.errors:
                try:
                    services.followup_create(shop=shop, kind=d["kind"], customer=customer, order=order, owner=member,
                                             actor=member, reason=d["reason"], note=d["note"], **aware)
                    return redirect("followups:worklist")
                except KefuError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    else:
        form = FollowUpForm(initial={"buyer_id": request.GET.get("buyer", "")[:120],
                                     "kind": request.GET.get("kind", FollowUpKind.LEAD)})
    return TemplateResponse(request, "followups/new.html", {"form": form}, status=400 if form.errors else 200)
