"""Pages: complaints (list, new, detail with the seven-step checklist and the timeline), review
tasks (worklist by negativity, htmx actions, import upload, revision rates), disputes with
evidence, and the CSAT table. Agents see their own work; supervisors and up the shop's."""

import datetime as dt
import tempfile
from pathlib import Path

from django import forms
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.models import Agent
from kefu.core.timeutil import shop_day
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.web.views import shop_page

from . import reviews, services
from . import selectors as sel
from .api import checklist
from .enums import (
    STATE_ORDER,
    STEPS_BY_STATE,
    BuyerType,
    ComplaintCategory,
    ComplaintSource,
    ComplaintState,
    DisputeAction,
    DisputeKind,
    RemedyKind,
    ReviewOutcome,
    ReviewTaskAction,
    Verdict,
)
from .models import DisputeEvidence
from .sentiment import analyse

DAYS = 30
UPLOAD_MAX = 20 * 1024 * 1024


def _range(request, shop) -> tuple[dt.date, dt.date]:
    today = shop_day(timezone.now(), shop.tz)
    try:
        date_to = dt.date.fromisoformat(request.GET.get("to", "")) if request.GET.get("to") else today
        date_from = dt.date.fromisoformat(request.GET.get("from", "")) if request.GET.get("from") else \
            date_to - dt.timedelta(days=DAYS - 1)
    except ValueError:
        date_to, date_from = today, today - dt.timedelta(days=DAYS - 1)
    if date_from > date_to:
        date_from = date_to
    return date_from, date_to


def _agents(shop):
    return list(Agent.objects.filter(shop=shop, active=True).order_by("name", "id"))


def _agent(shop, value) -> Agent | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise Http404("agent")
    agent = Agent.objects.filter(shop=shop, pk=int(value), active=True).first()
    if agent is None:
        raise Http404("agent")
    return agent


# ---------------------------------------------------------------- complaints

@shop_page
def complaint_list(request):
    shop, member = request.shop, request.member
    state = request.GET.get("state", "")
    state = state if state in ComplaintState.values else ""
    today = shop_day(timezone.now(), shop.tz)
    hours = int(request.GET["hours"]) if request.GET.get("hours") in ("24", "72", "168") else 24
    ctx = {"complaints": list(sel.complaints_for(shop=shop, member=member, state=state or None)[:200]),
           "states": ComplaintState.choices, "state": state, "whole_shop": sees_whole_shop(member),
           "revisits": sel.revisits_today(shop=shop, member=member, day=today),
           "angry": sel.angry_messages(shop=shop, member=member, hours=hours)[:20], "hours": hours,
           "hour_choices": (24, 72, 168)}
    return TemplateResponse(request, "complaints/list.html", ctx)


class ComplaintForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("来源"), choices=ComplaintSource.choices)
    category = forms.ChoiceField(label=gettext_lazy("类别"), choices=ComplaintCategory.choices)
    buyer_type = forms.ChoiceField(label=gettext_lazy("客户类型"), choices=BuyerType.choices, initial=BuyerType.UNKNOWN)
    buyer_id = forms.CharField(label=gettext_lazy("买家ID"), max_length=120, required=False)
    order_id = forms.CharField(label=gettext_lazy("订单编号"), max_length=64, required=False)
    against = forms.ChoiceField(label=gettext_lazy("被投诉客服"), required=False)
    summary = forms.CharField(label=gettext_lazy("投诉内容"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4}))
    revisit_on = forms.DateField(label=gettext_lazy("回访日期"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["against"].choices = [("", "—")] + [(str(a.pk), a.name) for a in agents]


@shop_page
def complaint_new(request):
    shop, member = request.shop, request.member
    agents = _agents(shop)
    form = ComplaintForm(request.POST or None, agents=agents)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        customer = order = None
        if d["buyer_id"]:
            customer = Customer.objects.filter(shop=shop, buyer_id=d["buyer_id"].strip()).first()
            if customer is None:
                form.add_error("buyer_id", _("本店没有这个买家"))
        if d["order_id"]:
            order = Order.objects.filter(shop=shop, order_id=d["order_id"].strip()).first()
            if order is None:
                form.add_error("order_id", _("本店没有这个订单"))
        if not form.errors:
            try:
                c = services.complaint_create(shop=shop, source=d["source"], category=d["category"],
                                              summary=d["summary"], actor=member, customer=customer, order=order,
                                              against=_agent(shop, d["against"]), buyer_type=d["buyer_type"],
                                              revisit_on=d["revisit_on"])
                return redirect("complaints:detail", c.pk)
            except KefuError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return TemplateResponse(request, "complaints/new.html", {"form": form}, status=400 if form.errors else 200)


def _detail_ctx(request, complaint_id: int, error: str | None = None) -> dict:
    shop, member = request.shop, request.member
    c = sel.complaint_get_for_user(shop=shop, member=member, id=complaint_id)
    items = checklist(c)
    current = STATE_ORDER.index(c.state)
    for item in items:
        item["stage_label"] = ComplaintState(item["stage"]).label
        item["can_tick"] = c.is_open and not item["done"] and STATE_ORDER.index(item["stage"]) <= current
    missing = [] if not c.is_open else \
        [i["label"] for i in items if i["stage"] == c.state and not i["done"]]
    return {"c": c, "checklist": items, "missing": missing, "error": error, "stages": [(s, ComplaintState(s).label) for s in STATE_ORDER[:-1]],
            "stage_index": current, "whole_shop": sees_whole_shop(member), "remedy_kinds": RemedyKind.choices,
            "verdicts": Verdict.choices, "sentiment": analyse(c.summary),
            "can_advance": c.state in (ComplaintState.ACCEPT, ComplaintState.CLARIFY, ComplaintState.SOLUTION),
            "can_close": c.state == ComplaintState.REVISIT, "steps_by_state": STEPS_BY_STATE,
            "knowledge_fault": _knowledge_fault_of(c) if sees_whole_shop(member) and c.against_id else None}


def _knowledge_fault_of(c):
    from kefu.quality.models import KnowledgeFault

    return KnowledgeFault.objects.filter(complaint=c).select_related("recorded_by").first()


@shop_page
def complaint_detail(request, complaint_id: int):
    return TemplateResponse(request, "complaints/detail.html", _detail_ctx(request, complaint_id))


@shop_page
def complaint_post(request, complaint_id: int, what: str):
    if request.method != "POST":
        raise Http404("complaint")
    shop, member = request.shop, request.member
    sel.complaint_get_for_user(shop=shop, member=member, id=complaint_id)
    p = request.POST
    error = None
    try:
        if what == "act":
            services.complaint_act(shop=shop, complaint_id=complaint_id, action=p.get("action", ""), actor=member,
                                   note=p.get("note", ""))
        elif what == "check":
            services.complaint_check(shop=shop, complaint_id=complaint_id, step=p.get("step", ""), actor=member,
                                     note=p.get("note", ""))
        elif what == "remedy":
            c, outcome = services.complaint_remedy(shop=shop, complaint_id=complaint_id, kind=p.get("kind", ""),
                                                   text=p.get("text", ""), amount=p.get("amount", ""),
                                                   revisit_on=p.get("revisit_on", ""), actor=member)
            if outcome == "pending":
                error = _("补偿金额超出你的权限，已提交审批。")
        elif what == "revisit":
            services.complaint_revisit_set(shop=shop, complaint_id=complaint_id, revisit_on=p.get("revisit_on", ""),
                                           actor=member)
        elif what == "verdict":
            services.complaint_verdict(shop=shop, complaint_id=complaint_id, verdict=p.get("verdict", ""),
                                       actor=member, note=p.get("note", ""))
        elif what in ("knowledge", "knowledge_withdraw"):
            _knowledge_post(shop, member, complaint_id, what, p)
        else:
            raise Http404("action")
    except KefuError as exc:
        error = _complaint_error(exc)
    ctx = _detail_ctx(request, complaint_id, error)
    if request.htmx:
        return TemplateResponse(request, "complaints/detail.html#panel", ctx)
    if error:
        return TemplateResponse(request, "complaints/detail.html", ctx, status=400)
    return redirect("complaints:detail", complaint_id)


def _knowledge_post(shop, member, complaint_id: int, what: str, p) -> None:
    """Trace the complaint to wrong product knowledge (seed 000 遇一罚一: a point off in the people
    ledger), or take the trace back with a reason; kefu.quality owns both."""
    from kefu.quality.models import KnowledgeFault
    from kefu.quality.services import knowledge_fault_record, knowledge_fault_withdraw

    c = sel.complaint_get_for_user(shop=shop, member=member, id=complaint_id)
    if what == "knowledge":
        knowledge_fault_record(shop=shop, actor=member, complaint=c, note=p.get("note", ""))
        return
    fault = KnowledgeFault.objects.filter(shop=shop, complaint=c).first()
    if fault is None:
        raise KefuError("no knowledge fault to withdraw", field="complaint_id", code="invalid_transition")
    knowledge_fault_withdraw(shop=shop, actor=member, fault=fault, reason=p.get("reason", ""))


def _complaint_error(exc: KefuError) -> str:
    if exc.code == "steps_missing":
        return _("请先完成本阶段的步骤（解决方案阶段还须确定补救措施）。")
    if exc.code == "invalid_transition":
        return _("当前阶段不能这样操作。")
    if exc.code in ("not_owner", "forbidden", "supervisor_only"):
        return _("只有负责人或主管可以操作。")
    if exc.code == "already_done":
        return _("这条投诉已追溯为业务知识错误。")
    return {"note": _("请填写原因。"), "reason": _("请填写撤回原因。"), "revisit_on": _("回访日期不能早于今天。"), "amount": _("补偿金额不正确。"),
            "remedy_text": _("请填写补救说明。")}.get(exc.field or "", exc.message)


# ---------------------------------------------------------------- review tasks

TASK_ACTIONS = [(a, ReviewTaskAction(a).label) for a in reviews.TASK_PERSON_ACTIONS]


@shop_page
def review_tasks(request):
    return _review_tasks_page(request, {})


def _review_tasks_page(request, extra: dict):
    shop, member = request.shop, request.member
    state = request.GET.get("state", "active")
    whole = sees_whole_shop(member)
    date_from, date_to = _range(request, shop)
    ctx = {"tasks": list(sel.review_tasks_for(shop=shop, member=member,
                                              state=None if state == "all" else state)[:300]),
           "state": state, "whole_shop": whole, "actions": TASK_ACTIONS, "outcomes": ReviewOutcome.choices,
           "date_from": date_from, "date_to": date_to}
    rows, total = sel.revision_rates(shop=shop, date_from=date_from, date_to=date_to)
    ctx["revision_rows"] = rows if whole else [r for r in rows if r.agent_id == member.pk]
    ctx["revision_total"] = total if whole else None
    ctx.update(extra)
    return TemplateResponse(request, "complaints/reviews.html", ctx, status=400 if extra.get("import_errors") else 200)


@shop_page
def review_import(request):
    """Supervisors and up upload a CSV/XLSX of reviews (all or nothing)."""
    if request.method != "POST":
        return redirect("complaints:reviews")
    shop, member = request.shop, request.member
    if not sees_whole_shop(member):
        raise Http404("import")
    upload = request.FILES.get("file")
    result, errors = None, []
    if upload is None:
        errors = [_("请选择文件")]
    elif upload.size > UPLOAD_MAX:
        errors = [_("文件太大（最多 20 MB）")]
    else:
        suffix = Path(upload.name).suffix.lower() or ".csv"
        with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
            for chunk in upload.chunks():
                tmp.write(chunk)
            tmp.flush()
            try:
                result = reviews.reviews_import_file(shop=shop, path=tmp.name, actor=member)
            except ValidationFailed as exc:
                errors = [f"{_('第')} {e['row']} {_('行')} {e['field']}: {e['message']}" for e in exc.errors[:50]]
            except KefuError as exc:
                errors = [exc.message]
    return _review_tasks_page(request, {"import_result": result, "import_errors": errors})


@shop_page
def review_task_act(request, task_id: int):
    if request.method != "POST":
        raise Http404("task")
    shop, member = request.shop, request.member
    sel.review_task_get_for_user(shop=shop, member=member, id=task_id)
    error = None
    try:
        reviews.review_task_act(shop=shop, task_id=task_id, action=request.POST.get("action", ""), actor=member,
                                note=request.POST.get("note", ""), resolution=request.POST.get("resolution", ""),
                                outcome=request.POST.get("outcome", ""))
    except KefuError as exc:
        error = {"resolution": _("请填写处理结果"), "outcome": _("请选择改评结果（改评前须先联系买家）")}.get(
            exc.field or "", _("这条任务已关闭，不能再操作") if exc.code == "invalid_transition" else exc.message)
    if not request.htmx:
        return redirect("complaints:reviews")
    t = sel.review_task_get_for_user(shop=shop, member=member, id=task_id)
    return TemplateResponse(request, "complaints/reviews.html#row",
                            {"t": t, "error": error, "actions": TASK_ACTIONS, "outcomes": ReviewOutcome.choices,
                             "whole_shop": sees_whole_shop(member)})


# ---------------------------------------------------------------- disputes

class DisputeForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=DisputeKind.choices)
    order_id = forms.CharField(label=gettext_lazy("订单编号"), max_length=64, required=False)
    platform_ref = forms.CharField(label=gettext_lazy("平台单号"), max_length=64, required=False)
    description = forms.CharField(label=gettext_lazy("说明"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


@shop_page
def dispute_list(request):
    shop, member = request.shop, request.member
    form = DisputeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        order = None
        if d["order_id"]:
            order = Order.objects.filter(shop=shop, order_id=d["order_id"].strip()).first()
            if order is None:
                form.add_error("order_id", _("本店没有这个订单"))
        if not form.errors:
            try:
                dispute = reviews.dispute_create(shop=shop, kind=d["kind"], description=d["description"],
                                                 actor=member, order=order, platform_ref=d["platform_ref"])
                return redirect("complaints:dispute", dispute.pk)
            except KefuError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    ctx = {"disputes": list(sel.disputes_for(shop=shop, member=member)[:200]), "form": form}
    return TemplateResponse(request, "complaints/disputes.html", ctx, status=400 if form.errors else 200)


@shop_page
def dispute_detail(request, dispute_id: int):
    shop, member = request.shop, request.member
    d = sel.dispute_get_for_user(shop=shop, member=member, id=dispute_id)
    error = None
    if request.method == "POST":
        try:
            if "file" in request.FILES:
                reviews.dispute_evidence_add(shop=shop, dispute_id=d.pk, upload=request.FILES["file"], actor=member,
                                             note=request.POST.get("note", ""))
            else:
                reviews.dispute_act(shop=shop, dispute_id=d.pk, action=request.POST.get("action", ""), actor=member,
                                    note=request.POST.get("note", ""))
            return redirect("complaints:dispute", d.pk)
        except KefuError as exc:
            error = {"evidence": _("请先上传凭证再提交平台"), "note": _("请填写结果说明"),
                     "file": _("文件类型或大小不符合要求（≤10 MB，jpg/png/gif/webp/pdf/mp4/txt）")}.get(
                exc.field or "", exc.message)
        d = sel.dispute_get_for_user(shop=shop, member=member, id=dispute_id)
    actions = [(a, DisputeAction(a).label) for a in reviews.DISPUTE_PERSON_ACTIONS
               if (d.state, a) in reviews.DISPUTE_TRANSITIONS]
    return TemplateResponse(request, "complaints/dispute.html", {"d": d, "error": error, "actions": actions},
                            status=400 if error else 200)


@shop_page
def evidence_file(request, evidence_id: int):
    shop, member = request.shop, request.member
    ev = DisputeEvidence.objects.filter(shop=shop, pk=evidence_id).select_related("dispute").first()
    if ev is None:
        raise Http404("evidence")
    sel.dispute_get_for_user(shop=shop, member=member, id=ev.dispute_id)  # 404 unless visible
    return FileResponse(ev.file.open("rb"), as_attachment=True, filename=ev.name, content_type=ev.content_type)


# ---------------------------------------------------------------- CSAT

@shop_page
def csat(request):
    shop, member = request.shop, request.member
    date_from, date_to = _range(request, shop)
    rows = sel.csat_table(shop=shop, date_from=date_from, date_to=date_to, member=member)
    total = sel.CsatRow(agent_id=0, name=_("合计"), invitations=sum(r.invitations for r in rows),
                        rated=sum(r.rated for r in rows), satisfied=sum(r.satisfied for r in rows),
                        replied_receptions=sum(r.replied_receptions for r in rows))
    return TemplateResponse(request, "complaints/csat.html",
                            {"rows": rows, "total": total, "date_from": date_from, "date_to": date_to,
                             "invitations": list(sel.invitations_for(shop=shop, member=member)[:20])})

