"""The JSON API of complaints, reviews, disputes and angry messages; list routes without N+1."""

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.complaints.models import Dispute, DisputeEvidence, Review, ReviewTask
from kefu.conversations.services import messages_clean, messages_ingest

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_complaint_flow_over_the_api(api, shop, agent_person, supervisor, customer):
    r = post(api, "/api/v1/complaints", {"source": "buyer", "category": "attitude", "summary": "客服骂人",
                                         "buyer_id": "buyer1", "against_id": agent_person.pk,
                                         "owner_id": supervisor.pk, "buyer_type": "assertive"})
    assert r.status_code == 201, r.content
    c = r.json()
    assert c["state"] == "accept" and c["against"] == "小美" and c["verdict"] == "pending"
    assert [i["step"] for i in c["checklist"]] == ["accept_quickly", "calm", "clarify", "options", "agree", "thank",
                                                   "track"]
    cid = c["id"]
    r = post(api, f"/api/v1/complaints/{cid}/transition", {"action": "advance"})
    assert r.status_code == 400 and r.json()["code"] == "steps_missing"
    for step in ("accept_quickly", "calm"):
        assert post(api, f"/api/v1/complaints/{cid}/check", {"step": step}).status_code == 200
    r = post(api, f"/api/v1/complaints/{cid}/transition", {"action": "advance"})
    assert r.json()["state"] == "clarify"
    r = post(api, f"/api/v1/complaints/{cid}/verdict", {"verdict": "upheld"})
    assert r.json()["verdict"] == "upheld"
    r = post(api, f"/api/v1/complaints/{cid}/check", {"step": "nope"})
    assert r.status_code == 400 and r.json()["field"] == "step"
    r = api.get(f"/api/v1/complaints/{cid}")
    assert r.json()["events"][0]["action"] == "create" and r.json()["checklist"][1]["done"]
    today = dt.date.today()
    r = api.get(f"/api/v1/complaints/against?agent_id={agent_person.pk}&from={today - dt.timedelta(days=2)}"
                f"&to={today + dt.timedelta(days=2)}")
    assert [x["complaint_id"] for x in r.json()] == [cid]
    assert api.get("/api/v1/complaints/against").status_code == 400
    r = post(api, "/api/v1/complaints", {"source": "buyer", "category": "attitude", "summary": "x",
                                         "buyer_id": "nobody"})
    assert r.status_code == 404


def test_reviews_batch_all_or_nothing_and_idempotent(api, shop):
    good = {"review_id": "R1", "buyer_id": "b1", "rating": "差评", "text": "太差了", "created_at": "2026-11-01 10:00"}
    body = {"reviews": [good, {"review_id": "R2", "buyer_id": "b2", "rating": 7, "created_at": "2026-11-01"},
                        {"review_id": "R3", "rating": 1, "created_at": "x"}]}
    r = post(api, "/api/v1/reviews", body)
    assert r.status_code == 422
    errs = {(e["index"], e["field"]) for e in r.json()["errors"]}
    assert errs == {(1, "rating"), (2, "buyer_id")}
    assert Review.objects.count() == 0
    r = post(api, "/api/v1/reviews", {"reviews": [good, {**good, "review_id": "R2", "rating": 3}]})
    assert r.status_code == 200 and r.json()["created"] == 2 and r.json()["tasks_created"] == 2
    r = post(api, "/api/v1/reviews", good)
    assert r.json() == {"created": 0, "duplicates": 1, "updated": 0, "tasks_created": 0, "tasks_revised": 0}
    r = post(api, "/api/v1/reviews", {"reviews": [good] * 1001})
    assert r.status_code == 400 and r.json()["field"] == "reviews"
    assert ReviewTask.objects.count() == 2


def test_review_task_over_the_api(api, shop, agent_person):
    post(api, "/api/v1/reviews", {"review_id": "R1", "buyer_id": "b1", "rating": 1, "text": "骗子！",
                                  "created_at": "2026-11-01 10:00"})
    t = api.get("/api/v1/review-tasks").json()[0]
    r = post(api, f"/api/v1/review-tasks/{t['id']}/assign", {"owner_id": agent_person.pk})
    assert r.json()["owner_id"] == agent_person.pk
    assert post(api, f"/api/v1/review-tasks/{t['id']}/transition", {"action": "contact"}).json()["state"] == "contacted"
    r = post(api, f"/api/v1/review-tasks/{t['id']}/transition", {"action": "close", "outcome": "explained"})
    assert r.json()["state"] == "closed" and r.json()["outcome"] == "explained"
    assert api.get("/api/v1/review-tasks").json() == []
    assert len(api.get("/api/v1/review-tasks?state=all").json()) == 1
    today = dt.date.today()
    rates = api.get(f"/api/v1/review-tasks/revision-rates?from={today - dt.timedelta(days=1)}"
                    f"&to={today + dt.timedelta(days=1)}").json()
    assert rates[-1]["name"] == "全店" and rates[-1]["closed"] == 1 and rates[-1]["revision_rate"] == 0


