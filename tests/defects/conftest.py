import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from kefu.aftersales.models import Case, CaseEvent
from kefu.aftersales.services import MoneyLineIn, case_open
from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.orders.models import Order, OrderItem

SH = dt.timezone(dt.timedelta(hours=8))  # the test shop's zone (Asia/Shanghai has no DST)


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="主管阿琳", username="sup", password="pass-word-1", roles=["supervisor"])


def login(agent) -> Client:
    c = Client()
    c.force_login(agent.user)
    return c


def buyer_order(shop, buyer: str, skus=("DRESS-M",), price=Decimal("99.00")) -> Order:
    customer, _ = Customer.objects.get_or_create(shop=shop, buyer_id=buyer, defaults={"nick": f"买家{buyer}"})
    n = Order.objects.filter(shop=shop).count() + 1
    o = Order.objects.create(shop=shop, order_id=f"T{n:05d}", customer=customer, status="signed",
                             total_amount=price, paid_amount=price,
                             created_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
                             signed_at=dt.datetime(2026, 10, 3, tzinfo=dt.UTC))
    for s in skus:
        OrderItem.objects.create(order=o, sku_code=s, quantity=3, price=price)
    return o


def open_case(shop, at: dt.datetime, *, buyer: str | None = "b1", sku="DRESS-M", reason="quality", note="",
              actor=None, responsible="", money=(), items=None, type="return_refund") -> Case:
    """A case opened through the after-sales service, then moved to `at` (the service stamps now)."""
    order = buyer_order(shop, buyer, skus=[s for s, _q in items] if items else [sku]) if buyer else None
    case = case_open(shop=shop, actor_agent=actor, type=type, reason=reason, order=order, responsible=responsible,
                     items=items if items is not None else [(sku, 1)], note=note,
                     money_lines=[MoneyLineIn(*m) for m in money])
    Case.objects.filter(pk=case.pk).update(created_at=at)
    CaseEvent.objects.filter(case=case).update(created_at=at)
    case.created_at = at
    return case
