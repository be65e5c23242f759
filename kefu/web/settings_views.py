"""The shop settings page (§12 settings, service hours, score weights), the rules list (AUTO-2)
and the shop's API tokens (managers and admins: list, create — shown once — and revoke)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.core.access import edits_settings, sees_whole_shop, user_of
from kefu.core.errors import KefuError
from kefu.core.selectors import rules_status, tokens_of
from kefu.core.services import shop_settings_update, token_create, token_revoke

from .forms import ShopSettingsForm
from .views import shop_page


@shop_page
def shop_settings(request):
    """Supervisors see the settings and rules; managers and admins change them."""
    member, shop = request.member, request.shop
    if not sees_whole_shop(member):
        raise Http404("settings")
    can_edit = edits_settings(member)
    form = ShopSettingsForm(request.POST if request.method == "POST" else None, shop=shop)
    if request.method == "POST":
        if not can_edit:
            raise Http404("settings")
        if form.is_valid():
            # Only what changed: a metric setting rebuilds the shop's figures.
            changes = {k: v for k, v in form.changes().items() if getattr(shop, k) != v}
            try:
                if changes:
                    shop_settings_update(shop=shop, actor=user_of(member), **changes)
            except KefuError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("设置已保存") if changes else _("没有改动"))
                return redirect("web:settings")
    return _page(request, form, can_edit)


def _page(request, form, can_edit: bool, *, new_token: str | None = None, token_error: str | None = None):
    shop = request.shop
    return TemplateResponse(request, "web/settings.html", {
        "form": form, "can_edit": can_edit, "rules": rules_status(shop=shop),
        "tokens": tokens_of(shop) if can_edit else None, "new_token": new_token, "token_error": token_error,
    }, status=400 if form.errors or token_error else 200)


def _token_admin(request):
    member = request.member
    if request.method != "POST" or not edits_settings(member):
        raise Http404("tokens")
    return member


@shop_page
def token_new(request):
    """Create an API token; the page shows it this once (it is never stored, only its hash)."""
    member = _token_admin(request)
    form = ShopSettingsForm(None, shop=request.shop)
    try:
        _tok, raw = token_create(shop=request.shop, name=request.POST.get("name", ""), actor=user_of(member))
    except KefuError as exc:
        return _page(request, form, True, token_error=exc.message)
    response = _page(request, form, True, new_token=raw)
    response["Cache-Control"] = "no-store"
    return response


@shop_page
def token_revoke_view(request, token_id: int):
    member = _token_admin(request)
    try:
        tok = token_revoke(shop=request.shop, token_id=token_id, actor=user_of(member))
    except KefuError as exc:
        if exc.code == "not_found":
            raise Http404("token") from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已吊销令牌 %(name)s") % {"name": tok.name})
    return redirect(reverse("web:settings") + "#tokens")
