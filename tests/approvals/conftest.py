import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.orders.models import Order


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="主管阿琳", username="sup", password="pass-word-1", roles=["supervisor"])


@pytest.fixture
def supervisor2(shop):
    return person_create(shop=shop, name="主管老周", username="sup2", password="pass-word-1", roles=["supervisor"])


@pytest.fixture
def admin_person(shop):
    return person_create(shop=shop, name="店长", username="boss", password="pass-word-1", roles=["admin"], group="")


@pytest.fixture
def order(shop):
    customer = Customer.objects.create(shop=shop, buyer_id="buyer1", nick="小王")
    return Order.objects.create(shop=shop, order_id="T1001", customer=customer, status="paid",
                                total_amount=Decimal("188.00"), paid_amount=Decimal("168.00"),
                                created_at=dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC))


def login(agent) -> Client:
    c = Client()
    c.force_login(agent.user)
    return c
