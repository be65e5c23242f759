import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kefu.conversations.models import Conversation
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.orders.models import Order


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="主管阿琳", username="sup", password="pass-word-1", roles=["supervisor"])


@pytest.fixture
def colleague(shop):
    return person_create(shop=shop, name="阿强", username="aqiang", password="pass-word-1", roles=["agent"])


def login(agent) -> Client:
    c = Client()
    c.force_login(agent.user)
    return c


@pytest.fixture
def conversation(shop, agent_person):
    """A buyer 小王 asks about order T100 (an order card in the chat) and 小美 answers."""
    now = timezone.now().replace(microsecond=0)
    cust = Customer.objects.create(shop=shop, buyer_id="wang88", nick="小王")
    Order.objects.create(shop=shop, order_id="T099", customer=cust, status="completed", title="旧订单",
                         total_amount=Decimal("50.00"), created_at=now - dt.timedelta(days=20))
    Order.objects.create(shop=shop, order_id="T100", customer=cust, status="shipped", title="玫瑰精油 10ml",
                         total_amount=Decimal("128.00"), paid_amount=Decimal("128.00"), courier="顺丰",
                         tracking_no="SF123", created_at=now - dt.timedelta(days=2))
    Order.objects.create(shop=shop, order_id="T101", customer=cust, status="unpaid", title="最新未付",
                         total_amount=Decimal("10.00"), created_at=now - dt.timedelta(days=1))
    t0 = now - dt.timedelta(minutes=10)
    rows = messages_clean([
        {"message_id": "m1", "buyer_id": "wang88", "buyer_nick": "小王", "agent_id": "店铺:小美", "sender": "buyer", "sent_at": t0.isoformat(),
         "text": "我的订单什么时候到", "order_id": "T100"},
        {"message_id": "m2", "buyer_id": "wang88", "agent_id": "店铺:小美", "sender": "agent",
         "sent_at": (t0 + dt.timedelta(minutes=1)).isoformat(), "text": "亲，我帮您查一下"},
    ], tz=shop.tz)
    messages_ingest(shop=shop, rows=rows)
    return Conversation.objects.get(shop=shop, customer=cust)
