"""Pages of customer care: revisit lists and plans (CRM-2), care messages (CRM-3), surprises and their
monthly cost (CRM-4), the at-risk list (CRM-5) and the care settings. Agents see their own revisits
and surprises; care owners (专属客服), supervisors and managers see and run everything."""

import datetime as dt
import uuid

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.catalog.models import Product
from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError
from kefu.core.models import Agent
from kefu.core.timeutil import shop_day
from kefu.crm.services import grade_rules_ensure
from kefu.customers.models import Tag
from kefu.customers.selectors import customer_get_for_user
from kefu.web.views import shop_page

from . import campaigns, churn, services, surprises
from . import selectors as sel
from .enums import (
    CampaignState,
    ChurnReason,
    OptOutSource,
    RevisitOutcome,
    RevisitState,
    SurpriseKind,
)
from .models import CareCampaign, CareSend, RevisitPlan
from .segments import segment_describe

PER_PAGE = 50


def _error(exc: KefuError) -> str:
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


def _staff_only(member) -> None:
    if not sel.is_care_staff(member):
        raise Http404("page")


def _ctx(request, tab: str, **more) -> dict:
    return {"tab": tab, "care_staff": sel.is_care_staff(request.member), **more}


def _segment_from(post) -> dict:
    """The segment fields of a plan or campaign form."""
    raw: dict = {}
    if post.getlist("grades"):
        raw["grades"] = post.getlist("grades")
    for key in ("tag_ids", "product_ids"):
        ids = [x for x in post.getlist(key) if x]
        if ids:
            raw[key] = ids
    for key in ("paid_within_days", "silent_days", "min_orders"):
        if post.get(key):
            raw[key] = post.get(key)
    return raw


def _segment_choices(shop) -> dict:
    return {"grades": [r.grade for r in grade_rules_ensure(shop)], "all_tags": list(Tag.objects.filter(shop=shop)),
            "products": list(Product.objects.filter(shop=shop).order_by("category", "title")[:300])}


# ---------------------------------------------------------------- revisits

@shop_page
def revisits(request):
    shop, member = request.shop, request.member
    staff = sel.is_care_staff(member)
    state = request.GET.get("state", RevisitState.OPEN)
    if state not in RevisitState.values:
        state = RevisitState.OPEN
    owner_id = request.GET.get("owner", "")
    owner = int(owner_id) if staff and owner_id.isdigit() else None
    if not staff:
        owner = member.pk
    qs = sel.revisits_for(shop=shop, member=member, owner_id=owner, state=state)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    today = shop_day(timezone.now(), shop.tz)
    ctx = _ctx(request, "revisits", page=page, rows=list(page.object_list), state=state, states=RevisitState.choices,
               outcomes=RevisitOutcome.choices, owner=owner, today=today,
               owners=list(Agent.objects.filter(shop=shop, active=True).order_by("name")) if staff else [])
    return TemplateResponse(request, "care/revisits.html", ctx)


@require_POST
@shop_page
def revisit_record(request, revisit_id: int):
    shop, member = request.shop, request.member
    r = sel.revisit_get_for_user(shop=shop, member=member, id=revisit_id)
    answers = {q: request.POST.get(f"q{i}", "") for i, q in enumerate(r.plan.questions)}
    try:
        if request.POST.get("cancel"):
            services.revisit_cancel(shop=shop, revisit_id=r.pk, actor=member)
        else:
            services.revisit_record(shop=shop, revisit_id=r.pk, actor=member, outcome=request.POST.get("outcome", ""),
                                    answers=answers, note=request.POST.get("note", ""))
        flash.success(request, _("已记录：%(b)s") % {"b": r.customer.nick or r.customer.buyer_id})
    except KefuError as exc:
        flash.error(request, _error(exc))
    return redirect(request.POST.get("next") or "care:revisits")


@shop_page
def plans(request):
    shop, member = request.shop, request.member
    _staff_only(member)
    error = None
    if request.method == "POST":
        try:
            p = services.revisit_plan_save(
                shop=shop, actor=member, name=request.POST.get("name", ""), segment=_segment_from(request.POST),
                cadence_days=request.POST.get("cadence_days") or 30,
                questions=request.POST.get("questions", ""),
                assignee_ids=[int(x) for x in request.POST.getlist("assignee_ids") if x.isdigit()],
                per_owner_daily=request.POST.get("per_owner_daily") or 20)
            return redirect("care:plan", plan_id=p.pk)
        except KefuError as exc:
            error = _error(exc)
    rows = list(RevisitPlan.objects.filter(shop=shop).prefetch_related("assignees"))
    outcomes = sel.plan_outcomes(shop=shop, plan_ids=[p.pk for p in rows])
    for p in rows:
        p.stats = outcomes.get(p.pk, {})
        p.describe = segment_describe(shop=shop, segment=p.segment)
    ctx = _ctx(request, "plans", plans=rows, error=error, outcomes=RevisitOutcome.choices,
               agents=list(Agent.objects.filter(shop=shop, active=True).order_by("name")), **_segment_choices(shop))
    return TemplateResponse(request, "care/plans.html", ctx, status=400 if error else 200)


