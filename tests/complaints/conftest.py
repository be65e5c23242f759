import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.orders.models import Order


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="主管阿琳", username="sup", password="pass-word-1", roles=["supervisor"],
                         group="")


@pytest.fixture
def colleague(shop):
    return person_create(shop=shop, name="阿强", username="aqiang", password="pass-word-1", roles=["agent"],
                         platform_ids=["店铺:阿强"])


@pytest.fixture
def customer(shop):
    return Customer.objects.create(shop=shop, buyer_id="buyer1", nick="小王")


@pytest.fixture
def order(shop, customer):
    now = timezone.now()
    return Order.objects.create(shop=shop, order_id="T100", customer=customer, status="paid",
                                total_amount=Decimal("200.00"), paid_amount=Decimal("200.00"),
                                created_at=now - dt.timedelta(days=3), paid_at=now - dt.timedelta(days=3))


def login(person) -> Client:
    c = Client()
    c.force_login(person.user)
    return c


@pytest.fixture
def agent_client(agent_person):
    return login(agent_person)


@pytest.fixture
def supervisor_client(supervisor):
    return login(supervisor)
