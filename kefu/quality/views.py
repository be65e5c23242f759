"""Pages of quality inspection: the overview (queue, reviews, appeals, scores per agent), the review
page (chat beside the rubric; acknowledge, appeal, decide, calibrate, mark a typical case), an
agent's QA trend, reports per item and reviewer, the weekly case sharing, script effectiveness,
product knowledge, and the settings (rubric, sampling rule, lexicons).

Agents see their own reviews once submitted; supervisors with a group that group's; managers all."""

import datetime as dt

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.catalog.models import Product
from kefu.conversations.selectors import conversation_get_for_user
from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError
from kefu.core.models import Agent
from kefu.core.timeutil import shop_day
from kefu.replies.enums import ScriptCategory
from kefu.web.views import shop_page

from . import selectors as sel
from . import services
from .effectiveness import script_effectiveness
from .enums import AppealState, CaseKind, FlagKind, ReviewState
from .flags import qa_settings
from .knowledge import knowledge_search
from .models import ConversationFlag, QaAppeal, QaCategory, QaSample, TypicalCase
from .sampling import sampling_run

DAYS = 30


def _today(shop) -> dt.date:
    return shop_day(timezone.now(), shop.tz)


def _range(request, shop, days: int = DAYS) -> tuple[dt.date, dt.date]:
    today = _today(shop)
    try:
        date_to = dt.date.fromisoformat(request.GET["to"]) if request.GET.get("to") else today
        date_from = (dt.date.fromisoformat(request.GET["from"]) if request.GET.get("from")
                     else date_to - dt.timedelta(days=days - 1))
    except ValueError:
        date_to, date_from = today, today - dt.timedelta(days=days - 1)
    return min(date_from, date_to), date_to


def _error(request, exc: KefuError) -> None:
    flash.error(request, f"{exc.field + ': ' if exc.field else ''}{exc.message}")


def _need_supervisor(member) -> None:
    if not sees_whole_shop(member):
        raise Http404("page")


# ---------------------------------------------------------------- overview

@shop_page
def home(request):
    shop, member = request.shop, request.member
    date_from, date_to = _range(request, shop)
    reviewer = sees_whole_shop(member)
    ctx = {
        "date_from": date_from, "date_to": date_to, "reviewer": reviewer,
        "queue": sel.review_queue(shop=shop, member=member) if reviewer else [],
        "reviews": list(sel.reviews_for(shop=shop, member=member)[:50]),
        "appeals": sel.appeals_open(shop=shop, member=member) if reviewer else [],
        "agents": sel.agent_stats(shop=shop, member=member, date_from=date_from, date_to=date_to),
        "drafts": list(sel.reviews_for(shop=shop, member=member, reviewer_id=member.pk, state=ReviewState.DRAFT)[:20])
        if reviewer else [],
    }
    return TemplateResponse(request, "quality/home.html", ctx)


@require_POST
@shop_page
def sampling_run_view(request):
    shop, member = request.shop, request.member
    _need_supervisor(member)
    got = sampling_run(shop=shop)
    flash.success(request, _("本轮抽取 %(n)d 个接待") % {"n": len(got)})
    return redirect("quality:home")


@require_POST
@shop_page
def review_start(request):
    """Start a review of a sample, a conversation, or a calibration of a review (→ the review page)."""
    shop, member = request.shop, request.member
    try:
        sample = conv = original = None
        if request.POST.get("sample", "").isdigit():
            sample = QaSample.objects.filter(shop=shop, pk=int(request.POST["sample"])).first()
            if sample is None:
                raise Http404("sample")
        elif request.POST.get("conversation", "").isdigit():
            conv = conversation_get_for_user(shop=shop, member=member, id=int(request.POST["conversation"]))
        elif request.POST.get("calibration_of", "").isdigit():
            original = sel.review_get_for_user(shop=shop, member=member, id=int(request.POST["calibration_of"]))
        r = services.review_start(shop=shop, reviewer=member, sample=sample, conversation=conv,
                                  calibration_of=original)
    except KefuError as exc:
        _error(request, exc)
        return redirect(request.POST.get("next") or "quality:home")
    return redirect("quality:review", review_id=r.pk)


