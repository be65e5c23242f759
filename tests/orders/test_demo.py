"""The demo extension makes requests, tasks and remarks in various states through the services."""

import datetime as dt

from kefu.core.services import person_create
from kefu.orders.demo import demo_extend
from kefu.orders.models import OrderEvent, OrderRemark, OrderRequest, WarehouseTask


def test_demo_extend(shop, make_order):
    for name in ("kf01", "kf02"):
        person_create(shop=shop, name=name, roles=["agent"])
    person_create(shop=shop, name="仓库小刘", roles=["warehouse"], group="")
    person_create(shop=shop, name="周敏", roles=["supervisor"], group="")
    for status, n in (("paid", 10), ("unpaid", 2), ("shipped", 2), ("completed", 1)):
        for _ in range(n):
            make_order(status)
    said = []
    day = dt.date(2026, 11, 1)
    demo_extend(shop=shop, seed=2026, date_from=day, date_to=day, say=said.append)
    states = set(OrderRequest.objects.values_list("state", flat=True))
    assert {"done", "waiting_warehouse", "with_agent", "refused"} <= states
    assert {"open", "done"} <= set(WarehouseTask.objects.values_list("state", flat=True))
    assert WarehouseTask.objects.filter(kind="find_slip").exists()  # printed by the warehouse first
    assert OrderRemark.objects.filter(type="refundable").exists()
    assert OrderEvent.objects.count() > OrderRequest.objects.count()
    assert said and "order requests" in said[0]
    # Deterministic from the seed.
    first = list(OrderRequest.objects.order_by("id").values_list("kind", "order__order_id", "state"))
    assert len(first) == 13
