from decimal import Decimal

from django.conf import settings
from ninja import Router, Schema

from kefu.conversations.schemas import IngestOut
from kefu.core.api_auth import AUTH
from kefu.core.inputs import json_body, openapi_body

from .services import orders_clean, orders_upsert

router = Router(tags=["orders"], auth=AUTH)


class OrderItemIn(Schema):
    sku: str
    quantity: int = 1
    price: Decimal | str | int


class OrderIn(Schema):
    order_id: str | int
    buyer_id: str | int
    buyer_nick: str | None = None
    status: str | None = None
    title: str | None = None
    total_amount: Decimal | str | int | None = None
    paid_amount: Decimal | str | int | None = None
    refund_amount: Decimal | str | int | None = None
    created_at: str
    paid_at: str | None = None
    printed_at: str | None = None
    shipped_at: str | None = None
    signed_at: str | None = None
    completed_at: str | None = None
    closed_at: str | None = None
    refunded_at: str | None = None
    courier: str | None = None
    tracking_no: str | None = None
    address: str | None = None
    buyer_note: str | None = None
    seller_remark: str | None = None
    items: list[OrderItemIn] | None = None


class OrderBatchIn(Schema):
    orders: list[OrderIn]


@router.post("/orders", response=IngestOut, openapi_extra=openapi_body(OrderIn, OrderBatchIn))
def orders_post(request, shop: str | None = None):
    """One order, or `{"orders": [...]}` with up to 1,000; upserted by order_id (a resend updates)."""
    shop_obj, _ = request.auth.shop_for(shop)
    raws = json_body(request, list_key="orders", limit=settings.KEFU_MAX_BATCH)
    rows = orders_clean(raws, tz=shop_obj.tz, first_row=0)
    result = orders_upsert(shop=shop_obj, rows=rows)
    return {"created": result.created, "duplicates": result.duplicates, "updated": result.updated}
