"""The shop settings page (§12 settings, service hours, score weights) and the rules list (AUTO-2)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from kefu.core.access import edits_settings, sees_whole_shop, user_of
from kefu.core.errors import KefuError
from kefu.core.selectors import rules_status
from kefu.core.services import shop_settings_update

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
    return TemplateResponse(request, "web/settings.html", {
        "form": form, "can_edit": can_edit, "rules": rules_status(shop=shop),
    }, status=400 if form.errors else 200)