# ---------------------------------------------------------------- the review page

def _form_scores(request, cats) -> list[dict]:
    return [{"category_id": c.pk, "chosen": request.POST.get(f"chosen_{c.pk}", ""),
             "comment": request.POST.get(f"comment_{c.pk}", ""), "message_id": request.POST.get(f"message_{c.pk}", "")}
            for c in cats]


@shop_page
def review_detail(request, review_id: int):
    shop, member = request.shop, request.member
    r = sel.review_get_for_user(shop=shop, member=member, id=review_id)
    cats = [c for c in services.rubric_ensure(shop) if c.active]
    if request.method == "POST":
        what = request.POST.get("what", "")
        try:
            if what in ("save", "submit"):
                services.review_save(shop=shop, review=r, reviewer=member, scores=_form_scores(request, cats),
                                     summary=request.POST.get("summary", ""), submit=what == "submit")
                flash.success(request, _("已提交质检") if what == "submit" else _("草稿已保存"))
            elif what == "acknowledge":
                services.review_acknowledge(shop=shop, review=r, agent=member)
                flash.success(request, _("已确认质检结果"))
            elif what == "appeal":
                services.appeal_open(shop=shop, review=r, agent=member, reason=request.POST.get("reason", ""))
                flash.success(request, _("申诉已提交，等待裁定"))
            elif what == "decide":
                a = QaAppeal.objects.filter(shop=shop, review=r).first()
                if a is None:
                    raise Http404("appeal")
                scores = _form_scores(request, cats) if request.POST.get("accept") == "1" else None
                services.appeal_decide(shop=shop, appeal=a, decider=member, accept=request.POST.get("accept") == "1",
                                       note=request.POST.get("note", ""), scores=scores)
                flash.success(request, _("申诉已裁定"))
            elif what == "case":
                services.case_mark(shop=shop, actor=member, kind=request.POST.get("kind", ""), review=r,
                                   title=request.POST.get("title", ""), note=request.POST.get("note", ""))
                flash.success(request, _("已标记为典型案例"))
            else:
                raise KefuError(_("未知操作"), field="what")
        except KefuError as exc:
            _error(request, exc)
        return redirect("quality:review", review_id=r.pk)
    scores = {s["category_id"]: s for s in sel.review_scores(r)}
    msgs = sel.review_messages(r)
    flags = {}
    for f in ConversationFlag.objects.filter(shop=shop, message__in=[m.pk for m in msgs]):
        flags.setdefault(f.message_id, []).append(f.get_kind_display())
    comments = {}
    for s in scores.values():
        if s["message_id"]:
            comments.setdefault(s["message_id"], []).append(s)
    rows = [{"c": c, "s": scores.get(c.pk), "range": range(c.scale_min, c.scale_max + 1)} for c in cats]
    # Items scored in the review but since removed from the rubric still show.
    extra = [s for cid, s in scores.items() if cid not in {c.pk for c in cats}]
    try:
        appeal = r.appeal
    except QaAppeal.DoesNotExist:
        appeal = None
    is_reviewer = r.reviewer_id == member.pk
    ctx = {
        "r": r, "rows": rows, "extra": extra, "chat": [{"m": m, "flags": flags.get(m.pk, []),
                                                         "comments": comments.get(m.pk, [])} for m in msgs],
        "messages_for_anchor": msgs, "appeal": appeal,
        "editable": is_reviewer and r.state == ReviewState.DRAFT,
        "may_ack": r.agent_id == member.pk and r.state == ReviewState.SUBMITTED,
        "may_appeal": r.agent_id == member.pk and r.calibration_of_id is None
        and r.state in (ReviewState.SUBMITTED, ReviewState.ACKNOWLEDGED),
        "may_decide": appeal is not None and appeal.state == AppealState.OPEN and sees_whole_shop(member)
        and member.pk not in (r.reviewer_id, r.agent_id),
        "may_calibrate": sees_whole_shop(member) and not is_reviewer and r.agent_id != member.pk
        and r.calibration_of_id is None and r.state != ReviewState.DRAFT,
        "may_case": sees_whole_shop(member) and r.state != ReviewState.DRAFT,
        "calibration": sel.calibration(r) if r.state != ReviewState.DRAFT and sees_whole_shop(member) else None,
        "case_kinds": CaseKind.choices,
        "events": list(r.events.select_related("actor")),
    }
    return TemplateResponse(request, "quality/review.html", ctx)


