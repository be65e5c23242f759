import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.orders.models import Order, OrderItem


@pytest.fixture
def kf(shop):
    return person_create(shop=shop, name="小美", username="kf1", password="pass-word-1", roles=["agent"])


@pytest.fixture
def kf2(shop):
    return person_create(shop=shop, name="阿强", username="kf2", password="pass-word-1", roles=["agent"])


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="主管周敏", username="sup", password="pass-word-1", roles=["supervisor"],
                         group="")


@pytest.fixture
def wh(shop):
    return person_create(shop=shop, name="仓库小刘", username="wh", password="pass-word-1", roles=["warehouse"],
                         group="")


@pytest.fixture
def make_order(shop):
    def make(status="paid", order_id=None, total="188.00", shop_obj=None):
        s = shop_obj or shop
        customer, _ = Customer.objects.get_or_create(shop=s, buyer_id="buyer1", defaults={"nick": "小王"})
        oid = order_id or f"T-{status}-{Order.objects.count() + 1}"
        o = Order.objects.create(shop=s, order_id=oid, customer=customer, status=status,
                                 total_amount=Decimal(total), paid_amount=Decimal(total),
                                 address="浙江省杭州市西湖区文三路 100 号",
                                 created_at=dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC))
        OrderItem.objects.create(order=o, sku_code="SKU-1", quantity=1, price=Decimal(total))
        return o
    return make


def login(agent) -> Client:
    c = Client()
    c.force_login(agent.user)
    return c
