"""Reads of the outbox: supervisors and up (and integration tokens) see the shop's; an agent sees their own."""

from django.http import Http404

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop

from .models import OutboundMessage


def outbox_list(*, shop: Shop, member: Agent | None, state: str | None = None, conversation_id: int | None = None):
    qs = OutboundMessage.objects.filter(shop=shop).select_related("customer", "agent")
    if member is not None and not sees_whole_shop(member):
        qs = qs.filter(agent=member)
    if state:
        qs = qs.filter(state=state)
    if conversation_id:
        qs = qs.filter(conversation_id=conversation_id)
    return qs.order_by("-created_at", "-id")


def outbound_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> OutboundMessage:
    msg = outbox_list(shop=shop, member=member).filter(pk=id).first()
    if msg is None:
        raise Http404("outbound message")
    return msg
