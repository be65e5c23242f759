"""Demo data: a few order requests, warehouse tasks and remarks in various states, made through the services."""

import random

from kefu.core.enums import Role
from kefu.core.models import Agent

from .models import Order, WarehouseTask
from .remarks import order_remark_add
from .requests import (
    order_mark_printed,
    order_request_create,
    order_request_transition,
    warehouse_task_complete,
)

ADDRESSES = ["上海市浦东新区世纪大道 100 号", "北京市朝阳区建国路 88 号", "广州市天河区体育西路 12 号"]
# (request kind, order status, new value, what happens next)
SCENARIOS = [
    ("cancel", "printed", "", "stopped"),
    ("cancel", "printed", "", "shipped"),
    ("cancel", "printed", "", None),
    ("cancel", "paid", "", "complete"),
    ("cancel", "unpaid", "", None),
    ("cancel", "shipped", "", "ask_intercept"),
    ("change_address", "paid", "address", "done"),
    ("change_address", "printed", "address", None),
    ("change_courier", "paid", "顺丰", None),
    ("add_accessory", "paid", "多送一个收纳袋", "refused"),
    ("urge_shipping", "paid", "", "shipped"),
    ("urge_shipping", "paid", "", None),
    ("cancel", "completed", "", None),
]


def _role(shop, role):
    return [a for a in Agent.objects.filter(shop=shop, active=True).order_by("name") if a.has_role(role)]


def demo_extend(*, shop, seed, date_from, date_to, say) -> None:
    rng = random.Random(f"{seed}-orders")
    agents = _role(shop, Role.AGENT)
    warehouse = (_role(shop, Role.WAREHOUSE) or _role(shop, Role.MANAGER))[:1]
    supervisors = _role(shop, Role.SUPERVISOR)
    if not agents or not warehouse:
        return
    wh = warehouse[0]
    used: set[int] = set()
    by_status: dict[str, list[Order]] = {}
    for status in {s for _k, s, _v, _n in SCENARIOS}:
        by_status[status] = list(Order.objects.filter(shop=shop, status=status).order_by("-created_at")[:20])
    made = 0
    for kind, status, value, then in SCENARIOS:
        pool = [o for o in by_status.get(status, []) if o.pk not in used]
        if not pool and status == "printed":
            # The generated month ships every printed order; the warehouse prints a paid one now.
            pool = [o for o in by_status.get("paid", []) if o.pk not in used][:1]
            if pool:
                pool = [order_mark_printed(shop=shop, order=pool[0], actor=wh)]
        if not pool:
            continue
        order = rng.choice(pool)
        used.add(order.pk)
        agent = rng.choice(agents)
        new_value = rng.choice(ADDRESSES) if value == "address" else value
        req = order_request_create(shop=shop, order=order, kind=kind, actor=agent, reason="买家旺旺留言要求",
                                   new_value=new_value)
        made += 1
        task = WarehouseTask.objects.filter(request=req, state="open").first()
        if then in ("stopped", "done") and task:
            warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome=then)
        elif then == "shipped" and task:
            warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="shipped", courier="中通",
                                    tracking_no=f"ZT{rng.randint(10**11, 10**12 - 1)}")
        elif then == "refused" and task:
            warehouse_task_complete(shop=shop, task_id=task.pk, actor=wh, outcome="refused", note="配件缺货")
        elif then in ("complete", "ask_intercept") and req.state == "with_agent":
            order_request_transition(shop=shop, request_id=req.pk, action=then, actor=agent,
                                     note="已申请退款" if then == "complete" else "")
    if supervisors:
        refundable = [o for status in ("paid", "shipped", "unpaid") for o in by_status.get(status, [])
                      if o.pk not in used][:1]
        for order in refundable:
            order_remark_add(shop=shop, order=order, type="refundable", reason="缺货可退", author=supervisors[0])
    say(f"{made} order requests (cancellations, changes, urging) with warehouse tasks and remarks")