def test_dispute_with_evidence(api, shop, agent_person):
    r = post(api, "/api/v1/disputes", {"kind": "extra_item_denied", "description": "多发一件，买家否认收到",
                                       "owner_id": agent_person.pk})
    assert r.status_code == 201
    did = r.json()["id"]
    r = post(api, f"/api/v1/disputes/{did}/transition", {"action": "submit"})
    assert r.status_code == 400 and r.json()["field"] == "evidence"
    r = api.post(f"/api/v1/disputes/{did}/evidence", {"file": SimpleUploadedFile("a.exe", b"MZ...")})
    assert r.status_code == 400 and r.json()["field"] == "file"
    r = api.post(f"/api/v1/disputes/{did}/evidence", {"file": SimpleUploadedFile("fake.png", b"not a png")})
    assert r.status_code == 400 and r.json()["code"] == "bad_file"
    r = api.post(f"/api/v1/disputes/{did}/evidence", {"file": SimpleUploadedFile("称重.png", PNG), "note": "称重照片"})
    assert r.status_code == 201, r.content
    assert r.json()["evidence"][0]["name"] == "称重.png"
    ev = DisputeEvidence.objects.get()
    assert ev.file.storage.exists(ev.file.name) and ev.file.read() == PNG
    assert post(api, f"/api/v1/disputes/{did}/transition", {"action": "submit"}).json()["state"] == "submitted"
    r = post(api, f"/api/v1/disputes/{did}/transition", {"action": "win"})
    assert r.status_code == 400 and r.json()["field"] == "note"
    r = post(api, f"/api/v1/disputes/{did}/transition", {"action": "win", "note": "平台判定卖家无责"})
    assert r.json()["state"] == "won" and r.json()["outcome"] == "平台判定卖家无责"
    assert Dispute.objects.get().closed_at is not None


def test_angry_messages(api, shop, agent_person):
    from django.utils import timezone

    now = timezone.now()
    rows = [{"message_id": f"m{i}", "buyer_id": f"b{i}", "agent_id": "店铺:小美", "sender": "buyer",
             "sent_at": (now - dt.timedelta(minutes=10 + i)).isoformat(), "text": t}
            for i, t in enumerate(["你们是骗子！！我要投诉到12315", "在吗，有货吗", "什么破东西，还不发货，给我个说法！"])]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))
    r = api.get("/api/v1/angry-messages")
    assert r.status_code == 200
    assert {x["message_id"] for x in r.json()} == {"m0", "m2"}
    assert r.json()[0]["anger"] >= r.json()[1]["anger"]


def test_list_routes_do_not_grow_with_rows(api, shop, agent_person, supervisor, customer):
    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url).status_code == 200
        return len(ctx)

    def add(n0, n):
        for i in range(n0, n):
            assert post(api, "/api/v1/complaints", {"source": "buyer", "category": "product", "summary": f"坏了{i}",
                                                    "buyer_id": "buyer1", "owner_id": supervisor.pk,
                                                    "against_id": agent_person.pk}).status_code == 201
            assert post(api, "/api/v1/reviews", {"review_id": f"R{i}", "buyer_id": f"b{i}", "rating": 1,
                                                 "created_at": "2026-11-01 10:00", "agent_id": "小美"}).status_code == 200
            assert post(api, "/api/v1/disputes", {"kind": "other", "description": f"d{i}",
                                                  "owner_id": agent_person.pk}).status_code == 201
    urls = ["/api/v1/complaints", "/api/v1/review-tasks", "/api/v1/disputes", "/api/v1/rating-invitations"]
    add(0, 2)
    few = [count(u) for u in urls]
    add(2, 8)
    assert [count(u) for u in urls] == few
    assert len(api.get("/api/v1/complaints").json()) == 8 and len(api.get("/api/v1/review-tasks").json()) == 8