@shop_page
def plan(request, plan_id: int):
    shop, member = request.shop, request.member
    _staff_only(member)
    p = RevisitPlan.objects.filter(shop=shop, pk=plan_id).prefetch_related("assignees").first()
    if p is None:
        raise Http404("plan")
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("generate"):
                n = services.revisits_generate(shop=shop, plan_id=p.pk)
                flash.success(request, _("已生成 %(n)s 条回访") % {"n": n})
            else:
                services.revisit_plan_save(
                    shop=shop, actor=member, plan_id=p.pk, name=request.POST.get("name", ""),
                    segment=_segment_from(request.POST), cadence_days=request.POST.get("cadence_days") or 30,
                    questions=request.POST.get("questions", ""), active=bool(request.POST.get("active")),
                    assignee_ids=[int(x) for x in request.POST.getlist("assignee_ids") if x.isdigit()],
                    per_owner_daily=request.POST.get("per_owner_daily") or 20)
                flash.success(request, _("已保存"))
            return redirect("care:plan", plan_id=p.pk)
        except KefuError as exc:
            error = _error(exc)
    stats = sel.plan_outcomes(shop=shop, plan_ids=[p.pk]).get(p.pk, {})
    recent = list(sel.revisits_for(shop=shop, member=member, plan_id=p.pk, state=None).order_by("-due_on", "-id")[:50])
    ctx = _ctx(request, "plans", p=p, stats=stats, recent=recent, error=error,
               outcome_rows=[(label, stats.get(v, 0)) for v, label in RevisitOutcome.choices],
               questions_text="\n".join(p.questions),
               describe=segment_describe(shop=shop, segment=p.segment),
               assignee_ids={a.pk for a in p.assignees.all()},
               agents=list(Agent.objects.filter(shop=shop, active=True).order_by("name")), **_segment_choices(shop))
    return TemplateResponse(request, "care/plan.html", ctx, status=400 if error else 200)


# ---------------------------------------------------------------- care messages

@shop_page
def campaign_list(request):
    shop, member = request.shop, request.member
    _staff_only(member)
    error = None
    if request.method == "POST":
        try:
            c = campaigns.campaign_save(shop=shop, actor=member, name=request.POST.get("name", ""),
                                        text=request.POST.get("text", ""), segment=_segment_from(request.POST))
            return redirect("care:campaign", campaign_id=c.pk)
        except KefuError as exc:
            error = _error(exc)
    rows = list(CareCampaign.objects.filter(shop=shop)[:200])
    ctx = _ctx(request, "campaigns", campaigns=rows, error=error, settings=sel.care_settings(shop),
               **_segment_choices(shop))
    return TemplateResponse(request, "care/campaigns.html", ctx, status=400 if error else 200)


@shop_page
def campaign(request, campaign_id: int):
    shop, member = request.shop, request.member
    _staff_only(member)
    c = CareCampaign.objects.filter(shop=shop, pk=campaign_id).first()
    if c is None:
        raise Http404("campaign")
    error = None
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "schedule":
                campaigns.campaign_schedule(shop=shop, campaign_id=c.pk, actor=member,
                                            scheduled_at=request.POST.get("scheduled_at") or None,
                                            accept_warnings=bool(request.POST.get("accept_warnings")))
                flash.success(request, _("已排期"))
            elif op == "cancel":
                campaigns.campaign_cancel(shop=shop, campaign_id=c.pk, actor=member)
                flash.success(request, _("已取消"))
            else:
                campaigns.campaign_save(shop=shop, actor=member, campaign_id=c.pk, name=request.POST.get("name", ""),
                                        text=request.POST.get("text", ""), segment=_segment_from(request.POST))
                flash.success(request, _("已保存"))
            return redirect("care:campaign", campaign_id=c.pk)
        except KefuError as exc:
            error = _error(exc)
            c.refresh_from_db()
    warnings = campaigns.content_check(shop=shop, text=c.text)
    from .segments import segment_customers

    ctx = _ctx(request, "campaigns", c=c, error=error, warnings=warnings,
               report=sel.campaign_report(shop=shop, campaign=c),
               describe=segment_describe(shop=shop, segment=c.segment),
               audience=segment_customers(shop=shop, segment=c.segment).count(),
               editable=c.state in (CampaignState.DRAFT, CampaignState.SCHEDULED),
               sends=list(CareSend.objects.filter(campaign=c).select_related("customer", "outbound")
                          .order_by("-id")[:50]),
               settings=sel.care_settings(shop), **_segment_choices(shop))
    return TemplateResponse(request, "care/campaign.html", ctx, status=400 if error else 200)


