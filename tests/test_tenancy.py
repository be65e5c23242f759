"""Every API route, called as another shop's integration or person, answers 404 for this shop's data."""

import json
import re

import pytest
from django.test import Client

from kefu.api import api
from kefu.conversations.models import Conversation
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import person_create, token_create

BODIES = {
    "/api/v1/messages": {"message_id": "x1", "buyer_id": "b9", "agent_id": "a9", "sender": "buyer",
                         "sent_at": "2026-11-01T10:00:00"},
    "/api/v1/orders": {"order_id": "o9", "buyer_id": "b9", "created_at": "2026-11-01T10:00:00"},
    "/api/v1/customers/{buyer_id}/spam": {"spam": True},
    "/api/v1/shop/settings": {"slow_turn_seconds": 120},
    # workforce
    "/api/v1/shifts": {"name": "白班", "start": "08:00", "end": "17:00"},
    "/api/v1/shifts/{shift_id}": {"name": "x"},
    "/api/v1/roster/week": {"week": "2026-11-02", "pattern": {"1": [None] * 7}},
    "/api/v1/roster/entries": {"agent_id": 1, "date": "2026-11-02", "shift_id": 1},
    "/api/v1/roster/entries/{entry_id}/delete": {},
    "/api/v1/agents/me/status": {"status": "online"},
    "/api/v1/agents/{agent_id}/status": {"status": "online"},
    "/api/v1/swaps": {"date": "2026-11-02", "agent_a_id": 1, "agent_b_id": 2, "shift_a_id": 1},
    "/api/v1/swaps/{swap_id}/approve": {},
    "/api/v1/swaps/{swap_id}/reject": {},
    "/api/v1/swaps/{swap_id}/cancel": {},
    # approvals
    "/api/v1/money-actions": {"kind": "discount", "amount": "5", "reason": "r", "order_id": "o1"},
    "/api/v1/approvals/{approval_id}/approve": {"reason": "ok"},
    "/api/v1/approvals/{approval_id}/reject": {"reason": "no"},
    "/api/v1/approvals/{approval_id}/cancel": {},
    # followups
    "/api/v1/followups": {"kind": "lead", "buyer_id": "b1"},
    "/api/v1/followups/{followup_id}/transition": {"action": "contact"},
    # aftersales
    "/api/v1/cases": {"type": "return_refund", "reason": "quality", "order_id": "o1"},
    "/api/v1/cases/{case_id}/transition": {"to": "closed", "expected_version": 1},
}


def routes():
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method in methods:
            yield path, method


@pytest.fixture
def s1_conversation(shop):
    rows = messages_clean([{"message_id": "m1", "buyer_id": "b1", "agent_id": "a1", "sender": "buyer",
                            "sent_at": "2026-11-01T10:00:00"}], tz=shop.tz)
    messages_ingest(shop=shop, rows=rows)
    return Conversation.objects.get(shop=shop)


def _call(client, method, path, conv_id):
    url = path.replace("{conversation_id}", str(conv_id)).replace("{buyer_id}", "b1") + "?shop=s1&from=2026-11-01&to=2026-11-02"
    url = re.sub(r"\{\w+_id\}", "1", url)  # any other id: the shop is refused first
    if method == "post":
        return client.post(url, json.dumps(BODIES[path]), content_type="application/json")
    return client.get(url)


@pytest.mark.django_db
def test_every_route_is_covered():
    assert {p for p, m in routes() if m == "post"} <= set(BODIES)


@pytest.mark.django_db
@pytest.mark.parametrize("path,method", list(routes()))
def test_other_shops_token_gets_404(path, method, shop, other_shop, s1_conversation):
    _, raw = token_create(shop=other_shop, name="other")
    r = _call(Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), method, path, s1_conversation.id)
    assert r.status_code == 404, (path, r.content)


@pytest.mark.django_db
@pytest.mark.parametrize("path,method", list(routes()))
def test_other_shops_person_gets_404(path, method, shop, other_shop, s1_conversation):
    person = person_create(shop=other_shop, name="老板", username="boss2", password="pass-word-1", roles=["manager"])
    c = Client(enforce_csrf_checks=False)
    c.force_login(person.user)
    r = _call(c, method, path, s1_conversation.id)
    assert r.status_code == 404, (path, r.content)


@pytest.mark.django_db
def test_own_token_cannot_reach_other_shops_conversation(api, shop, other_shop):
    rows = messages_clean([{"message_id": "m1", "buyer_id": "b1", "agent_id": "a1", "sender": "buyer",
                            "sent_at": "2026-11-01T10:00:00"}], tz=other_shop.tz)
    messages_ingest(shop=other_shop, rows=rows)
    conv = Conversation.objects.get(shop=other_shop)
    assert api.get(f"/api/v1/conversations/{conv.id}").status_code == 404
    assert api.get(f"/api/v1/conversations/{conv.id}?shop=s2").status_code == 404
