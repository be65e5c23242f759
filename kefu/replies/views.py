"""Pages: the script library by category with Chinese search, create/edit (supervisors and up),
each agent's own opening line, courier-fee settings, and the picker partial used beside a reply box."""

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.conversations.selectors import conversation_get_for_user
from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError
from kefu.web.views import shop_page

from . import selectors as sel
from . import services
from .enums import ScriptCategory
from .models import Script, ScriptSettings
from .variables import VARIABLES, variables_unfilled

PICKER_LIMIT = 30


class ScriptForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("分类"), choices=ScriptCategory.choices)
    title = forms.CharField(label=gettext_lazy("标题"), max_length=80)
    body = forms.CharField(label=gettext_lazy("内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5}))
    key = forms.CharField(label=gettext_lazy("标识（可选）"), max_length=60, required=False,
                          help_text=gettext_lazy("其他功能按标识调用此话术，如 payment_reminder"))
    starts_on = forms.DateField(label=gettext_lazy("开始日期"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=gettext_lazy("结束日期"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)


def _service_error(form: forms.Form, exc: KefuError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@shop_page
def library(request):
    shop, member = request.shop, request.member
    services.scripts_ensure(shop)
    whole = sees_whole_shop(member)
    q = request.GET.get("q", "")[:100]
    category = request.GET.get("category", "")
    category = category if category in ScriptCategory.values else None
    groups = sel.script_library(shop=shop, member=member, q=q, category=category, include_inactive=whole)
    ctx = {"groups": groups, "q": q, "category": category or "", "categories": ScriptCategory.choices,
           "can_edit": whole}
    if request.htmx and request.htmx.target == "script-results":
        return TemplateResponse(request, "replies/library.html#results", ctx)
    mine = Script.objects.filter(shop=shop, owner=member).first()
    ctx.update({"mine": mine, "variables": VARIABLES, "settings": ScriptSettings.objects.filter(shop=shop).first(),
                "conversation": None})
    return TemplateResponse(request, "replies/library.html", ctx)


@shop_page
def edit(request, script_id: int | None = None):
    """New or changed shop script: supervisors, managers and admins."""
    shop, member = request.shop, request.member
    if not sees_whole_shop(member):
        raise Http404("script")
    script = sel.script_get_for_user(shop=shop, member=member, id=script_id) if script_id else None
    if script is not None and script.owner_id is not None:
        raise Http404("script")
    if request.method == "POST":
        form = ScriptForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                if script is None:
                    services.script_create(shop=shop, actor=member, **d)
                else:
                    services.script_update(shop=shop, script_id=script.pk, actor=member, **d)
                return redirect("replies:library")
            except KefuError as exc:
                _service_error(form, exc)
    elif script is not None:
        form = ScriptForm(initial={f: getattr(script, f) for f in ScriptForm.base_fields})
    else:
        form = ScriptForm(initial={"category": request.GET.get("category", ScriptCategory.OPENING)})
    versions = list(script.versions.select_related("editor")[:10]) if script else []
    return TemplateResponse(request, "replies/edit.html", {"form": form, "script": script, "versions": versions,
                                                           "variables": VARIABLES},
                            status=400 if form.errors else 200)


@require_POST
@shop_page
def opening(request):
    """Every agent sets their own opening line (SCR-2); empty removes it."""
    shop, member = request.shop, request.member
    try:
        services.opening_line_set(shop=shop, member=member, body=request.POST.get("body", ""),
                                  title=request.POST.get("title", ""))
    except KefuError as exc:
        services.scripts_ensure(shop)
        ctx = {"groups": sel.script_library(shop=shop, member=member), "q": "", "category": "",
               "categories": ScriptCategory.choices, "can_edit": sees_whole_shop(member), "variables": VARIABLES,
               "mine": Script.objects.filter(shop=shop, owner=member).first(), "opening_error": exc.message,
               "opening_body": request.POST.get("body", ""), "conversation": None,
               "settings": ScriptSettings.objects.filter(shop=shop).first()}
        return TemplateResponse(request, "replies/library.html", ctx, status=400)
    return redirect("replies:library")


@require_POST
@shop_page
def settings_save(request):
    """Courier fees ("申通=10" one per line) and the fee link. Supervisors and up."""
    shop, member = request.shop, request.member
    if not sees_whole_shop(member):
        raise Http404("settings")
    fees = {}
    for line in request.POST.get("courier_fees", "").splitlines():
        if line.strip():
            name, _sep, fee = line.partition("=")
            fees[name.strip()] = fee.strip()
    try:
        services.script_settings_update(shop=shop, actor=member, courier_fees=fees,
                                        fee_link=request.POST.get("fee_link", ""))
    except KefuError as exc:
        return HttpResponse(_("保存失败：%(msg)s") % {"msg": exc.message}, status=400)
    return redirect("replies:library")


@shop_page
def picker(request):
    """The picker's list (htmx): scripts matching q, each with its text filled for the conversation."""
    shop, member = request.shop, request.member
    services.scripts_ensure(shop)
    conv = None
    cid = request.GET.get("conversation", "")
    if cid.isdigit():
        conv = conversation_get_for_user(shop=shop, member=member, id=int(cid))
    values = sel.script_context(shop=shop, member=member, conversation=conv)
    q, category = request.GET.get("q", "")[:100], request.GET.get("category") or None
    if not q.strip() and conv is not None:  # nothing typed yet: what answers the buyer's last messages
        found = sel.scripts_for_context(shop=shop, member=member, conversation=conv, category=category,
                                        limit=PICKER_LIMIT)
    else:
        found = sel.scripts_search(shop=shop, q=q, member=member, category=category, limit=PICKER_LIMIT)
    found.sort(key=lambda s: s.owner_id is None)  # the agent's own opening line first (stable sort)
    items = []
    for s in found:
        text = services.script_fill(script_body=s.body, values=values)
        # What is still to fill in by hand: the outbox refuses a reply that still says {订单号}.
        items.append({"script": s, "text": text, "unfilled": variables_unfilled(text)})
    return TemplateResponse(request, "replies/_picker.html#list",
                            {"items": items, "conversation_id": conv.pk if conv else ""})


@require_POST
@shop_page
def use(request, script_id: int):
    sel.script_get_for_user(shop=request.shop, member=request.member, id=script_id)
    conv = None
    cid = request.POST.get("conversation", "")
    if cid.isdigit():
        conv = conversation_get_for_user(shop=request.shop, member=request.member, id=int(cid))
    services.script_use(shop=request.shop, script_id=script_id, agent=request.member, conversation=conv)
    return HttpResponse(status=204)
