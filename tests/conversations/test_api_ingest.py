import json

import pytest

from kefu.conversations.models import Conversation, Message
from kefu.metrics.models import AgentDay


def msg(i, sender="buyer", at="2026-11-01T10:00:00", **kw):
    return {"message_id": f"m{i}", "buyer_id": "b1", "agent_id": "a1", "sender": sender, "sent_at": at, "text": "在吗", **kw}


def post(api, path, body, **params):
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return api.post(f"/api/v1/{path}" + (f"?{q}" if q else ""), json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_single_and_batch_are_idempotent(api, shop):
    r = post(api, "messages", msg(1))
    assert r.status_code == 200, r.content
    assert r.json() == {"created": 1, "duplicates": 0, "updated": 0}
    batch = {"messages": [msg(1), msg(2, "agent", "2026-11-01T10:00:30")]}
    r = post(api, "messages", batch)
    assert r.json()["created"] == 1 and r.json()["duplicates"] == 1
    r = post(api, "messages", batch)
    assert r.json() == {"created": 0, "duplicates": 2, "updated": 0}
    assert Message.objects.filter(shop=shop).count() == 2
    day = AgentDay.objects.get(shop=shop)
    assert (day.receptions, day.replied_receptions, day.answered_turns, day.response_sum) == (1, 1, 1, 30)
    assert Conversation.objects.get(shop=shop).message_count == 2


@pytest.mark.django_db
def test_bad_row_is_named_and_nothing_is_written(api, shop):
    batch = {"messages": [msg(1), msg(2, sender="robot"), msg(3, at="yesterday")]}
    r = post(api, "messages", batch)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert {"index": 1, "field": "sender"} == {k: errors[0][k] for k in ("index", "field")}
    assert errors[1]["index"] == 2 and errors[1]["field"] == "sent_at"
    assert Message.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"messages": "x"},
        {"messages": [{"message_id": "1"}]},
        [1, 2],
        {"message_id": "1", "buyer_id": "b", "sender": "agent", "sent_at": "2026-11-01T10:00:00"},
        {"message_id": "x" * 200, "buyer_id": "b", "agent_id": "a", "sender": "buyer", "sent_at": "2026-11-01"},
        {"message_id": {"a": 1}, "buyer_id": "b", "agent_id": "a", "sender": "buyer", "sent_at": "2026-11-01"},
        {"message_id": "1", "buyer_id": ["b"], "agent_id": "a", "sender": "buyer", "sent_at": "2026-11-01"},
        {"message_id": "1", "buyer_id": "b", "agent_id": "a", "sender": "buyer", "sent_at": "2026-02-30"},
        {"messages": []},
        {"messages": [1]},
        b"not json",
        b"\xff\xfe",
        "a string",
    ],
)
def test_bad_bodies_get_a_clear_4xx(api, body):
    r = post(api, "messages", body) if not isinstance(body, bytes) else api.post(
        "/api/v1/messages", body, content_type="application/json")
    assert 400 <= r.status_code < 500
    data = r.json()
    assert data.get("errors") or data.get("message")


@pytest.mark.django_db
def test_batch_limit(api):
    r = post(api, "messages", {"messages": [msg(i) for i in range(1001)]})
    assert r.status_code == 400 and r.json()["field"] == "messages"


@pytest.mark.django_db
def test_no_token_is_401_and_wrong_shop_is_404(client, api, other_shop):
    assert post(client, "messages", msg(1)).status_code == 401
    assert post(api, "messages", msg(1), shop="s2").status_code == 404


@pytest.mark.django_db
def test_orders_upsert(api, shop):
    o = {"order_id": "o1", "buyer_id": "b1", "created_at": "2026-11-01 10:00:00", "paid_at": "2026-11-01 10:01:00",
         "total_amount": "100", "paid_amount": "99.90", "items": [{"sku": "A", "quantity": 2, "price": "49.95"}]}
    r = post(api, "orders", o)
    assert r.json() == {"created": 1, "duplicates": 0, "updated": 0}
    assert post(api, "orders", o).json() == {"created": 0, "duplicates": 1, "updated": 0}
    r = post(api, "orders", {**o, "refund_amount": "99.90", "refunded_at": "2026-11-02 10:00"})
    assert r.json()["updated"] == 1
    from kefu.orders.models import Order

    order = Order.objects.get(shop=shop, order_id="o1")
    assert str(order.refund_amount) == "99.90" and order.status == "refunded"
    assert order.items.count() == 1
    bad = post(api, "orders", {"orders": [o, {**o, "order_id": "o2", "paid_amount": "abc"}]})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "paid_amount"


@pytest.mark.django_db
def test_nul_characters_are_refused_naming_the_field(api, shop):
    r = post(api, "messages", msg(1, text="a\u0000b"))
    assert r.status_code == 400 and "text" in r.content.decode()
    assert not Message.objects.filter(shop=shop).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("change,field", [
    ({"items": [{"sku": "A", "quantity": 0, "price": "1"}]}, "items"),
    ({"items": ["A"]}, "items"),
    ({"items": "A:x:1"}, "items"),
    ({"created_at": ""}, "created_at"),
    ({"paid_at": "2026-10-01 00:00"}, "paid_at"),
    ({"paid_amount": "-1"}, "paid_amount"),
    ({"paid_amount": "1.234"}, "paid_amount"),
    ({"paid_amount": "NaN"}, "paid_amount"),
    ({"status": "lost"}, "status"),
    ({"refund_amount": "500", "paid_amount": "10"}, "refund_amount"),
])
def test_bad_orders_are_named(api, change, field):
    o = {"order_id": "o1", "buyer_id": "b1", "created_at": "2026-11-01 10:00:00"}
    r = post(api, "orders", {**o, **change})
    assert r.status_code == 422, r.content
    assert r.json()["errors"][0]["field"] == field


@pytest.mark.django_db
def test_openapi_docs_work_offline(api, client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200 and b"cdn." not in r.content
    assert "/api/v1/messages" in client.get("/api/v1/openapi.json").json()["paths"]


@pytest.mark.django_db
def test_a_reply_without_nick_keeps_the_buyers_nick(api, shop):
    from kefu.customers.models import Customer

    post(api, "messages", {"messages": [msg(1, buyer_nick="小明"), msg(2, "agent", "2026-11-01T10:00:05")]})
    assert Customer.objects.get(shop=shop, buyer_id="b1").nick == "小明"
