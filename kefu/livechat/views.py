"""The people's pages of the live channel: the workspace (接待台), the supervisors' live view,
the widget settings, chat images, and the demo shop's test site with the widget embedded."""

from django.conf import settings
from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kefu.aftersales.selectors import cases_for
from kefu.conversations.selectors import (
    agents_for_transfer,
    conversation_get_for_user,
    conversation_list,
)
from kefu.core.access import edits_settings, sees_whole_shop, user_of
from kefu.core.errors import KefuError
from kefu.core.models import Shop
from kefu.customers.selectors import buyer_card
from kefu.web.views import shop_page
from kefu.workforce.enums import PresenceStatus
from kefu.workforce.selectors import presence_of

from . import away
from .events import Viewer
from .files import image_response, max_bytes
from .identity import identity_hash, widget_settings_of
from .models import ChatAttachment
from .settings_services import widget_secret_rotate, widget_settings_update
from .stream import sse_response
from .widget_views import release_connection

DEMO_MEMBER = ("member-1001", "小王")  # the demo site's logged-in buyer (its shop's server signs the id)


@shop_page
def workspace(request):
    """接待台: several chats at once, live."""
    member = request.member
    presence = presence_of(agent=member)
    ctx = {"my_status": presence.status if presence else PresenceStatus.OFFLINE, "statuses": PresenceStatus.choices,
           "transfer_agents": agents_for_transfer(shop=request.shop), "whole_shop": sees_whole_shop(member),
           "max_mb": max_bytes() // (1024 * 1024)}
    return TemplateResponse(request, "livechat/workspace.html", ctx)


@shop_page
@require_GET
def staff_stream(request):
    """The event stream of the workspace (?workspace=1: while it is open the person counts as present,
    kefu.livechat.away) and of the supervisors' live view."""
    viewer = Viewer.of_member(request.member)
    shop_id, agent_id = request.shop.pk, request.member.pk

    def alive(ending: bool = False) -> None:
        if ending:
            away.heartbeat(shop_id=shop_id, agent_id=agent_id)
        else:
            away.workspace_alive(shop_id=shop_id, agent_id=agent_id)

    release_connection()
    return sse_response(request, viewer, alive=alive if request.GET.get("workspace") == "1" else None)


@shop_page
@require_GET
def chat_side(request, conversation_id: int):
    """The buyer card beside the open chat: new/returning, contacts (masked by role), orders,
    open after-sales cases, past conversations (htmx partial)."""
    shop, member = request.shop, request.member
    conv = conversation_get_for_user(shop=shop, member=member, id=conversation_id)
    past = conversation_list(shop=shop, member=member).filter(customer_id=conv.customer_id,
                                                              started_at__lt=conv.started_at)
    card = buyer_card(shop=shop, member=member, customer=conv.customer, at=conv.started_at, past_conversations=past)
    cases = list(cases_for(shop=shop, member=member).filter(order__customer_id=conv.customer_id)
                 .exclude(state__in=("closed", "rejected")).select_related("order")[:10])
    return TemplateResponse(request, "livechat/_side.html", {"conv": conv, "card": card, "cases": cases})


@shop_page
@require_GET
def staff_image(request, attachment_id: int):
    """A chat image for the shop's people who may see a conversation of that buyer."""
    shop, member = request.shop, request.member
    att = ChatAttachment.objects.filter(pk=attachment_id, shop=shop).first()
    if att is None or not conversation_list(shop=shop, member=member).filter(customer_id=att.customer_id).exists():
        raise Http404("image")
    thumb = request.GET.get("thumb") == "1" and bool(att.thumbnail_name)
    return image_response(att, thumbnail=thumb)


@shop_page
def supervisor(request):
    """Who is online, how many chats each holds, buyers waiting and for how long — live."""
    if not sees_whole_shop(request.member):
        raise Http404("page")
    return TemplateResponse(request, "livechat/supervisor.html",
                            {"transfer_agents": agents_for_transfer(shop=request.shop)})


@shop_page
def widget_settings(request):
    """The widget's key, embed code, greetings and identity secret (managers edit; supervisors read)."""
    shop, member = request.shop, request.member
    if not sees_whole_shop(member):
        raise Http404("page")
    ws = widget_settings_of(shop)
    editable = edits_settings(member)
    if request.method == "POST" and editable:
        try:
            if request.POST.get("rotate") == "1":
                widget_secret_rotate(shop=shop, by=member, actor=user_of(member))
                flash.success(request, _("已生成新的身份验证密钥，旧密钥签名的身份将被拒绝。"))
            else:
                more = {"away_after_minutes": _whole(request.POST["away_after_minutes"])} \
                    if "away_after_minutes" in request.POST else {}
                widget_settings_update(
                    shop=shop, by=member, actor=user_of(member), enabled=request.POST.get("enabled") == "1",
                    title=request.POST.get("title", ""), greeting=request.POST.get("greeting", ""),
                    offline_greeting=request.POST.get("offline_greeting", ""),
                    allowed_origins=request.POST.get("allowed_origins", ""), **more)
                flash.success(request, _("已保存"))
            return redirect("webchat_settings")
        except KefuError as exc:
            flash.error(request, f"{exc.field}: {exc.message}")
    base = request.build_absolute_uri("/").rstrip("/")
    ctx = {"ws": ws, "editable": editable, "base": base, "snippet_url": base + reverse("livechat:loader"),
           "demo_hash_example": identity_hash(ws.identity_secret, "user-42") if editable else ""}
    return TemplateResponse(request, "livechat/widget_settings.html", ctx)


def _whole(raw: str):
    """A form's whole number, or the text itself so the service names the field in its error."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else raw


@require_GET
def demo_site(request):
    """A test page of the demo shop's own site with the widget embedded (play the buyer here and
    the agent in another browser). ?member=1 plays a logged-in member (identity signed here, as the
    shop's server would); ?order=<id> passes an order card."""
    if not getattr(settings, "KEFU_DEMO_SITE", True):
        raise Http404("demo site")
    code = request.GET.get("shop") or "demo"
    shop = Shop.objects.filter(code=code, code__startswith="demo").first()
    if shop is None:
        raise Http404("demo shop")
    ws = widget_settings_of(shop)
    member = request.GET.get("member") == "1"
    ctx = {"shop": shop, "ws": ws, "member": member, "member_id": DEMO_MEMBER[0], "member_name": DEMO_MEMBER[1],
           "member_hash": identity_hash(ws.identity_secret, DEMO_MEMBER[0]) if member else "",
           "order_id": (request.GET.get("order") or "")[:64], "lang": request.GET.get("lang") or "zh-hans"}
    return TemplateResponse(request, "livechat/demo_site.html", ctx)
