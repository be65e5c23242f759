"""The outbox page: supervisors see every outbound message of the shop by state; agents their own."""

from django.core.paginator import Paginator
from django.template.response import TemplateResponse

from kefu.core.access import sees_whole_shop
from kefu.web.views import shop_page

from .enums import OutboundState
from .selectors import outbox_list

PER_PAGE = 50


@shop_page
def outbox(request):
    shop, member = request.shop, request.member
    state = request.GET.get("state", "")
    if state not in OutboundState.values:
        state = ""
    qs = outbox_list(shop=shop, member=member, state=state or None)
    page = Paginator(qs.select_related("conversation"), PER_PAGE).get_page(request.GET.get("page"))
    ctx = {"page": page, "state": state, "states": OutboundState.choices, "whole_shop": sees_whole_shop(member)}
    if request.htmx and request.htmx.target == "outbox":
        return TemplateResponse(request, "outbound/outbox.html#table", ctx)
    return TemplateResponse(request, "outbound/outbox.html", ctx)
