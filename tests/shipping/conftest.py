import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.test import Client

from kefu.catalog.models import Product, Sku
from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.orders.models import Order, OrderItem

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
# A fixed "now" of the audit in shop time: 2026-11-20 10:00 Asia/Shanghai.
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SH)


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="主管阿琳", username="sup", password="pass-word-1", roles=["supervisor"],
                         group="")


@pytest.fixture
def warehouse(shop):
    return person_create(shop=shop, name="仓库小刘", username="wh", password="pass-word-1", roles=["warehouse"],
                         group="")


@pytest.fixture
def customer(shop):
    return Customer.objects.create(shop=shop, buyer_id="buyer1", nick="小王", phone="13812345678")


def sku(shop, code, *, stock=None, category="枕头", rating=None, listed=True, price="100.00"):
    product, _ = Product.objects.get_or_create(shop=shop, title=f"宝贝 {category}", category=category)
    return Sku.objects.create(shop=shop, product=product, code=code, stock=stock, listed=listed, price=Decimal(price),
                              rating=Decimal(rating) if rating is not None else None)


def order(shop, customer, order_id, *, paid_at, items=(), shipped_at=None, status=None, closed_at=None):
    """A paid order (shipped if shipped_at) with items [(sku code, quantity)]."""
    status = status or ("shipped" if shipped_at else "paid")
    o = Order.objects.create(shop=shop, order_id=order_id, customer=customer, status=status,
                             total_amount=Decimal("100.00"), paid_amount=Decimal("100.00"),
                             created_at=paid_at - dt.timedelta(minutes=5), paid_at=paid_at, shipped_at=shipped_at,
                             closed_at=closed_at)
    for code, qty in items:
        OrderItem.objects.create(order=o, sku_code=code, quantity=qty, price=Decimal("100.00"))
    return o


def login(agent) -> Client:
    c = Client()
    c.force_login(agent.user)
    return c
