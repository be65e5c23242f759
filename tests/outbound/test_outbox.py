import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.core.errors import KefuError
from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.outbound.models import OutboundMessage
from kefu.outbound.services import outbound_mark, send

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def buyer(shop):
    return Customer.objects.create(shop=shop, buyer_id="b1", nick="买家一")


def lines(data_dir, code="s1"):
    path = data_dir / "outbox" / f"{code}.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_send_is_idempotent_by_key_and_writes_one_outbox_line(shop, buyer, data_dir, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        m1, created1 = send(shop=shop, channel="qianniu", to_buyer=buyer, text="亲，您好", key="k1")
        m2, created2 = send(shop=shop, channel="qianniu", to_buyer=buyer, text="亲，您好", key="k1")
    assert (created1, created2) == (True, False) and m1.pk == m2.pk
    assert OutboundMessage.objects.count() == 1 and m1.state == "queued"
    (line,) = lines(data_dir)
    assert (line["buyer_id"], line["channel"], line["text"], line["idempotency_key"]) == ("b1", "qianniu", "亲，您好", "k1")


def test_same_key_in_another_shop_is_another_message(shop, other_shop, buyer):
    other = Customer.objects.create(shop=other_shop, buyer_id="b1")
    send(shop=shop, channel="", to_buyer=buyer, text="a", key="k")
    send(shop=other_shop, channel="", to_buyer=other, text="a", key="k")
    assert OutboundMessage.objects.count() == 2


def test_nothing_is_written_when_the_transaction_rolls_back(shop, buyer, data_dir, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            send(shop=shop, channel="", to_buyer=buyer, text="a", key="k")
            raise RuntimeError
    assert lines(data_dir) == [] and not OutboundMessage.objects.exists()


@pytest.mark.parametrize("kwargs,field", [({"text": ""}, "text"), ({"text": "x" * 2001}, "text"),
                                          ({"text": "a", "kind": "spam"}, "kind"), ({"text": "a", "key": " "}, "key")])
def test_send_bad_input_names_the_field(shop, buyer, kwargs, field):
    with pytest.raises(KefuError) as exc:
        send(shop=shop, channel="", to_buyer=buyer, **kwargs)
    assert exc.value.field == field


def test_send_refuses_a_buyer_of_another_shop(shop, other_shop):
    other = Customer.objects.create(shop=other_shop, buyer_id="b1")
    with pytest.raises(KefuError):
        send(shop=shop, channel="", to_buyer=other, text="a")


def test_connector_reports_sent_and_failed(api, shop, buyer, data_dir, django_capture_on_commit_callbacks):
    m, _ = send(shop=shop, channel="", to_buyer=buyer, text="a", key="k1")
    r = api.post(f"/api/v1/outbox/{m.pk}/failed", json.dumps({"error": "buyer blocked"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "failed" and r.json()["error"] == "buyer blocked"
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/v1/outbox/{m.pk}/requeue", "{}", content_type="application/json")
    assert r.json()["state"] == "queued" and len(lines(data_dir)) == 1
    r = api.post(f"/api/v1/outbox/{m.pk}/sent", json.dumps({"external_id": "tb-123"}), content_type="application/json")
    assert r.json()["state"] == "sent" and r.json()["external_id"] == "tb-123" and r.json()["sent_at"]
    r = api.post(f"/api/v1/outbox/{m.pk}/failed", "{}", content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "state"
    with pytest.raises(KefuError):
        outbound_mark(shop=shop, message=m, state="bogus")


def test_outbox_api_filters_and_access(api, shop, buyer):
    agent = person_create(shop=shop, name="小美", username="xm", password="pass-word-1", roles=["agent"])
    send(shop=shop, channel="", to_buyer=buyer, text="a", key="k1", agent=agent)
    m2, _ = send(shop=shop, channel="", to_buyer=buyer, text="b", key="k2")
    outbound_mark(shop=shop, message=m2, state="sent")
    assert [m["text"] for m in api.get("/api/v1/outbox").json()] == ["b", "a"]
    assert [m["text"] for m in api.get("/api/v1/outbox?state=queued").json()] == ["a"]
    assert api.get("/api/v1/outbox?state=nope").json()["field"] == "state"
    c = Client()
    c.force_login(agent.user)
    assert [m["text"] for m in c.get("/api/v1/outbox?shop=s1").json()] == ["a"]  # an agent sees their own
    mine = OutboundMessage.objects.get(idempotency_key="k1")
    r = c.post(f"/api/v1/outbox/{mine.pk}/sent?shop=s1", "{}", content_type="application/json")
    assert r.status_code == 403


def test_outbox_page_for_supervisors(manager_client, shop, buyer):
    for i in range(3):
        send(shop=shop, channel="", to_buyer=buyer, text=f"t{i}", key=f"k{i}")
    m, _ = send(shop=shop, channel="", to_buyer=buyer, text="failed one", key="kf")
    outbound_mark(shop=shop, message=m, state="failed", error="超时")
    r = manager_client.get("/outbox/")
    assert r.status_code == 200 and r.context["page"].paginator.count == 4
    r = manager_client.get("/outbox/", {"state": "failed"})
    assert [x.text for x in r.context["page"]] == ["failed one"] and "超时" in r.content.decode()
    r = manager_client.get("/outbox/", {"state": "failed"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="outbox")
    assert r.content.decode().lstrip().startswith('<div id="outbox">')
    assert "发件箱" in manager_client.get("/").content.decode()  # in the navigation


def test_outbox_list_queries_do_not_grow(manager_client, shop, buyer):
    send(shop=shop, channel="", to_buyer=buyer, text="a", key="a")
    with CaptureQueriesContext(connection) as small:
        manager_client.get("/outbox/")
    for i in range(20):
        send(shop=shop, channel="", to_buyer=buyer, text=f"t{i}", key=f"k{i}")
    with CaptureQueriesContext(connection) as big:
        manager_client.get("/outbox/")
    assert len(big.captured_queries) == len(small.captured_queries)