# ---------------------------------------------------------------- agent trend and reports

@shop_page
def agent_detail(request, agent_id: int):
    shop, member = request.shop, request.member
    agent = Agent.objects.filter(shop=shop, pk=agent_id).filter(sel.agent_scope(member)).first()
    if agent is None:
        raise Http404("agent")
    date_from, date_to = _range(request, shop, days=90)
    trend = sel.agent_trend(shop=shop, agent=agent, date_from=date_from, date_to=date_to)
    ctx = {"agent": agent, "date_from": date_from, "date_to": date_to, "trend": trend,
           "reviews": list(sel.reviews_for(shop=shop, member=member, agent_id=agent.pk)[:100]),
           "items": sel.item_stats(shop=shop, date_from=date_from, date_to=date_to, agent_ids=[agent.pk]),
           "flags": sel.flag_counts(shop=shop, date_from=date_from, date_to=date_to, agent_ids=[agent.pk]),
           "flag_labels": dict(FlagKind.choices),
           "chart_labels": {"score": _("质检均分"), "reviews": _("质检数")}}
    return TemplateResponse(request, "quality/agent.html", ctx)


@shop_page
def reports(request):
    shop, member = request.shop, request.member
    _need_supervisor(member)
    date_from, date_to = _range(request, shop)
    ctx = {"date_from": date_from, "date_to": date_to,
           "items": sel.item_stats(shop=shop, date_from=date_from, date_to=date_to),
           "reviewers": sel.reviewer_stats(shop=shop, date_from=date_from, date_to=date_to),
           "flags": sorted(sel.flag_counts(shop=shop, date_from=date_from, date_to=date_to).items()),
           "flag_labels": dict(FlagKind.choices)}
    return TemplateResponse(request, "quality/reports.html", ctx)


# ---------------------------------------------------------------- typical cases

@shop_page
def cases(request):
    shop, member = request.shop, request.member
    try:
        week = services.week_of(dt.date.fromisoformat(request.GET["week"])) if request.GET.get("week") \
            else services.week_of(_today(shop))
    except ValueError:
        week = services.week_of(_today(shop))
    ctx = {"week": week, "prev": week - dt.timedelta(days=7), "next": week + dt.timedelta(days=7),
           "week_end": week + dt.timedelta(days=6), "cases": sel.cases_of_week(shop=shop, week=week),
           "may_edit": sees_whole_shop(member), "categories": ScriptCategory.choices}
    return TemplateResponse(request, "quality/cases.html", ctx)


@require_POST
@shop_page
def case_post(request, case_id: int | None = None):
    shop, member = request.shop, request.member
    _need_supervisor(member)
    try:
        if case_id is None:
            conv = conversation_get_for_user(shop=shop, member=member, id=int(request.POST.get("conversation", "0")))
            c = services.case_mark(shop=shop, actor=member, kind=request.POST.get("kind", ""), conversation=conv,
                                   title=request.POST.get("title", ""), note=request.POST.get("note", ""))
        else:
            c = TypicalCase.objects.filter(shop=shop, pk=case_id).first()
            if c is None:
                raise Http404("case")
            services.case_to_script(shop=shop, actor=member, case=c, category=request.POST.get("category", ""),
                                    title=request.POST.get("title", ""), body=request.POST.get("body", ""))
            flash.success(request, _("已加入话术库"))
    except ValueError:
        raise Http404("conversation") from None
    except KefuError as exc:
        _error(request, exc)
        return redirect(request.POST.get("next") or "quality:cases")
    if case_id is None:
        flash.success(request, _("已标记为典型案例"))
    return redirect(request.POST.get("next") or f"{reverse('quality:cases')}?week={c.week.isoformat()}")


