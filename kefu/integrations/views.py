"""Pages: webhooks (subscriptions, delivery log, redelivery), automation rules (edit, order, dry
run, firings) and the event types with their JSON Schemas. Supervisors read; managers change."""

import json
import tempfile
from pathlib import Path

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.access import sees_whole_shop
from kefu.core.enums import Role
from kefu.core.errors import KefuError, ValidationFailed, http_status
from kefu.core.models import Agent
from kefu.web.views import shop_page

from . import rules as R
from . import selectors as sel
from . import webhooks as W
from .events import envelope_schema, event_types

ACTION_ROWS = 4
ROLES = [(Role.SUPERVISOR, Role.SUPERVISOR.label), (Role.MANAGER, Role.MANAGER.label), (Role.AGENT, Role.AGENT.label)]


def _shop_wide(request):
    if not sees_whole_shop(request.member):
        raise Http404("page")


def _can_edit(member) -> bool:
    return member.has_role(Role.MANAGER, Role.ADMIN)


def _base_ctx(request) -> dict:
    from kefu.customers.models import Tag
    from kefu.replies.models import Script

    return {"can_edit": _can_edit(request.member), "event_types": list(event_types().values()), "dry": None,
            "conditions": [(k, v[0], v[1]) for k, v in R.CONDITIONS.items()], "actions": list(R.ACTIONS.items()),
            "people": Agent.objects.filter(shop=request.shop, active=True).order_by("name"), "roles": ROLES,
            "scripts": Script.objects.filter(shop=request.shop).order_by("title")[:200],
            "buyer_tags": Tag.objects.filter(shop=request.shop).order_by("name").values_list("name", flat=True),
            "priorities": list(R.PRIORITIES), "values": _form_values(None), "error": None}


@shop_page
def overview(request):
    _shop_wide(request)
    ctx = _base_ctx(request)
    ctx.update({"subscriptions": list(sel.subscriptions(shop=request.shop)), "rules": list(sel.rules(shop=request.shop))})
    return TemplateResponse(request, "integrations/overview.html", ctx)


def _fail(request, template, ctx, exc: KefuError):
    ctx["error"] = exc
    return TemplateResponse(request, template, ctx, status=http_status(exc))


# ---------------------------------------------------------------- webhooks

@require_POST
@shop_page
def webhook_new(request):
    _shop_wide(request)
    try:
        s = W.subscription_save(shop=request.shop, actor=request.member, name=request.POST.get("name", ""),
                                url=request.POST.get("url", ""), event_types=request.POST.getlist("event_types"))
    except KefuError as exc:
        ctx = _base_ctx(request)
        ctx.update({"subscriptions": list(sel.subscriptions(shop=request.shop)), "rules": list(sel.rules(shop=request.shop))})
        return _fail(request, "integrations/overview.html", ctx, exc)
    messages.success(request, _("已订阅，签名密钥见下方。"))
    return redirect("integrations:webhook", webhook_id=s.pk)


@shop_page
def webhook_detail(request, webhook_id: int):
    _shop_wide(request)
    s = sel.subscription_get(shop=request.shop, id=webhook_id)
    ctx = _base_ctx(request)
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "delete":
                W.subscription_delete(shop=request.shop, actor=request.member, subscription=s)
                messages.success(request, _("已删除。"))
                return redirect("integrations:overview")
            if request.POST.get("action") == "redeliver":
                d = sel.delivery_get(shop=request.shop, id=int(request.POST.get("delivery", 0) or 0))
                d = W.delivery_redeliver(shop=request.shop, actor=request.member, delivery=d)
                messages.success(request, _("已重发：%(state)s") % {"state": d.get_state_display()})
                return redirect("integrations:webhook", webhook_id=s.pk)
            s = W.subscription_save(shop=request.shop, actor=request.member, subscription=s,
                                    name=request.POST.get("name", ""), url=request.POST.get("url", ""),
                                    event_types=request.POST.getlist("event_types"),
                                    active=request.POST.get("active") == "on")
            messages.success(request, _("已保存。"))
            return redirect("integrations:webhook", webhook_id=s.pk)
        except KefuError as exc:
            error = exc
    deliveries = list(sel.deliveries(subscription=s)[:100])
    ctx.update({"sub": s, "deliveries": deliveries, "error": error})
    return TemplateResponse(request, "integrations/webhook.html", ctx, status=http_status(error) if error else 200)