@require_POST
@shop_page
def opt_out(request, customer_id: int):
    shop, member = request.shop, request.member
    _staff_only(member)
    c = customer_get_for_user(shop=shop, member=member, id=customer_id)
    try:
        campaigns.opt_out_record(shop=shop, customer=c, source=OptOutSource.AGENT, actor=member,
                                 note=request.POST.get("note", ""))
        flash.success(request, _("已登记退订"))
    except KefuError as exc:
        flash.error(request, _error(exc))
    return redirect("customers:detail", customer_id=c.pk)


# ---------------------------------------------------------------- surprises

def _months(request) -> tuple[dt.date, dt.date]:
    today = shop_day(timezone.now(), request.shop.tz)
    try:
        m_to = dt.date.fromisoformat(request.GET.get("to", "") + "-01") if request.GET.get("to") else today
        m_from = dt.date.fromisoformat(request.GET.get("from", "") + "-01") if request.GET.get("from") else None
    except ValueError:
        m_to, m_from = today, None
    if m_from is None or m_from > m_to:
        m_from = (m_to.replace(day=1) - dt.timedelta(days=150)).replace(day=1)
    return m_from, m_to


@shop_page
def surprise_list(request):
    shop, member = request.shop, request.member
    page = Paginator(sel.surprises_for(shop=shop, member=member), PER_PAGE).get_page(request.GET.get("page"))
    m_from, m_to = _months(request)
    costs = surprises.surprise_costs(shop=shop, month_from=m_from, month_to=m_to) if sel.is_care_staff(member) else None
    ctx = _ctx(request, "surprises", page=page, rows=list(page.object_list), costs=costs, m_from=m_from, m_to=m_to)
    return TemplateResponse(request, "care/surprises.html", ctx)


@shop_page
def surprise_new(request):
    shop, member = request.shop, request.member
    error = None
    customer = None
    cid = request.GET.get("customer") or request.POST.get("customer")
    if cid and str(cid).isdigit():
        customer = customer_get_for_user(shop=shop, member=member, id=int(cid))
    if request.method == "POST":
        try:
            if customer is None:
                raise KefuError(_("请选择买家"), field="customer")
            s = surprises.surprise_create(shop=shop, customer=customer, actor=member,
                                          kind=request.POST.get("kind", ""),
                                          description=request.POST.get("description", ""),
                                          reason=request.POST.get("reason", ""), cost=request.POST.get("cost") or "0",
                                          request_id=request.POST.get("request_id", ""))
            flash.success(request, _("已登记惊喜：%(s)s") % {"s": s.get_state_display()})
            return redirect("customers:detail", customer_id=customer.pk)
        except KefuError as exc:
            error = _error(exc)
    ctx = _ctx(request, "surprises", customer=customer, kinds=SurpriseKind.choices, error=error,
               request_id=request.POST.get("request_id") or uuid.uuid4().hex)
    return TemplateResponse(request, "care/surprise_new.html", ctx, status=400 if error else 200)


@require_POST
@shop_page
def surprise_cancel(request, surprise_id: int):
    try:
        surprises.surprise_cancel(shop=request.shop, surprise_id=surprise_id, actor=request.member)
        flash.success(request, _("已撤回"))
    except KefuError as exc:
        flash.error(request, _error(exc))
    return redirect("care:surprises")


# ---------------------------------------------------------------- churn watch and settings

@shop_page
def at_risk(request):
    shop, member = request.shop, request.member
    _staff_only(member)
    if request.method == "POST":
        raised, cleared = churn.churn_scan(shop=shop)
        flash.success(request, _("新增 %(r)s 条预警，解除 %(c)s 条") % {"r": raised, "c": cleared})
        return redirect("care:at_risk")
    reason = request.GET.get("reason", "")
    if reason not in ChurnReason.values:
        reason = ""
    page = Paginator(sel.at_risk_list(shop=shop, reason=reason or None), PER_PAGE).get_page(request.GET.get("page"))
    ctx = _ctx(request, "at_risk", page=page, rows=list(page.object_list), reason=reason, reasons=ChurnReason.choices)
    return TemplateResponse(request, "care/at_risk.html", ctx)


@shop_page
def settings_page(request):
    shop, member = request.shop, request.member
    _staff_only(member)
    s = sel.care_settings(shop)
    error = None
    can_edit = sees_whole_shop(member)
    if request.method == "POST":
        if not can_edit:
            raise Http404("settings")
        fields = ("cap_count", "cap_days", "reply_window_days", "repeat_min_orders", "silent_factor",
                  "silent_min_days", "review_watch_days")
        try:
            services.care_settings_update(shop=shop, actor=member, **{f: request.POST.get(f, "") for f in fields},
                                          owner_ids=[int(x) for x in request.POST.getlist("owner_ids") if x.isdigit()])
            flash.success(request, _("已保存"))
            return redirect("care:settings")
        except KefuError as exc:
            error = _error(exc)
    ctx = _ctx(request, "settings", s=s, error=error, can_edit=can_edit, owner_ids={a.pk for a in s.owners.all()},
               agents=list(Agent.objects.filter(shop=shop, active=True).order_by("name")))
    return TemplateResponse(request, "care/settings.html", ctx, status=400 if error else 200)

