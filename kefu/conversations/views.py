"""Conversation pages: the list with views (CONV-6 tabs) and the conversation page with routing
history, transfer, merge, internal notes and the reply composer (sent through the outbox)."""

import uuid

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError
from kefu.core.exports import column_sums
from kefu.core.models import Agent
from kefu.customers.selectors import buyer_card
from kefu.customers.services import customer_spam_set
from kefu.quality.enums import FlagKind
from kefu.web import selectors as WS
from kefu.web.labels import CONVERSATION_LABELS
from kefu.web.views import _export_format, export_response, shop_page
from kefu.workforce.enums import PresenceStatus
from kefu.workforce.selectors import presence_of

from . import services
from .selectors import (
    BUILTIN_VIEWS,
    SAVED_PARAMS,
    agents_for_transfer,
    clean_filters,
    conversation_events,
    conversation_get_for_user,
    conversation_list,
    conversation_messages,
    conversation_notes,
    conversation_outbound,
    conversations_before,
    saved_view_get,
    saved_views_of,
)

CONVERSATIONS_PER_PAGE = 50
EXPORT_MAX_ROWS = 100_000
# Partials other apps provide for the composer; the page renders without them until they exist.
OPTIONAL_PARTIALS = {"reply_picker": "replies/_picker.html", "crm_prompts": "crm/_prompts.html"}


def _partial_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def _status_ctx(member) -> dict:
    presence = presence_of(agent=member)
    return {"my_status": presence.status if presence else PresenceStatus.OFFLINE, "statuses": PresenceStatus.choices}


def _list_params(request, member) -> dict:
    params = {k: request.GET.get(k, "") for k in SAVED_PARAMS}
    if not sees_whole_shop(member):
        params["agent"] = ""  # an agent cannot widen their view with the agent filter
    return params