# ---------------------------------------------------------------- rules

def _rule_from_post(post) -> dict:
    conditions = []
    for field, _label, kind in ((k, v[0], v[1]) for k, v in R.CONDITIONS.items()):
        if kind == "list":
            value = post.get(f"c_{field}", "").strip()
            if value:
                conditions.append({"field": field, "value": value, "not": post.get(f"c_{field}_not") == "on"})
        elif kind == "range":
            lo, hi = post.get(f"c_{field}_min", "").strip(), post.get(f"c_{field}_max", "").strip()
            if lo or hi:
                conditions.append({"field": field, "value": {"min": lo, "max": hi}})
        else:
            a, b = post.get(f"c_{field}_from", "").strip(), post.get(f"c_{field}_to", "").strip()
            if a or b:
                conditions.append({"field": field, "value": {"from": a, "to": b}})
    actions = []
    for i in range(ACTION_ROWS):
        t = post.get(f"a{i}_type", "")
        if not t:
            continue
        who = post.get(f"a{i}_who", "")
        a = {"type": t, "text": post.get(f"a{i}_text", ""), "tag": post.get(f"a{i}_text", ""),
             "note": post.get(f"a{i}_text", ""), "priority": post.get(f"a{i}_priority", ""),
             "script_id": int(post.get(f"a{i}_script") or 0), "kind": post.get(f"a{i}_kind", "") or None,
             "due_hours": post.get(f"a{i}_hours") or None}
        if who.isdigit():
            a["agent_id"] = int(who)
        elif who:
            a["role"] = who
        actions.append(a)
    return {"name": post.get("name", ""), "event_type": post.get("event_type", ""), "conditions": conditions,
            "actions": actions, "stop": post.get("stop") == "on", "active": post.get("active", "on") == "on",
            "position": int(post["position"]) if post.get("position", "").isdigit() else None}


BLANK_ACTION = {"type": "", "role": "", "agent_id": None, "text": "", "tag": "", "note": "", "priority": "",
                "script_id": None}


def _form_values(rule) -> dict:
    """The rule as the form's fields: every condition field and ACTION_ROWS action rows, all keys present."""
    conds = {f: {"text": "", "not": False, "min": "", "max": "", "from": "", "to": ""} for f in R.CONDITIONS}
    acts = [dict(BLANK_ACTION) for _i in range(ACTION_ROWS)]
    if rule is not None:
        for c in rule.conditions:
            v = c["value"]
            conds[c["field"]].update({"not": c.get("not", False), **(v if isinstance(v, dict) else {"text": ", ".join(v)})})
        for i, a in enumerate(rule.actions[:ACTION_ROWS]):
            acts[i].update(a)
    return {"name": rule.name if rule else "", "event_type": rule.event_type if rule else "",
            "position": rule.position if rule else "", "stop": rule.stop if rule else False,
            "active": rule.active if rule else True, "conds": conds, "acts": acts}


@require_POST
@shop_page
def rule_new(request):
    _shop_wide(request)
    try:
        r = R.rule_save(shop=request.shop, actor=request.member, **_rule_from_post(request.POST))
    except KefuError as exc:
        ctx = _base_ctx(request)
        ctx.update({"subscriptions": list(sel.subscriptions(shop=request.shop)),
                    "rules": list(sel.rules(shop=request.shop))})
        return _fail(request, "integrations/overview.html", ctx, exc)
    messages.success(request, _("规则已保存。"))
    return redirect("integrations:rule", rule_id=r.pk)


