"""Pages: the daily shipping-audit list grouped by kind (actions per row via htmx, hard-limit rows
highlighted), and the SKU stock page (stock, delist/relist, ratings import)."""

import tempfile
from pathlib import Path

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.catalog import selectors as catalog_sel
from kefu.catalog import services as catalog
from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.timeutil import parse_day, shop_day
from kefu.web.views import shop_page

from . import selectors as sel
from . import services
from .enums import ACTIONS_BY_KIND, STOCK_KINDS, IssueAction, IssueKind, IssueState

ACTION_LABELS = dict(IssueAction.choices)
LIST_LIMIT = 500
UPLOAD_MAX = 5 * 1024 * 1024


def _actions_for(member, kind: str) -> list[tuple[str, str]]:
    return [(a, ACTION_LABELS[a]) for a in ACTIONS_BY_KIND[kind] if services.may_act(member, kind, a)]


def _decorate(issues, member) -> None:
    for issue in issues:
        issue.action_choices = _actions_for(member, issue.kind)
        issue.can_delist = issue.kind in STOCK_KINDS and bool(issue.sku_code)


@shop_page
def issue_list(request):
    shop, member = request.shop, request.member
    if not sel.visible_kinds(member):
        raise Http404("shipping")
    today = shop_day(timezone.now(), shop.tz)
    error = None
    day = None
    day_param = request.GET.get("day", "")
    if day_param:
        try:
            day = parse_day(day_param)
        except ValueError:
            error = _("日期格式不对")
    kind = request.GET.get("kind", "")
    if kind not in IssueKind.values:
        kind = ""
    state = request.GET.get("state", "" if day else IssueState.OPEN)
    if state not in IssueState.values:
        state = ""
    issues = list(sel.issues_for(shop=shop, member=member, day=day, kind=kind or None, state=state or None)
                  [:LIST_LIMIT])
    _decorate(issues, member)
    groups = sel.grouped(issues=issues, member=member)
    counts = sel.open_counts(shop=shop, member=member)
    if kind:
        groups = [g for g in groups if g.kind == kind]
    ctx = {"groups": groups, "day": day, "day_param": day_param if day else "", "kind": kind, "state": state,
           "today": today, "days": sel.issue_days(shop=shop),
           "kinds": [(k, IssueKind(k).label, counts.get(k, 0)) for k in sel.visible_kinds(member)],
           "states": IssueState.choices, "error": error, "truncated": len(issues) >= LIST_LIMIT,
           "settings": services.settings_for(shop), "can_recompute": True,
           "can_settings": member.has_role(*services.SETTINGS_ROLES)}
    return TemplateResponse(request, "shipping/list.html", ctx, status=400 if error else 200)


@shop_page
def resolve(request, issue_id: int):
    if request.method != "POST":
        raise Http404("issue")
    shop, member = request.shop, request.member
    issue = sel.issue_get_for_user(shop=shop, member=member, id=issue_id)
    error = None
    try:
        services.issue_resolve(shop=shop, issue_id=issue.pk, action=request.POST.get("action", ""), actor=member,
                               note=request.POST.get("note", ""), delist=request.POST.get("delist") == "1")
    except KefuError as exc:
        error = _resolve_error(exc)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("shipping:list")
    issue = sel.issue_get_for_user(shop=shop, member=member, id=issue.pk)
    sel.grouped(issues=[issue], member=member)
    _decorate([issue], member)
    return TemplateResponse(request, "shipping/list.html#row", {"issue": issue, "error": error})


def _resolve_error(exc: KefuError) -> str:
    if exc.code == "invalid_transition":
        return _("这条已处理，不能再操作")
    if exc.code == "bad_action":
        return _("请选择这类问题的处理方式（不能直接忽略）")
    if exc.code in ("not_allowed", "forbidden"):
        return _("你的角色不能这样处理")
    return {"note": _("备注最多 500 字"), "delist": _("只有缺货/超卖可以下架")}.get(exc.field or "", exc.message)


@shop_page
def recompute(request):
    if request.method != "POST":
        raise Http404("audit")
    shop, member = request.shop, request.member
    if not sel.visible_kinds(member):
        raise Http404("shipping")
    r = services.shipping_audit_run(shop=shop, actor=member)
    messages.success(request, _("已重新计算：新增 %(new)d 条，自动关闭 %(closed)d 条")
                     % {"new": r.created_total, "closed": sum(r.closed.values())})
    return redirect("shipping:list")


