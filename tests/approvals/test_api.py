"""The approvals API: flows, field-named errors, roles, tenancy with real ids."""

import json

import pytest
from django.test import Client

from kefu.approvals.models import ApprovalRequest, MoneyAction
from kefu.core.services import person_create, token_create

from .conftest import login

pytestmark = pytest.mark.django_db


def post(client, url, body, shop="s1"):
    return client.post(f"{url}?shop={shop}", json.dumps(body), content_type="application/json")


def put(client, url, body, shop="s1"):
    return client.put(f"{url}?shop={shop}", json.dumps(body), content_type="application/json")


def test_request_within_and_above_authority_then_approve(shop, agent_person, supervisor, order):
    me = login(agent_person)
    r = post(me, "/api/v1/money-actions", {"kind": "discount", "amount": "15.50", "reason": "老客户", "order_id": "T1001"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["outcome"] == "executed" and body["money_action"]["amount"] == "15.50"
    assert body["money_action"]["order_id"] == "T1001" and body["money_action"]["buyer_id"] == "buyer1"
    assert body["decision"]["limit"] == "20.00" and body["money_action"]["approved_by"] is None

    r = post(me, "/api/v1/money-actions", {"kind": "compensation", "amount": 30, "reason": "发错颜色",
                                           "request_id": "abc"})
    assert r.status_code == 201 and r.json()["outcome"] == "pending"
    assert r.json()["decision"]["approver_roles"] == ["supervisor", "manager", "admin"]
    approval_id = r.json()["approval"]["id"]
    # Resend: same answer, nothing new.
    again = post(me, "/api/v1/money-actions", {"kind": "compensation", "amount": "30.00", "reason": "发错颜色",
                                               "request_id": "abc"})
    assert again.status_code == 200 and again.json()["replayed"] and again.json()["approval"]["id"] == approval_id
    assert ApprovalRequest.objects.count() == 1

    sup = login(supervisor)
    pending = sup.get("/api/v1/approvals/pending?shop=s1").json()
    assert [p["id"] for p in pending] == [approval_id]
    assert me.get("/api/v1/approvals/pending?shop=s1").json() == []  # agents decide nothing
    r = post(me, f"/api/v1/approvals/{approval_id}/approve", {})
    assert r.status_code == 403 and r.json()["code"] == "not_approver"
    r = post(sup, f"/api/v1/approvals/{approval_id}/approve", {"reason": "同意"})
    assert r.status_code == 200 and r.json()["state"] == "executed" and r.json()["decided_by"] == "主管阿琳"
    r = post(sup, f"/api/v1/approvals/{approval_id}/approve", {})
    assert r.status_code == 409 and r.json()["code"] == "already_decided"
    assert me.get(f"/api/v1/approvals/{approval_id}?shop=s1").json()["state"] == "executed"

    hist = sup.get("/api/v1/money-actions?shop=s1").json()
    assert [(h["kind"], h["approved_by"], h["approval_id"]) for h in hist] == [
        ("compensation", "主管阿琳", approval_id), ("discount", None, None)]
    assert sup.get("/api/v1/money-actions?shop=s1&kind=discount").json()[0]["amount"] == "15.50"
    notes = me.get("/api/v1/notifications?shop=s1").json()
    assert len(notes) == 1 and "批准" in notes[0]["text"]


def test_reject_needs_a_reason_and_cancel(shop, agent_person, supervisor):
    me, sup = login(agent_person), login(supervisor)
    a = post(me, "/api/v1/money-actions", {"kind": "discount", "amount": "30", "reason": "x"}).json()["approval"]["id"]
    r = post(sup, f"/api/v1/approvals/{a}/reject", {})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = post(sup, f"/api/v1/approvals/{a}/reject", {"reason": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    b = post(me, "/api/v1/money-actions", {"kind": "discount", "amount": "31", "reason": "x"}).json()["approval"]["id"]
    r = post(sup, f"/api/v1/approvals/{b}/cancel", {})
    assert r.status_code == 403 and r.json()["code"] == "not_requester"
    assert post(me, f"/api/v1/approvals/{b}/cancel", {}).json()["state"] == "cancelled"
    assert post(sup, f"/api/v1/approvals/{a}/reject", {"reason": "不符合政策"}).json()["state"] == "rejected"
    assert MoneyAction.objects.count() == 0


@pytest.mark.parametrize("body,field", [
    ({"kind": "bribe", "amount": "1", "reason": "r"}, "kind"),
    ({"kind": "discount", "amount": "-1", "reason": "r"}, "amount"),
    ({"kind": "discount", "amount": "0", "reason": "r"}, "amount"),
    ({"kind": "discount", "amount": "1.234", "reason": "r"}, "amount"),
    ({"kind": "discount", "amount": "abc", "reason": "r"}, "amount"),
    ({"kind": "discount", "amount": [1], "reason": "r"}, "amount"),
    ({"kind": "discount", "amount": "1"}, "reason"),
    ({"kind": "discount", "amount": "1", "reason": ""}, "reason"),
    ({"kind": "discount", "amount": "1", "reason": "r", "request_id": "x" * 65}, "request_id"),
    ({"kind": "discount", "reason": "r"}, "amount"),
    ({"kind": "discount", "amount": "500", "reason": "r", "order_id": "T1001"}, "amount"),
])
def test_bad_input_names_the_field(shop, agent_person, order, body, field):
    r = post(login(agent_person), "/api/v1/money-actions", body)
    assert r.status_code in (400, 422), r.content
    data = r.json()
    fields = [e["field"] for e in data.get("errors", [])] or [data.get("field")]
    assert field in fields, data
    assert MoneyAction.objects.count() == 0 and ApprovalRequest.objects.count() == 0


def test_unknown_order_is_404_and_bad_json_422(shop, agent_person):
    c = login(agent_person)
    assert post(c, "/api/v1/money-actions", {"kind": "discount", "amount": "1", "reason": "r",
                                             "order_id": "nope"}).status_code == 404
    r = c.post("/api/v1/money-actions?shop=s1", "{", content_type="application/json")
    assert r.status_code in (400, 422)


def test_token_may_read_but_not_act_as_a_person(shop, token, api, agent_person):
    r = api.post("/api/v1/money-actions", json.dumps({"kind": "discount", "amount": "1", "reason": "r"}),
                 content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "person_required"
    assert api.get("/api/v1/money-actions").status_code == 200
    assert api.get("/api/v1/authority/limits").status_code == 200


def test_another_shops_ids_are_404(shop, other_shop, agent_person, supervisor, order):
    a = post(login(agent_person), "/api/v1/money-actions", {"kind": "discount", "amount": "30", "reason": "x"})
    approval_id = a.json()["approval"]["id"]
    stranger = person_create(shop=other_shop, name="外店经理", username="m2", password="pass-word-1", roles=["admin"])
    c = login(stranger)
    for shop_code in ("s2", "s1"):
        assert c.get(f"/api/v1/approvals/{approval_id}?shop={shop_code}").status_code == 404
        for verb in ("approve", "reject", "cancel"):
            r = post(c, f"/api/v1/approvals/{approval_id}/{verb}", {"reason": "x"}, shop=shop_code)
            assert r.status_code == 404, (verb, shop_code, r.content)
    # Another shop's order number and person are unknown here.
    assert post(c, "/api/v1/money-actions", {"kind": "discount", "amount": "1", "reason": "r", "order_id": "T1001"},
                shop="s2").status_code == 404
    r = put(c, "/api/v1/authority/limits", {"limits": [{"agent_id": agent_person.pk, "kind": "discount", "limit": 1}]},
            shop="s2")
    assert r.status_code == 404
    assert c.get("/api/v1/money-actions?shop=s2").json() == []
    _, raw = token_create(shop=other_shop, name="o")
    t = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert t.get(f"/api/v1/approvals/{approval_id}").status_code == 404
    assert ApprovalRequest.objects.get().state == "pending"


def test_an_agent_sees_only_own_requests_and_actions(shop, agent_person, supervisor):
    colleague = person_create(shop=shop, name="阿强", username="aq", password="pass-word-1", roles=["agent"])
    mine = post(login(agent_person), "/api/v1/money-actions", {"kind": "discount", "amount": "30", "reason": "x"})
    post(login(agent_person), "/api/v1/money-actions", {"kind": "discount", "amount": "3", "reason": "x"})
    other = login(colleague)
    assert other.get(f"/api/v1/approvals/{mine.json()['approval']['id']}?shop=s1").status_code == 404
    assert other.get("/api/v1/money-actions?shop=s1").json() == []
    assert len(login(supervisor).get("/api/v1/money-actions?shop=s1").json()) == 1


def test_limits_get_and_put(shop, agent_person, manager, supervisor):
    m = login(manager)
    got = m.get("/api/v1/authority/limits?shop=s1").json()
    assert got["roles"]["agent"]["discount"] == {"limit": "20.00", "default": True}
    assert got["roles"]["admin"]["free_order"]["limit"] is None
    r = put(m, "/api/v1/authority/limits", {"limits": [
        {"role": "agent", "kind": "discount", "limit": "30"},
        {"agent_id": agent_person.pk, "kind": "free_order", "limit": 100},
    ]})
    assert r.status_code == 200, r.content
    assert r.json()["roles"]["agent"]["discount"] == {"limit": "30.00", "default": False}
    assert r.json()["people"] == [{"agent_id": agent_person.pk, "name": "小美", "kind": "free_order", "limit": "100.00"}]
    # A manager cannot make agents unlimited (more than a manager's own 100); the answer names the row.
    r = put(m, "/api/v1/authority/limits", {"limits": [{"role": "agent", "kind": "discount", "limit": "1"},
                                                       {"role": "agent", "kind": "discount", "unlimited": True}]})
    assert r.status_code == 403 and r.json()["field"] == "limits.1.limit"
    for body, field in [
        ({"limits": [{"role": "agent", "kind": "discount"}]}, "limits.0.limit"),
        ({"limits": [{"role": "boss", "kind": "discount", "limit": 1}]}, "limits.0.role"),
        ({"limits": [{"kind": "discount", "limit": 1}]}, "limits.0.role"),
        ({"limits": [{"role": "agent", "kind": "x", "limit": 1}]}, "limits.0.kind"),
        ({"limits": [{"role": "agent", "kind": "discount", "limit": -1}]}, "limits.0.limit"),
        ({"limits": []}, "limits"),
    ]:
        r = put(m, "/api/v1/authority/limits", body)
        assert r.status_code in (400, 422), (body, r.content)
        data = r.json()
        assert field in ([e["field"] for e in data.get("errors", [])] or [data.get("field")]), (body, data)
    for who in (agent_person, supervisor):
        c = login(who)
        assert c.get("/api/v1/authority/limits?shop=s1").status_code == 403
        assert put(c, "/api/v1/authority/limits", {"limits": [{"role": "agent", "kind": "discount", "limit": 1}]}
                   ).status_code == 403


def test_authority_check_endpoint(shop, agent_person):
    c = login(agent_person)
    assert c.get("/api/v1/authority/check?shop=s1&kind=discount&amount=20").json()["allowed"] is True
    d = c.get("/api/v1/authority/check?shop=s1&kind=discount&amount=20.01").json()
    assert d["allowed"] is False and d["approver_roles"] == ["supervisor", "manager", "admin"]
    r = c.get("/api/v1/authority/check?shop=s1&kind=discount&amount=x")
    assert r.status_code == 400 and r.json()["field"] == "amount"