# ---------------------------------------------------------------- script effectiveness

@shop_page
def scripts(request):
    shop, member = request.shop, request.member
    _need_supervisor(member)
    date_from, date_to = _range(request, shop)
    ctx = {"date_from": date_from, "date_to": date_to, "min_uses": qa_settings(shop).min_script_uses,
           "effects": script_effectiveness(shop=shop, date_from=date_from, date_to=date_to)}
    return TemplateResponse(request, "quality/scripts.html", ctx)


# ---------------------------------------------------------------- product knowledge

@shop_page
def knowledge(request):
    shop, member = request.shop, request.member
    q = request.GET.get("q", "")[:100]
    edit = None
    if request.method == "POST":
        product = Product.objects.filter(shop=shop, pk=request.POST.get("product") or 0).first() \
            if (request.POST.get("product") or "").isdigit() else None
        if product is None:
            raise Http404("product")
        try:
            services.knowledge_save(shop=shop, actor=member, product=product,
                                    **{k: request.POST.get(k, "") for k in services.KNOWLEDGE_FIELDS})
            flash.success(request, _("商品知识已保存"))
        except KefuError as exc:
            _error(request, exc)
        return redirect(f"{request.path}?q={q}")
    if request.GET.get("edit", "").isdigit():
        edit = Product.objects.filter(shop=shop, pk=int(request.GET["edit"])).first()
    ctx = {"q": q, "cards": knowledge_search(shop=shop, q=q), "may_edit": sees_whole_shop(member),
           "products": list(Product.objects.filter(shop=shop).order_by("title")[:500]) if sees_whole_shop(member)
           else [], "edit": edit, "edit_card": getattr(edit, "knowledge", None) if edit else None}
    return TemplateResponse(request, "quality/knowledge.html", ctx)


# ---------------------------------------------------------------- settings

@shop_page
def settings_page(request):
    shop, member = request.shop, request.member
    _need_supervisor(member)
    if request.method == "POST":
        try:
            if request.POST.get("what") == "settings":
                ints = {k: int(request.POST[k]) for k in services.SETTING_FIELDS if request.POST.get(k, "") != ""}
                services.settings_update(shop=shop, actor=member, **ints,
                                         rude_words=request.POST.get("rude_words"),
                                         banned_words=request.POST.get("banned_words"),
                                         anger_threshold=request.POST.get("anger_threshold") or None)
            else:
                cid = request.POST.get("category")
                services.category_save(
                    shop=shop, actor=member, category_id=int(cid) if cid and cid.isdigit() else None,
                    name=request.POST.get("name", ""), description=request.POST.get("description", ""),
                    weight=int(request.POST.get("weight") or 0), scale_min=int(request.POST.get("scale_min") or 0),
                    scale_max=int(request.POST.get("scale_max") or 0), critical=request.POST.get("critical") == "1",
                    active=request.POST.get("active", "1") == "1")
            flash.success(request, _("已保存"))
        except ValueError:
            flash.error(request, _("请输入整数"))
        except KefuError as exc:
            _error(request, exc)
        return redirect("quality:settings")
    ctx = {"settings": qa_settings(shop), "categories": services.rubric_ensure(shop) and
           list(QaCategory.objects.filter(shop=shop))}
    return TemplateResponse(request, "quality/settings.html", ctx)