@shop_page
def conversations(request):
    shop, member = request.shop, request.member
    try:
        filters = clean_filters(_list_params(request, member))
        fmt = _export_format(request)
    except KefuError as exc:
        return HttpResponseBadRequest(f"{exc.field}: {exc.message}")
    qs = conversation_list(shop=shop, member=member, **filters)
    if fmt:
        tz = shop.tz
        rows = [
            {"id": c.id, "buyer_id": c.customer.buyer_id, "nick": c.customer.nick,
             "agent": (c.assignee or c.agent).name if (c.assignee or c.agent) else "",
             "started_at": c.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
             "ended_at": c.ended_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
             "message_count": c.message_count, "buyer_message_count": c.buyer_message_count,
             "waiting": _("是") if c.waiting else _("否")}
            for c in qs[:EXPORT_MAX_ROWS]
        ]
        return export_response(fmt, list(CONVERSATION_LABELS), rows, f"kefu-conversations-{WS.shop_today(shop)}",
                               CONVERSATION_LABELS, title=_("会话"),
                               total=column_sums(rows, ("message_count", "buyer_message_count"))
                               | {"id": _("合计 %(n)d 个") % {"n": len(rows)}})
    page = Paginator(qs, CONVERSATIONS_PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    saved = saved_views_of(shop=shop, member=member)
    current = {k: v for k, v in _list_params(request, member).items() if v}
    active_saved = next((v.pk for v in saved if v.params == current), None)
    builtin = [v for v in BUILTIN_VIEWS if v.key != "group" or member.group]
    ctx = {"page": page, "filters": filters, "agents": WS.agents_for_filter(shop=shop, member=member),
           "query": params.urlencode(), "waiting_raw": request.GET.get("waiting", ""),
           "builtin_views": builtin, "saved_views": saved, "active_saved": active_saved,
           "current_params": current, "flag_choices": FlagKind.choices, **_status_ctx(member)}
    if request.htmx and request.htmx.target == "conversations":
        return TemplateResponse(request, "web/conversations.html#table", ctx)
    return TemplateResponse(request, "web/conversations.html", ctx)


def _thread(messages, outbound) -> list[dict]:
    """Messages and outbound (pending/sent) replies in time order."""
    items = [{"kind": "message", "at": m.sent_at, "m": m} for m in messages]
    items += [{"kind": "outbound", "at": o.created_at, "o": o} for o in outbound]
    return sorted(items, key=lambda i: i["at"])


@shop_page
def conversation_detail(request, conversation_id: int):
    shop, member = request.shop, request.member
    conv = conversation_get_for_user(shop=shop, member=member, id=conversation_id)
    card = buyer_card(shop=shop, member=member, customer=conv.customer, at=conv.started_at,
                      past_conversations=conversations_before(shop=shop, member=member, conversation=conv))
    # Not "messages": that name is django.contrib.messages' flash list in web/base.html.
    chat_messages = list(conversation_messages(conversation=conv))
    outbound = list(conversation_outbound(conversation=conv))
    whole = sees_whole_shop(member)
    owner_id = conv.assignee_id or conv.agent_id
    may_act = whole or member.id == owner_id
    merge_targets = [c for c in conversation_list(shop=shop, member=member).filter(customer_id=conv.customer_id)
                     .exclude(pk=conv.pk)[:20]] if may_act and not conv.merged_into_id else []
    ctx = {"conv": conv, "chat_messages": chat_messages, "thread": _thread(chat_messages, outbound), "card": card,
           "can_flag_spam": whole, "events": list(conversation_events(conversation=conv)),
           "notes": list(conversation_notes(conversation=conv)), "may_act": may_act,
           "may_pick_up": owner_id is None and (not conv.group or conv.group == member.group),
           "transfer_agents": agents_for_transfer(shop=shop) if may_act else [],
           "merge_targets": merge_targets, "reply_key": uuid.uuid4().hex,
           **{flag: _partial_exists(name) for flag, name in OPTIONAL_PARTIALS.items()}}
    return TemplateResponse(request, "web/conversation_detail.html", ctx)


def _back(conv_id: int):
    return redirect("web:conversation_detail", conversation_id=conv_id)


def _act(request, conversation_id: int, fn):
    """Run one page action; a rule problem is shown on the page (400 for htmx), never a 500."""
    shop, member = request.shop, request.member
    conv = conversation_get_for_user(shop=shop, member=member, id=conversation_id)
    try:
        result = fn(shop, member, conv)
    except KefuError as exc:
        flash.error(request, f"{exc.field + ': ' if exc.field else ''}{exc.message}")
        return _back(conv.pk)
    return result or _back(conv.pk)


@require_POST
@shop_page
def conversation_transfer(request, conversation_id: int):
    def do(shop, member, conv):
        raw = request.POST.get("to_agent", "")
        to_agent = Agent.objects.filter(shop=shop, pk=int(raw)).first() if raw.isdigit() else None
        if to_agent is None:
            raise KefuError(_("请选择客服"), field="to_agent")
        services.conversation_transfer(shop=shop, conversation=conv, to_agent=to_agent, by=member,
                                       reason=request.POST.get("reason", ""))
        flash.success(request, _("已转接给 %(name)s") % {"name": to_agent.name})
    return _act(request, conversation_id, do)


@require_POST
@shop_page
def conversation_close(request, conversation_id: int):
    def do(shop, member, conv):
        services.conversation_close(shop=shop, conversation=conv, by=member, reopen=request.POST.get("reopen") == "1")
    return _act(request, conversation_id, do)


@require_POST
@shop_page
def conversation_note(request, conversation_id: int):
    def do(shop, member, conv):
        services.note_add(shop=shop, conversation=conv, by=member, text=request.POST.get("text", ""))
    return _act(request, conversation_id, do)


@require_POST
@shop_page
def conversation_merge(request, conversation_id: int):
    def do(shop, member, conv):
        raw = request.POST.get("target", "")
        try:
            target = conversation_get_for_user(shop=shop, member=member, id=int(raw))
        except (ValueError, Http404):
            raise KefuError(_("请选择要合并到的会话"), field="target") from None
        services.conversation_merge(shop=shop, source=conv, target=target, by=member)
        flash.success(request, _("会话已合并"))
        return _back(target.pk)
    return _act(request, conversation_id, do)


@require_POST
@shop_page
def conversation_reply(request, conversation_id: int):
    def do(shop, member, conv):
        services.conversation_reply(shop=shop, conversation=conv, by=member, text=request.POST.get("text", ""),
                                    key=request.POST.get("key") or None)
        flash.success(request, _("回复已放入发件箱，等待平台发送"))
    return _act(request, conversation_id, do)


@require_POST
@shop_page
def conversation_spam(request, conversation_id: int):
    """Supervisors flag the conversation's buyer as spam (left out of every figure) or clear it."""
    shop, member = request.shop, request.member
    conv = conversation_get_for_user(shop=shop, member=member, id=conversation_id)
    if not sees_whole_shop(member):
        raise Http404("conversation")
    customer_spam_set(shop=shop, customer=conv.customer, spam=request.POST.get("spam") == "1", actor=request.user)
    return _back(conv.pk)


@require_POST
@shop_page
def view_save(request):
    """Save the list's current filters under a name (a tab of the person's own)."""
    shop, member = request.shop, request.member
    params = {k: request.POST.get(k, "") for k in SAVED_PARAMS if request.POST.get(k)}
    try:
        services.saved_view_create(shop=shop, owner=member, name=request.POST.get("name", ""), params=params)
    except KefuError as exc:
        flash.error(request, f"{exc.field}: {exc.message}")
    return redirect(_list_url(params))


@require_POST
@shop_page
def view_delete(request, view_id: int):
    view = saved_view_get(shop=request.shop, member=request.member, id=view_id)
    services.saved_view_delete(shop=request.shop, view=view)
    return redirect("web:conversations")


def _list_url(params: dict) -> str:
    from django.urls import reverse
    from django.utils.http import urlencode

    return reverse("web:conversations") + ("?" + urlencode(params) if params else "")