@shop_page
def settings_save(request):
    if request.method != "POST":
        raise Http404("settings")
    shop, member = request.shop, request.member
    changes = {}
    try:
        for name in ("promise_hours", "hard_limit_hours", "audit_hour"):
            raw = request.POST.get(name, "").strip()
            if raw:
                if not raw.isdigit():
                    raise KefuError("must be a whole number", field=name)
                changes[name] = int(raw)
        changes["auto_delist"] = request.POST.get("auto_delist") == "1"
        services.settings_update(shop=shop, actor=member, **changes)
        messages.success(request, _("发货设置已保存"))
    except KefuError as exc:
        messages.error(request, _("设置未保存：%(field)s %(message)s") % {"field": exc.field or "", "message": exc.message})
    return redirect("shipping:list")


# ---------------------------------------------------------------- SKU stock page

@shop_page
def skus(request):
    shop, member = request.shop, request.member
    q = request.GET.get("q", "").strip()[:80]
    only = request.GET.get("only", "")
    if only not in ("", "short", "listed_short", "below"):
        only = ""
    rows = catalog_sel.sku_rows(shop=shop, q=q, only=only)
    ctx = {"rows": rows, "q": q, "only": only, "can_stock": catalog.can_manage_stock(member),
           "can_delist": catalog.can_manage_stock(member) or member.has_role("agent"),
           "can_rate": catalog.can_import_ratings(member)}
    return TemplateResponse(request, "shipping/skus.html", ctx)


def _sku_row_response(request, code: str, error: str | None):
    shop, member = request.shop, request.member
    sku = catalog_sel.sku_get(shop=shop, code=code)
    pending = catalog_sel.pending_quantities(shop=shop, codes=[code]).get(code, 0)
    avg = catalog_sel.average_for(sku, catalog_sel.category_averages(shop=shop))
    row = catalog_sel.SkuRow(sku=sku, pending=pending, category_average=avg)
    return TemplateResponse(request, "shipping/skus.html#row", {
        "r": row, "error": error, "can_stock": catalog.can_manage_stock(member),
        "can_delist": catalog.can_manage_stock(member) or member.has_role("agent")})


@shop_page
def sku_act(request, code: str):
    if request.method != "POST":
        raise Http404("sku")
    shop, member = request.shop, request.member
    catalog_sel.sku_get(shop=shop, code=code)
    op = request.POST.get("op", "")
    error = None
    try:
        if op == "delist":
            catalog.sku_delist(shop=shop, code=code, actor=member, note=request.POST.get("note", ""))
        elif op == "relist":
            catalog.sku_relist(shop=shop, code=code, actor=member, note=request.POST.get("note", ""))
        elif op == "stock":
            raw = request.POST.get("quantity", "").strip()
            if not raw.isdigit():
                raise KefuError("must be a whole number ≥ 0", field="quantity")
            catalog.sku_stock_set(shop=shop, code=code, actor=member, quantity=int(raw),
                                  note=request.POST.get("note", ""))
        else:
            raise KefuError("unknown operation", field="op")
    except KefuError as exc:
        error = {"quantity": _("库存须为不小于 0 的整数"), "already_delisted": _("已下架"),
                 "already_listed": _("已在售")}.get(exc.code if exc.code.startswith("already") else exc.field or "",
                                                    exc.message)
        if exc.code == "forbidden":
            error = _("你的角色不能修改库存或上下架")
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("shipping:skus")
    return _sku_row_response(request, code, error)


@shop_page
def ratings_upload(request):
    if request.method != "POST":
        raise Http404("ratings")
    shop, member = request.shop, request.member
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择评分文件（CSV/XLSX）"))
        return redirect("shipping:skus")
    if upload.size > UPLOAD_MAX:
        messages.error(request, _("文件太大（最多 5 MB）"))
        return redirect("shipping:skus")
    suffix = Path(upload.name).suffix.lower() if Path(upload.name).suffix.lower() in (".csv", ".xlsx") else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"ratings{suffix}"
        path.write_bytes(upload.read())
        try:
            n = catalog.ratings_file_import(shop=shop, path=path, actor=member)
            messages.success(request, _("已导入 %(n)d 个 SKU 的评分") % {"n": n})
        except ValidationFailed as exc:
            shown = "; ".join(f"{_('第 %(row)s 行') % {'row': e['row']}} {e['field']}: {e['message']}"
                              for e in exc.errors[:10])
            messages.error(request, _("没有导入任何数据：") + shown)
        except KefuError as exc:
            messages.error(request, _("没有导入任何数据：") + f"{exc.field or ''} {exc.message}")
    return redirect("shipping:skus")
