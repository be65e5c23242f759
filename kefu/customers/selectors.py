"""Reads of buyers (customers), always through the person's shop and role."""

import datetime as dt

from django.db.models import Prefetch

from kefu.core.access import mask_address, mask_phone, sees_contacts
from kefu.core.models import Agent, Shop
from kefu.orders.enums import OrderStatus
from kefu.orders.models import Order, OrderItem

from .models import Customer

CARD_ORDERS = 20
CARD_CONVERSATIONS = 20


def customer_is_returning(*, shop: Shop, customer_id: int, before: dt.datetime) -> bool:
    """老客户 (000): the buyer has a paid order before this moment (a conversation's start)."""
    return Order.objects.filter(
        shop=shop, customer_id=customer_id, paid_at__isnull=False, paid_at__lt=before
    ).exists()


def customer_contacts(*, customer: Customer, member: Agent | None) -> dict:
    """Phone and address, masked for roles that do not need them (Q-5)."""
    if sees_contacts(member):
        return {"phone": customer.phone, "address": customer.address, "masked": False}
    return {"phone": mask_phone(customer.phone), "address": mask_address(customer.address), "masked": True}


def customer_orders(*, shop: Shop, customer_id: int, member: Agent | None, limit: int = CARD_ORDERS) -> list[dict]:
    """The buyer's latest orders with status, amounts and items; addresses masked by role."""
    see = sees_contacts(member)
    orders = (
        Order.objects.filter(shop=shop, customer_id=customer_id)
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("id")))
        .order_by("-created_at", "-id")[:limit]
    )
    out = []
    for o in orders:
        out.append({
            "id": o.id, "order_id": o.order_id, "status": o.status, "status_label": OrderStatus(o.status).label
            if o.status in OrderStatus.values else o.status,
            "title": o.title, "total_amount": o.total_amount, "paid_amount": o.paid_amount,
            "refund_amount": o.refund_amount, "created_at": o.created_at, "paid_at": o.paid_at,
            "courier": o.courier, "tracking_no": o.tracking_no,
            "address": o.address if see else mask_address(o.address),
            "buyer_note": o.buyer_note, "seller_remark": o.seller_remark,
            "items": [{"sku": i.sku_code, "quantity": i.quantity, "price": i.price} for i in o.items.all()],
        })
    return out


def buyer_card(*, shop: Shop, member: Agent | None, customer: Customer, at: dt.datetime,
               past_conversations) -> dict:
    """CONV-4: what the agent sees beside a conversation. `past_conversations` is a queryset
    already limited to what this person may see (conversation_list)."""
    return {
        "customer": customer,
        "returning": customer_is_returning(shop=shop, customer_id=customer.id, before=at),
        "contacts": customer_contacts(customer=customer, member=member),
        "orders": customer_orders(shop=shop, customer_id=customer.id, member=member),
        "past_conversations": list(past_conversations[:CARD_CONVERSATIONS]),
    }
