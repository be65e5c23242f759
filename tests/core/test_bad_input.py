"""Defect 5 of issue 11: NUL bytes, out-of-range dates and numbers answer 400/422 naming the field, never 500.

On PostgreSQL a NUL byte in any text that reaches a query is a database error; the check is made
once for every route (kefu.core.middleware.RejectBadTextMiddleware), so these are samples of it.
"""

import json

import pytest

pytestmark = pytest.mark.django_db

API_GETS = [
    "/api/v1/sla/clocks?group=a%00b",
    "/api/v1/conversations?q=a%00b",
    "/api/v1/cases?order_id=a%00b",
    "/api/v1/orders/a%00b",
    "/api/v1/skus/a%00b",
    "/api/v1/money-actions?order_id=a%00b",
    "/api/v1/metrics/agents?from=2026-11-01%00",
]


@pytest.mark.parametrize("url", API_GETS)
def test_nul_in_api_query_or_path(api, url):
    r = api.get(url)
    assert r.status_code == 400, (url, r.status_code, r.content[:200])
    body = r.json()
    assert body["code"] == "invalid" and body["field"] in {"group", "q", "order_id", "path", "from"}
    assert "NUL" in body["message"]


@pytest.mark.parametrize("url, field", [("/conversations/?q=a%00b", "q"), ("/orders/a%00b/", "path"),
                                        ("/?from=2026%00", "from")])
def test_nul_in_page_query_or_path(manager_client, url, field):
    r = manager_client.get(url)
    assert r.status_code == 400 and r.content.decode().startswith(f"{field}:")


@pytest.mark.parametrize("body, field", [
    ({"buyer_id": "b\u0000", "kind": "lead", "reason": "size"}, "buyer_id"),
    ({"messages": [{"message_id": "m1", "buyer_id": "b1", "agent_id": "a", "sender": "buyer",
                    "sent_at": "2026-11-01T10:00:00+08:00", "text": "在吗\u0000"}]}, "messages.0.text"),
    ({"x\u0000": 1}, "x\u0000"),
    ({"text": "\ud800"}, "text"),  # a lone surrogate: no UTF-8 for it
])
def test_nul_in_json_body_names_the_field(api, body, field):
    raw = json.dumps(body)  # json.dumps writes \u0000 and \ud800 as escapes
    r = api.post("/api/v1/followups", raw, content_type="application/json")
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field


def test_raw_nul_byte_in_body_and_form(api, manager_client):
    r = api.post("/api/v1/scripts/1/render", b'{"text": "a\x00"}', content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "body"
    r = manager_client.post("/conversations/", {"q": "a\x00b"})
    assert r.status_code == 400 and r.content.decode().startswith("q:")


def test_clean_input_still_passes(api):
    assert api.get("/api/v1/conversations?q=%E5%9C%A8").status_code == 200
    r = api.post("/api/v1/messages", json.dumps({"message_id": "m1", "buyer_id": "b1", "agent_id": "a",
                                                 "sender": "buyer", "sent_at": "2026-11-01T10:00:00+08:00",
                                                 "text": "a\\u0000 is fine as text"}),
                 content_type="application/json")
    assert r.status_code == 200, r.content


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00", "0001-01-01",
                                  "9999-12-31 23:59:59", "1969-12-31T23:59:59Z", "2101-01-01T00:00:00Z"])
def test_out_of_range_times_on_messages_and_orders(api, when):
    msg = {"message_id": "m1", "buyer_id": "b1", "agent_id": "a", "sender": "buyer", "sent_at": when}
    r = api.post("/api/v1/messages", json.dumps(msg), content_type="application/json")
    assert r.status_code == 422, r.content
    err = r.json()["errors"][0]
    assert err["field"] == "sent_at" and "out of range" in err["message"]
    order = {"order_id": "o1", "buyer_id": "b1", "created_at": "2026-11-01T10:00:00+08:00", "paid_at": when}
    r = api.post("/api/v1/orders", json.dumps(order), content_type="application/json")
    assert r.status_code == 422, r.content
    assert r.json()["errors"][0]["field"] in ("paid_at", "created_at")


@pytest.mark.parametrize("items, amount", [
    ([{"sku": "A", "quantity": 10 ** 20, "price": "1.00"}], "1.00"),
    ("A:100000000000000000000:1.00", "1.00"),
    ("A:1e20:1.00", "1.00"),
    ("A:1:1.00", "1e20"),
    ("A:1:1.00", "99999999999.99"),
    ([{"sku": "A", "quantity": 1, "price": "1e12"}], "1.00"),
])
def test_out_of_range_numbers_on_orders(api, items, amount):
    order = {"order_id": "o1", "buyer_id": "b1", "created_at": "2026-11-01T10:00:00+08:00",
             "paid_amount": amount, "total_amount": "1.00", "items": items}
    r = api.post("/api/v1/orders", json.dumps(order), content_type="application/json")
    assert r.status_code == 422, r.content
    assert r.json()["errors"][0]["field"] in ("items", "paid_amount")


def test_out_of_range_days_in_query(api, manager_client):
    r = api.get("/api/v1/metrics/agents?from=0001-01-01&to=0001-01-02")
    assert r.status_code == 400 and r.json()["field"] == "from"
    r = api.get("/api/v1/metrics/agents?from=9999-12-30&to=9999-12-31")
    assert r.status_code == 400
    assert manager_client.get("/?from=0001-01-01&to=0001-01-02").status_code == 200  # the page shows the error
    assert manager_client.get("/shipping/?day=9999-12-31").status_code == 400  # the page names the bad day


def test_bad_input_field_unit():
    from django.test import RequestFactory

    from kefu.core.middleware import bad_input_field

    rf = RequestFactory()
    assert bad_input_field(rf.get("/x", {"a": "ok"})) is None
    assert bad_input_field(rf.post("/x", '{"a": "\\\\u0000"}', content_type="application/json")) is None
    assert bad_input_field(rf.post("/x", '{"a": [{"b": "\\u0000"}]}', content_type="application/json")) == "a.0.b"
    assert bad_input_field(rf.post("/x", "not json \\u0000", content_type="application/json")) is None
    assert bad_input_field(rf.post("/x", '{"a": "\\ud83d\\ude00"}', content_type="application/json")) is None
