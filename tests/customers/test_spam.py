import json

import pytest
from django.test import Client

from kefu.conversations.models import Conversation
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.models import AuditLog
from kefu.metrics.kpi import kpi_report


@pytest.fixture
def chat(shop, agent_person):
    rows = [
        {"message_id": "1", "buyer_id": "ad", "agent_id": "店铺:小美", "sender": "buyer", "sent_at": "2026-11-01 10:00"},
        {"message_id": "2", "buyer_id": "ok", "agent_id": "店铺:小美", "sender": "buyer", "sent_at": "2026-11-01 10:00"},
    ]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))


def receptions(shop):
    import datetime as dt

    d = dt.date(2026, 11, 1)
    return kpi_report(shop=shop, date_from=d, date_to=d)["shop_totals"]["receptions"]


@pytest.mark.django_db
def test_spam_buyers_leave_every_figure_and_come_back(manager_client, shop, chat):
    assert receptions(shop) == 2
    r = manager_client.post("/api/v1/customers/ad/spam?shop=s1", json.dumps({"spam": True}), content_type="application/json")
    assert r.status_code == 200 and r.json()["is_spam"] is True
    assert receptions(shop) == 1
    assert AuditLog.objects.filter(action="customer.spam").count() == 1
    conv = Conversation.objects.get(customer__buyer_id="ad")
    assert manager_client.post(f"/conversations/{conv.id}/spam/", {"spam": "0"}).status_code == 302
    assert receptions(shop) == 2
    assert manager_client.post("/api/v1/customers/nobody/spam?shop=s1", json.dumps({"spam": True}),
                               content_type="application/json").status_code == 404


@pytest.mark.django_db
def test_agents_cannot_flag_spam(agent_person, shop, chat):
    c = Client()
    c.force_login(agent_person.user)
    r = c.post("/api/v1/customers/ad/spam?shop=s1", json.dumps({"spam": True}), content_type="application/json")
    assert r.status_code == 403
    conv = Conversation.objects.get(customer__buyer_id="ad")
    assert c.post(f"/conversations/{conv.id}/spam/", {"spam": "1"}).status_code == 404
    assert receptions(shop) == 2
