import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.workforce.models import RosterEntry, Shift
from kefu.workforce.services import shift_create


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="主管阿琳", username="sup", password="pass-word-1", roles=["supervisor"])


@pytest.fixture
def colleague(shop):
    return person_create(shop=shop, name="阿强", username="aqiang", password="pass-word-1", roles=["agent"])


@pytest.fixture
def customer(shop):
    return Customer.objects.create(shop=shop, buyer_id="buyer1", nick="小王")


def make_order(shop, customer, order_id="T1", *, minutes_ago=40, now=None, total="100.00", **kw):
    now = now or timezone.now()
    return Order.objects.create(shop=shop, order_id=order_id, customer=customer, status=kw.pop("status", "unpaid"),
                                total_amount=Decimal(total), created_at=now - dt.timedelta(minutes=minutes_ago), **kw)


def put_on_shift(shop, agent, start: dt.datetime, hours: int = 8):
    """A roster entry of the agent covering [start, start + hours)."""
    shift = Shift.objects.filter(shop=shop, name="白班").first() or shift_create(
        shop=shop, name="白班", start="08:00", end="17:00")
    return RosterEntry.objects.create(shop=shop, agent=agent, date=start.date(), shift=shift, starts_at=start,
                                      ends_at=start + dt.timedelta(hours=hours))


def login(agent) -> Client:
    c = Client()
    c.force_login(agent.user)
    return c