@shop_page
def rule_detail(request, rule_id: int):
    _shop_wide(request)
    rule = sel.rule_get(shop=request.shop, id=rule_id)
    ctx = _base_ctx(request)
    error, dry = None, None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "delete":
                R.rule_delete(shop=request.shop, actor=request.member, rule=rule)
                messages.success(request, _("规则已删除。"))
                return redirect("integrations:overview")
            if action == "dry_run":
                days = int(request.POST.get("days") or 30) if str(request.POST.get("days", "30")).isdigit() else 30
                dry = R.rule_dry_run(shop=request.shop, event_type=rule.event_type, conditions=rule.conditions,
                                     days=days)
            else:
                rule = R.rule_save(shop=request.shop, actor=request.member, rule=rule, **_rule_from_post(request.POST))
                messages.success(request, _("规则已保存。"))
                return redirect("integrations:rule", rule_id=rule.pk)
        except KefuError as exc:
            error = exc
    ctx.update({"rule": rule, "values": _form_values(rule), "error": error, "dry": dry,
                "firings": list(rule.firings.all()[:50])})
    return TemplateResponse(request, "integrations/rule.html", ctx, status=http_status(error) if error else 200)


# ---------------------------------------------------------------- event types

@shop_page
def event_types_page(request):
    types = [{"et": et, "schema": json.dumps(envelope_schema(et), ensure_ascii=False, indent=2)}
             for et in event_types().values()]
    return TemplateResponse(request, "integrations/events.html", {"types": types})


# ---------------------------------------------------------------- catalogue import (IN-5)

CATALOG_UPLOAD_MAX = 20 * 1024 * 1024
CATALOG_ERRORS_SHOWN = 50


@shop_page
def catalog_page(request):
    """The catalogue: upload a products/SKUs/batches/stock file, see what the last imports did,
    the categories and the products with their SKUs."""
    from kefu.catalog import imports as catalog_imports
    from kefu.catalog import selectors as catalog_sel
    from kefu.importers.models import ImportRun

    member = request.member
    if not (sees_whole_shop(member) or member.has_role(Role.WAREHOUSE)):
        raise Http404("page")
    can_import = catalog_imports.can_import_catalog(member)
    result, error, errors, fmt = None, None, [], request.POST.get("format", "generic")
    status = 200
    if request.method == "POST":
        if not can_import:
            raise Http404("page")
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise KefuError(_("请选择商品文件（CSV/XLSX）"), field="file")
            if upload.size > CATALOG_UPLOAD_MAX:
                raise KefuError(_("文件太大（最多 20 MB）"), field="file")
            suffix = Path(upload.name).suffix.lower()
            suffix = suffix if suffix in (".csv", ".xlsx") else ".csv"
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"catalog{suffix}"
                with open(path, "wb") as f:
                    for chunk in upload.chunks():
                        f.write(chunk)
                result = catalog_imports.catalog_file_import(shop=request.shop, path=path, fmt=fmt, actor=member,
                                                             file_name=upload.name)
        except ValidationFailed as exc:
            error, errors = exc, exc.errors[:CATALOG_ERRORS_SHOWN]
            status = http_status(exc)
        except KefuError as exc:
            error, status = exc, http_status(exc)
    q = request.GET.get("q", "").strip()[:80]
    ctx = {"can_import": can_import, "result": result, "error": error, "errors": errors,
           "more_errors": len(error.errors) - len(errors) if isinstance(error, ValidationFailed) else 0,
           "fmt": fmt, "formats": [("generic", _("通用（中文或英文列名）")), ("shopify", "Shopify"), ("taobao", _("淘宝助理/千牛 宝贝文件"))],
           "counts": catalog_sel.catalog_counts(shop=request.shop), "q": q,
           "categories": catalog_sel.catalog_categories(shop=request.shop),
           "products": catalog_sel.catalog_products(shop=request.shop, q=q, limit=100),
           "runs": ImportRun.objects.filter(shop=request.shop, kind="catalog").order_by("-id")[:10]}
    return TemplateResponse(request, "integrations/catalog.html", ctx, status=status)
