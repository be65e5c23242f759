"""The follow-ups API: flows, roles, field-named errors, another shop's ids."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from kefu.core.services import person_create, token_create
from kefu.customers.models import Customer
from kefu.followups.models import FollowUp
from kefu.followups.services import followup_create

from .conftest import login, make_order

pytestmark = pytest.mark.django_db


def post(client, url, body, shop="s1"):
    return client.post(f"{url}?shop={shop}", json.dumps(body), content_type="application/json")


def test_create_list_and_transition(shop, customer, agent_person, colleague, supervisor):
    me = login(agent_person)
    due = (timezone.now() + dt.timedelta(hours=5)).isoformat()
    r = post(me, "/api/v1/followups", {"kind": "promised_answer", "buyer_id": "buyer1", "reason": "check_stock",
                                       "due_at": due, "note": "问仓库黑色 M 码"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["owner"] == "小美" and body["state"] == "open" and body["buyer_id"] == "buyer1"
    r = post(me, "/api/v1/followups", {"kind": "lead", "buyer_id": "buyer1", "reason": "comparing"})
    assert r.status_code == 201
    followup_create(shop=shop, kind="lead", customer=customer, owner=colleague, actor=colleague)

    mine = me.get("/api/v1/followups?shop=s1").json()
    assert {f["owner"] for f in mine} == {"小美"} and len(mine) == 2
    assert me.get("/api/v1/followups?shop=s1&scope=shop").status_code == 403
    sup = login(supervisor)
    assert len(sup.get("/api/v1/followups?shop=s1&scope=shop").json()) == 3
    assert sup.get("/api/v1/followups?shop=s1").json() == []  # a supervisor's own list

    fid = body["id"]
    nxt = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    r = post(me, f"/api/v1/followups/{fid}/transition", {"action": "contact", "next_contact_at": nxt})
    assert r.status_code == 200 and r.json()["state"] == "contacted" and r.json()["contact_count"] == 1
    r = post(me, f"/api/v1/followups/{fid}/transition", {"action": "win", "outcome": "已答复：有货"})
    assert r.json()["state"] == "closed_won" and r.json()["outcome"] == "已答复：有货"
    r = post(me, f"/api/v1/followups/{fid}/transition", {"action": "cancel"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_transition" and r.json()["field"] == "action"
    # The colleague's follow-up is invisible to me: 404, not 403.
    other = FollowUp.objects.get(owner=colleague)
    assert me.get(f"/api/v1/followups/{other.pk}?shop=s1").status_code == 404
    assert post(me, f"/api/v1/followups/{other.pk}/transition", {"action": "win"}).status_code == 404


def test_bad_input_is_field_named(shop, customer, agent_person, colleague):
    me = login(agent_person)
    now = timezone.now()
    cases = [
        ({"kind": "payment_reminder", "buyer_id": "buyer1"}, 400, "kind"),
        ({"kind": "nonsense", "buyer_id": "buyer1"}, 400, "kind"),
        ({"kind": "lead", "buyer_id": "buyer1", "reason": "friend_pays"}, 400, "reason"),
        ({"kind": "promised_answer", "buyer_id": "buyer1"}, 400, "due_at"),
        ({"kind": "promised_answer", "buyer_id": "buyer1",
          "due_at": (now + dt.timedelta(hours=30)).isoformat()}, 400, "due_at"),
        ({"kind": "lead", "buyer_id": "buyer1", "next_contact_at": "tomorrow"}, 422, "next_contact_at"),
        ({"kind": "lead", "buyer_id": "buyer1", "owner_id": colleague.pk}, 403, "owner_id"),
        ({"kind": "lead"}, 422, "buyer_id"),
        ({"kind": "lead", "buyer_id": "buyer1", "note": "x" * 501}, 422, "note"),
    ]
    for body, status, field in cases:
        r = post(me, "/api/v1/followups", body)
        assert r.status_code == status, (body, r.content)
        data = r.json()
        fields = [e["field"] for e in data["errors"]] if "errors" in data else [data["field"]]
        assert field in fields, (body, data)
    assert post(me, "/api/v1/followups", {"kind": "lead", "buyer_id": "nobody"}).status_code == 404
    assert post(me, "/api/v1/followups", {"kind": "lead", "buyer_id": "buyer1", "order_id": "NOPE"}).status_code == 404
    fu = followup_create(shop=shop, kind="lead", customer=customer, owner=agent_person, actor=agent_person)
    r = post(me, f"/api/v1/followups/{fu.pk}/transition", {"action": "auto_win"})
    assert r.status_code == 400 and r.json()["field"] == "action"
    r = post(me, f"/api/v1/followups/{fu.pk}/transition", {"action": "contact",
                                                            "next_contact_at": "2020-01-01T00:00:00+08:00"})
    assert r.status_code == 400 and r.json()["field"] == "next_contact_at"
    r = post(me, f"/api/v1/followups/{fu.pk}/transition", {})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "action"
    assert FollowUp.objects.count() == 1


def test_token_needs_an_owner_and_sees_the_shop(shop, customer, agent_person, api):
    r = post(api, "/api/v1/followups", {"kind": "lead", "buyer_id": "buyer1"})
    assert r.status_code == 400 and r.json()["field"] == "owner_id"
    r = post(api, "/api/v1/followups", {"kind": "lead", "buyer_id": "buyer1", "owner_id": agent_person.pk})
    assert r.status_code == 201
    assert len(api.get("/api/v1/followups").json()) == 1


def test_another_shops_ids_are_404(shop, other_shop, customer, agent_person):
    fu = followup_create(shop=shop, kind="lead", customer=customer, owner=agent_person, actor=agent_person)
    order = make_order(shop, customer, "T1")
    stranger = person_create(shop=other_shop, name="外人", username="x", password="pass-word-1", roles=["manager"])
    Customer.objects.create(shop=other_shop, buyer_id="buyer1")
    c = login(stranger)
    assert c.get(f"/api/v1/followups/{fu.pk}?shop=s2").status_code == 404
    assert post(c, f"/api/v1/followups/{fu.pk}/transition", {"action": "cancel"}, shop="s2").status_code == 404
    assert c.get(f"/api/v1/followups/{fu.pk}?shop=s1").status_code == 404
    # Another shop's owner and order cannot be named either.
    r = post(c, "/api/v1/followups", {"kind": "lead", "buyer_id": "buyer1", "owner_id": agent_person.pk}, shop="s2")
    assert r.status_code == 404
    r = post(c, "/api/v1/followups", {"kind": "lead", "buyer_id": "buyer1", "order_id": order.order_id}, shop="s2")
    assert r.status_code == 404
    _, raw = token_create(shop=other_shop, name="o")
    tok = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert tok.get(f"/api/v1/followups/{fu.pk}").status_code == 404
    assert tok.get("/api/v1/followups").json() == []
    assert FollowUp.objects.get(pk=fu.pk).state == "open"
