import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from kefu.aftersales.models import Case, CaseEvent
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.models import Agent
from kefu.core.services import person_create
from kefu.orders.services import orders_clean, orders_upsert

TZ = ZoneInfo("Asia/Shanghai")
# A Monday.
MONDAY = dt.date(2026, 11, 2)


def at(day: dt.date, hhmm: str, second: int = 0) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(h, m, second), tzinfo=TZ)


def send(shop, rows: list[tuple]) -> None:
    """rows: (message_id, buyer_id, agent platform id or "", sender, aware time[, order_id])."""
    raws = [{"message_id": r[0], "buyer_id": r[1], "agent_id": r[2], "sender": r[3], "sent_at": r[4].isoformat(),
             "order_id": r[5] if len(r) > 5 else "", "text": "你好"} for r in rows]
    messages_ingest(shop=shop, rows=messages_clean(raws, tz=shop.tz))


def order(shop, order_id: str, buyer: str, paid: dt.datetime):
    orders_upsert(shop=shop, rows=orders_clean([{"order_id": order_id, "buyer_id": buyer,
                                                  "created_at": paid.isoformat(), "paid_at": paid.isoformat(),
                                                  "total_amount": "10", "paid_amount": "10"}], tz=shop.tz))
    from kefu.orders.models import Order

    return Order.objects.get(shop=shop, order_id=order_id)


def make_case(shop, *, order, owner, reason="lost_parcel", type="reship", opened: dt.datetime, steps=()):
    """A case written straight into the tables with a controlled timeline (the aftersales services
    stamp `now`); steps: (to_state, aware time)."""
    case = Case.objects.create(shop=shop, order=order, type=type, reason=reason, owner=owner)
    Case.objects.filter(pk=case.pk).update(created_at=opened)
    ev = CaseEvent.objects.create(shop=shop, case=case, actor=owner, from_state="", to_state="open")
    CaseEvent.objects.filter(pk=ev.pk).update(created_at=opened)
    state = "open"
    for to, when in steps:
        ev = CaseEvent.objects.create(shop=shop, case=case, actor=owner, from_state=state, to_state=to)
        CaseEvent.objects.filter(pk=ev.pk).update(created_at=when)
        state = to
    Case.objects.filter(pk=case.pk).update(state=state)
    case.refresh_from_db()
    return case


@pytest.fixture
def kf(shop) -> Agent:
    return person_create(shop=shop, name="阿美", username="amei", password="pass-word-1", roles=["agent"],
                         group="aftersales", platform_ids=["店铺:阿美"])


@pytest.fixture
def kf2(shop) -> Agent:
    return person_create(shop=shop, name="阿丽", username="ali", password="pass-word-1", roles=["agent"],
                         group="presales", platform_ids=["店铺:阿丽"])


@pytest.fixture
def supervisor(shop) -> Agent:
    return person_create(shop=shop, name="周主管", username="zhou", password="pass-word-1", roles=["supervisor"],
                         group="")


def login(agent: Agent) -> Client:
    c = Client()
    c.force_login(agent.user)
    return c
