"""The cases API: open, get, list, transition with a version, policy; bad input; other shops' ids 404."""

import json

import pytest
from django.test import Client

from kefu.aftersales.models import Case
from kefu.core.services import person_create, token_create

from .conftest import login, make_case

pytestmark = pytest.mark.django_db


def post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def test_open_get_list_transition(api, shop, order):
    r = post(api, "/api/v1/cases", {"order_id": "T1001", "type": "exchange", "reason": "wrong_item",
                                   "responsible": "warehouse", "items": [{"sku": "DRESS-M", "qty": 1}],
                                   "intercepted": True,
                                   "money_lines": [{"kind": "goods", "direction": "buyer_to_shop", "amount": "15.00"}]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "open" and body["version"] == 1 and body["buyer_id"] == "buyer1"
    assert body["items"] == [{"sku": "DRESS-M", "qty": 1}] and body["intercepted"] is True
    assert body["money_lines"][0]["direction"] == "buyer_to_shop" and body["money_lines"][0]["state"] == "planned"
    assert "waiting_return" in body["allowed_transitions"]
    cid = body["id"]
    assert api.get(f"/api/v1/cases/{cid}").json()["id"] == cid
    assert [c["id"] for c in api.get("/api/v1/cases?state=open").json()] == [cid]
    assert api.get("/api/v1/cases?state=closed").json() == []
    r = post(api, f"/api/v1/cases/{cid}/transition", {"to": "waiting_return", "expected_version": 1, "note": "寄回"})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert [e["to_state"] for e in r.json()["events"]] == ["open", "waiting_return"]
    # The same request again, with the version it read: someone (itself) moved the case on.
    r = post(api, f"/api/v1/cases/{cid}/transition", {"to": "waiting_return", "expected_version": 1})
    assert r.status_code == 409 and r.json()["code"] == "stale_version" and r.json()["field"] == "expected_version"
    r = post(api, f"/api/v1/cases/{cid}/transition", {"to": "refunded", "expected_version": 2})
    assert r.status_code == 200  # nothing to pay the buyer on this case


def test_refused_transition_and_authority_over_the_api(shop, agent_person, order):
    c = login(agent_person)
    case = make_case(shop, agent_person, order=order, amount="45")
    r = post(c, f"/api/v1/cases/{case.pk}/transition?shop=s1", {"to": "received", "expected_version": 1})
    assert r.status_code == 400 and r.json()["code"] == "invalid_transition"
    r = post(c, f"/api/v1/cases/{case.pk}/transition?shop=s1", {"to": "refunded", "expected_version": 1})
    assert r.status_code == 403 and r.json()["code"] == "above_authority" and "¥20.00" in r.json()["message"]


@pytest.mark.parametrize("body,field", [
    ({"type": "x", "reason": "quality"}, "type"),
    ({"type": "exchange"}, "reason"),
    ({"type": "exchange", "reason": "quality", "items": [{"sku": "", "qty": 1}]}, "items.0.sku"),
    ({"type": "exchange", "reason": "quality", "items": [{"sku": "A", "qty": 0}]}, "items.0.qty"),
    ({"type": "exchange", "reason": "quality", "money_lines": [{"kind": "goods", "direction": "shop_to_buyer",
                                                               "amount": "-1"}]}, "money_lines.0.amount"),
    ({"type": "exchange", "reason": "quality", "note": "x" * 501}, "note"),
])
def test_open_bad_input_is_field_named(api, shop, body, field):
    r = post(api, "/api/v1/cases", body)
    assert r.status_code == 422, r.content
    assert field in {e["field"] for e in r.json()["errors"]}
    assert Case.objects.count() == 0


def test_open_bad_references(api, shop, order):
    assert post(api, "/api/v1/cases", {"type": "exchange", "reason": "quality", "order_id": "NOPE"}).status_code == 404
    r = post(api, "/api/v1/cases", {"type": "exchange", "reason": "quality", "order_id": "T1001",
                                    "items": [{"sku": "NOPE", "qty": 1}]})
    assert r.status_code == 400 and r.json()["field"] == "items.0.sku"
    r = post(api, "/api/v1/cases", {"type": "exchange", "reason": "quality", "owner_id": 999999})
    assert r.status_code == 400 and r.json()["field"] == "owner_id"


def test_transition_bad_input(api, shop, manager):
    case = make_case(shop, manager)
    for body, field in (({"to": "nowhere", "expected_version": 1}, "to"), ({"to": "closed"}, "expected_version"),
                        ({"to": "closed", "expected_version": 0}, "expected_version")):
        r = post(api, f"/api/v1/cases/{case.pk}/transition", body)
        assert r.status_code == 422 and field in {e["field"] for e in r.json()["errors"]}
    assert post(api, "/api/v1/cases/999999/transition", {"to": "closed", "expected_version": 1}).status_code == 404


def test_policy_endpoint(api, shop, order, settings):
    settings.KEFU_AFTERSALES_KEEP_ITEM_BELOW = "0"
    r = api.get("/api/v1/cases/policy?order_id=T1001&reason=wrong_size_ordered&sku=DRESS-M&new_item_price=99")
    assert r.status_code == 200, r.content
    s = r.json()
    assert s["item_price"] == "84.00" and s["price_difference"] == "15.00"
    assert s["price_difference_direction"] == "buyer_to_shop" and s["return_shipping"] == "buyer"
    assert s["days_since_signed"] >= 3
    assert api.get("/api/v1/cases/policy?order_id=T1001&reason=quality").json()["escalate_if_refused"] is True
    r = api.get("/api/v1/cases/policy?reason=quality")
    assert r.status_code == 400 and r.json()["field"] == "order_id"
    r = api.get("/api/v1/cases/policy?order_id=T1001")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    assert api.get("/api/v1/cases/policy?order_id=T1001&reason=bored").status_code == 422
    assert api.get("/api/v1/cases/policy?order_id=NOPE&reason=quality").status_code == 404
    r = api.get("/api/v1/cases/policy?order_id=T1001&reason=quality&new_item_price=abc")
    assert r.status_code == 400 and r.json()["field"] == "new_item_price"


def test_other_shops_case_is_404(shop, other_shop, manager):
    case = make_case(shop, manager)
    _, raw = token_create(shop=other_shop, name="x")
    c = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert c.get(f"/api/v1/cases/{case.pk}").status_code == 404
    assert post(c, f"/api/v1/cases/{case.pk}/transition", {"to": "closed", "expected_version": 1}).status_code == 404
    assert c.get("/api/v1/cases").json() == []
    boss = person_create(shop=other_shop, name="别人", username="b2", password="pass-word-1", roles=["manager"])
    c2 = login(boss)
    assert c2.get(f"/api/v1/cases/{case.pk}?shop=s2").status_code == 404
    assert c2.get(f"/api/v1/cases/{case.pk}?shop=s1").status_code == 404
    case.refresh_from_db()
    assert case.state == "open"


def test_agents_see_their_own_and_unassigned_cases(shop, agent_person, agent2, manager):
    mine = make_case(shop, agent_person)
    theirs = make_case(shop, agent2)
    c = login(agent_person)
    ids = {x["id"] for x in c.get("/api/v1/cases?shop=s1").json()}
    assert mine.pk in ids and theirs.pk not in ids
    assert c.get(f"/api/v1/cases/{theirs.pk}?shop=s1").status_code == 404
    assert {x["id"] for x in login(manager).get("/api/v1/cases?shop=s1").json()} >= {mine.pk, theirs.pk}
