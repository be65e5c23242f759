"""Exactly once under real concurrency (PostgreSQL): two warehouse people complete one task at once,
and a warehouse completion races the agent withdrawing the request."""

import datetime as dt
import time
from decimal import Decimal

import pytest

from kefu.approvals.models import Notification
from kefu.core.errors import KefuError
from kefu.core.services import person_create, shop_create
from kefu.customers.models import Customer
from kefu.orders import requests as svc
from kefu.orders.models import Order, OrderEvent, WarehouseTask
from tests.concurrency import race, require_postgresql

pytestmark = pytest.mark.django_db(transaction=True)


def _setup():
    require_postgresql()
    shop = shop_create(code="wconc", name="并发店")
    kf = person_create(shop=shop, name="小美", roles=["agent"])
    wh1 = person_create(shop=shop, name="仓库甲", roles=["warehouse"], group="")
    wh2 = person_create(shop=shop, name="仓库乙", roles=["warehouse"], group="")
    customer = Customer.objects.create(shop=shop, buyer_id="b1")
    return shop, kf, wh1, wh2, customer


def _printed(shop, customer, n):
    return Order.objects.create(shop=shop, order_id=f"C{n}", customer=customer, status="printed",
                                total_amount=Decimal("50"), paid_amount=Decimal("50"),
                                created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))


def _slow_transition(monkeypatch):
    # The winner holds the locks a little longer, so the other surely waits on them.
    real = svc._transition

    def slow(*a, **kw):
        time.sleep(0.2)
        return real(*a, **kw)

    monkeypatch.setattr(svc, "_transition", slow)


def test_two_warehouse_people_complete_once(monkeypatch):
    shop, kf, wh1, wh2, customer = _setup()
    _slow_transition(monkeypatch)
    for i in range(4):
        req = svc.order_request_create(shop=shop, order=_printed(shop, customer, i), kind="cancel", actor=kf)
        task = WarehouseTask.objects.get(request=req)
        results = race(lambda who, tid=task.pk: svc.warehouse_task_complete(shop=shop, task_id=tid, actor=who,
                                                                            outcome="stopped"),
                       [(wh1,), (wh2,)])
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], KefuError) and errors[0].code == "already_done", results
        assert OrderEvent.objects.filter(request=req, kind="task", to_state="done").count() == 1
        assert OrderEvent.objects.filter(request=req, action="warehouse_done").count() == 1
    assert Notification.objects.filter(recipient=kf).count() == 4


def test_completion_races_withdrawal(monkeypatch):
    shop, kf, wh1, _wh2, customer = _setup()
    _slow_transition(monkeypatch)
    for i in range(4):
        req = svc.order_request_create(shop=shop, order=_printed(shop, customer, i), kind="cancel", actor=kf)
        task = WarehouseTask.objects.get(request=req)

        def act(who, tid=task.pk, rid=req.pk):
            if who == "wh":
                return svc.warehouse_task_complete(shop=shop, task_id=tid, actor=wh1, outcome="stopped")
            return svc.order_request_transition(shop=shop, request_id=rid, action="cancel", actor=kf)

        results = race(act, [("wh",), ("kf",)])
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], KefuError), results
        assert errors[0].code in ("already_done", "invalid_transition")
        req.refresh_from_db()
        task.refresh_from_db()
        # Consistent either way: done with a done task, or withdrawn with a cancelled task.
        assert (req.state, task.state) in {("done", "done"), ("cancelled", "cancelled")}
