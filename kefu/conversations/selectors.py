"""Reads of conversations, always through the person's shop and role."""

from django.http import Http404

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop

from .models import Conversation, Message


def conversation_list(*, shop: Shop, member: Agent | None, agent_id: int | None = None,
                      waiting: bool | None = None, q: str = ""):
    qs = Conversation.objects.filter(shop=shop).select_related("customer", "agent")
    if member is not None and not sees_whole_shop(member):
        qs = qs.filter(agent=member)
    if agent_id:
        qs = qs.filter(agent_id=agent_id)
    if waiting is not None:
        qs = qs.filter(waiting=waiting)
    if q:
        qs = qs.filter(customer__buyer_id__icontains=q) | qs.filter(customer__nick__icontains=q)
    return qs.order_by("-ended_at", "-id")


def conversation_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> Conversation:
    conv = conversation_list(shop=shop, member=member).filter(id=id).first()
    if conv is None:
        raise Http404("conversation")
    return conv


def conversation_messages(*, conversation: Conversation):
    return (
        Message.objects.filter(
            shop_id=conversation.shop_id,
            customer_id=conversation.customer_id,
            sent_at__gte=conversation.started_at,
            sent_at__lte=conversation.ended_at,
        )
        .select_related("agent")
        .order_by("sent_at", "id")
    )


def conversations_before(*, shop: Shop, member: Agent | None, conversation: Conversation):
    """The buyer's earlier conversations this person may see (buyer card, CONV-4)."""
    return conversation_list(shop=shop, member=member).filter(
        customer_id=conversation.customer_id, started_at__lt=conversation.started_at
    )
