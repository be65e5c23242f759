import datetime as dt

import pytest
from django.utils import timezone

from kefu.conversations.models import Conversation, ConversationNote
from kefu.conversations.services import conversation_transfer
from kefu.core.errors import PermissionDenied
from kefu.outbound.models import OutboundMessage

from .conftest import NOW, buyer_msg, login, on_shift, person, post_json

pytestmark = pytest.mark.django_db


def conv_of(shop, buyer):
    return Conversation.objects.filter(shop=shop, customer__buyer_id=buyer).order_by("-ended_at").first()


@pytest.fixture
def live(shop):
    """Two agents on shift now (the API routes at the real clock)."""
    now = timezone.now()
    a, b = person(shop, "甲", username="jia"), person(shop, "乙", username="yi")
    on_shift(shop, [a, b], at=now)
    return {"a": a, "b": b, "now": now}


def test_api_message_without_agent_is_routed(api, shop, live):
    r = post_json(api, "/api/v1/messages", {"message_id": "m1", "buyer_id": "b1", "sender": "buyer",
                                            "sent_at": live["now"].isoformat(), "text": "在吗"})
    assert r.status_code == 200, r.content
    r = api.get("/api/v1/conversations")
    (row,) = r.json()
    assert row["assignee"] == "甲" and row["group"] == "presales" and not row["queued"]
    # An agent message still names its agent.
    r = post_json(api, "/api/v1/messages", {"message_id": "m2", "buyer_id": "b1", "sender": "agent",
                                            "sent_at": live["now"].isoformat()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "agent_id"


def test_transfer_keeps_history_and_routes_later_messages_to_the_new_agent(shop, live):
    buyer_msg(shop, "b1", mid="m1", at=live["now"])
    conv = conv_of(shop, "b1")
    c = login(live["a"])
    r = post_json(c, f"/api/v1/conversations/{conv.id}/transfer?shop=s1", {"to_agent_id": live["b"].id, "reason": "售后问题"})
    assert r.status_code == 200, r.content
    assert r.json()["assignee"] == "乙"
    detail = c.get(f"/api/v1/conversations/{conv.id}?shop=s1").json()
    ev = detail["events"][-1]
    assert (ev["kind"], ev["from_agent"], ev["to_agent"], ev["by"], ev["reason"]) == ("transferred", "甲", "乙", "甲", "售后问题")
    buyer_msg(shop, "b1", mid="m2", at=live["now"] + dt.timedelta(minutes=1))
    assert [m["agent"] for m in detail["messages"]] == ["甲"]
    msgs = login(live["b"]).get(f"/api/v1/conversations/{conv.id}?shop=s1").json()["messages"]
    assert [m["agent"] for m in msgs] == ["甲", "乙"]
    # Not theirs any more: 甲 no longer sees it, so cannot move it back.
    r = post_json(c, f"/api/v1/conversations/{conv.id}/transfer?shop=s1", {"to_agent_id": live["a"].id})
    assert r.status_code == 404


def test_transfer_bad_input(api, shop, live, other_shop):
    buyer_msg(shop, "b1", mid="m1", at=live["now"])
    conv = conv_of(shop, "b1")
    url = f"/api/v1/conversations/{conv.id}/transfer"
    stranger = person(other_shop, "外人")
    for body, field in [({}, "to_agent_id"), ({"to_agent_id": "x"}, "to_agent_id"),
                        ({"to_agent_id": stranger.id}, "to_agent_id"), ({"to_agent_id": live["a"].id}, "to_agent_id"),
                        ({"to_agent_id": live["b"].id, "reason": "x" * 501}, "reason")]:
        r = post_json(api, url, body)
        assert r.status_code in (400, 422), (body, r.content)
        body_json = r.json()
        fields = [body_json.get("field")] + [e["field"] for e in body_json.get("errors", [])]
        assert field in fields, (body, body_json)


def test_agent_cannot_transfer_someone_elses_conversation(shop, live):
    buyer_msg(shop, "b1", mid="m1", at=live["now"])
    conv = conv_of(shop, "b1")
    with pytest.raises(PermissionDenied):
        conversation_transfer(shop=shop, conversation=conv, to_agent=live["b"], by=live["b"])


def test_queued_conversation_is_picked_up_by_an_agent_of_its_group(shop):
    buyer_msg(shop, "b1", mid="m1")  # nobody on shift
    conv = conv_of(shop, "b1")
    a = person(shop, "甲", username="jia")
    c = login(a)
    assert c.get(f"/conversations/{conv.id}/").status_code == 200  # visible: unassigned in their group
    r = c.post(f"/conversations/{conv.id}/transfer/", {"to_agent": a.id})
    assert r.status_code == 302
    conv.refresh_from_db()
    assert conv.assignee_id == a.id and conv.queued_at is None and conv.events.last().kind == "assigned"
    assert conv.first_message.__class__.objects.get(message_id="m1").agent_id == a.id


def test_close_and_reopen(api, shop, live):
    buyer_msg(shop, "b1", mid="m1", at=live["now"])
    conv = conv_of(shop, "b1")
    r = post_json(api, f"/api/v1/conversations/{conv.id}/close", {})
    assert r.status_code == 200 and r.json()["closed_at"]
    assert post_json(api, f"/api/v1/conversations/{conv.id}/close", {}).status_code == 400
    assert [c["id"] for c in api.get("/api/v1/conversations?status=closed").json()] == [conv.id]
    r = post_json(api, f"/api/v1/conversations/{conv.id}/reopen", {})
    assert r.status_code == 200 and r.json()["closed_at"] is None


def test_notes_are_for_people_never_for_the_buyer(api, shop, live, django_capture_on_commit_callbacks):
    buyer_msg(shop, "b1", mid="m1", at=live["now"])
    conv = conv_of(shop, "b1")
    c = login(live["a"])
    r = post_json(c, f"/api/v1/conversations/{conv.id}/notes?shop=s1", {"text": "买家是老客户，态度要好"})
    assert r.status_code == 201, r.content
    assert [n["text"] for n in c.get(f"/api/v1/conversations/{conv.id}/notes?shop=s1").json()] == ["买家是老客户，态度要好"]
    assert c.get(f"/api/v1/conversations/{conv.id}?shop=s1").json()["notes"][0]["author"] == "甲"
    # A token (a platform connector talking to buyers) gets no notes.
    assert api.get(f"/api/v1/conversations/{conv.id}").json()["notes"] is None
    assert api.get(f"/api/v1/conversations/{conv.id}/notes").status_code == 403
    assert post_json(api, f"/api/v1/conversations/{conv.id}/notes", {"text": "x"}).status_code == 403
    assert not OutboundMessage.objects.exists()
    # Page: shown to the agent, in the notes card, not in the thread.
    html = c.get(f"/conversations/{conv.id}/").content.decode()
    assert "买家是老客户" in html and html.index("买家是老客户") > html.index('id="notes"')
    assert post_json(c, f"/api/v1/conversations/{conv.id}/notes?shop=s1", {"text": "  "}).json()["field"] == "text"


def test_merge_two_conversations_of_one_buyer(api, shop, live):
    buyer_msg(shop, "b1", mid="m1", at=live["now"] - dt.timedelta(hours=3))
    buyer_msg(shop, "b1", mid="m2", at=live["now"])
    buyer_msg(shop, "b2", mid="m3", at=live["now"])
    old, new, other = conv_of(shop, "b1"), None, conv_of(shop, "b2")
    convs = list(Conversation.objects.filter(customer__buyer_id="b1").order_by("started_at"))
    old, new = convs
    ConversationNote.objects.create(shop=shop, conversation=new, author_label="甲", text="n", created_at=live["now"])
    r = post_json(api, f"/api/v1/conversations/{new.id}/merge", {"target_id": other.id})
    assert r.status_code == 400 and r.json()["field"] == "target_id"
    r = post_json(api, f"/api/v1/conversations/{new.id}/merge", {"target_id": new.id})
    assert r.status_code == 400
    r = post_json(api, f"/api/v1/conversations/{new.id}/merge", {"target_id": old.id})
    assert r.status_code == 200, r.content
    detail = api.get(f"/api/v1/conversations/{old.id}").json()
    assert [m["message_id"] for m in detail["messages"]] == ["m1", "m2"]
    assert old.notes.count() == 1 and detail["events"][-1]["kind"] == "merged"
    assert new.id not in [c["id"] for c in api.get("/api/v1/conversations").json()]
    assert post_json(api, f"/api/v1/conversations/{new.id}/merge", {"target_id": old.id}).status_code == 400


def test_reply_goes_to_the_outbox_once_per_key(shop, live, django_capture_on_commit_callbacks, outbox_dir):
    buyer_msg(shop, "b1", mid="m1", at=live["now"])
    conv = conv_of(shop, "b1")
    c = login(live["a"])
    with django_capture_on_commit_callbacks(execute=True):
        r = post_json(c, f"/api/v1/conversations/{conv.id}/reply?shop=s1", {"text": "亲，在的", "key": "k1"})
        r2 = post_json(c, f"/api/v1/conversations/{conv.id}/reply?shop=s1", {"text": "亲，在的", "key": "k1"})
    assert (r.status_code, r2.status_code) == (201, 200) and r.json()["id"] == r2.json()["id"]
    msg = OutboundMessage.objects.get()
    assert (msg.state, msg.kind, msg.agent_id, msg.conversation_id) == ("queued", "reply", live["a"].id, conv.id)
    assert len((outbox_dir / "s1.jsonl").read_text(encoding="utf-8").splitlines()) == 1
    assert post_json(c, f"/api/v1/conversations/{conv.id}/reply?shop=s1", {"text": ""}).json()["field"] == "text"
    # 乙 does not own it and cannot see it.
    assert post_json(login(live["b"]), f"/api/v1/conversations/{conv.id}/reply?shop=s1", {"text": "x"}).status_code == 404


def test_routing_settings_and_caps_api(api, shop, live):
    r = api.get("/api/v1/routing/settings")
    assert r.json()["default_cap"] == 5 and "mm你好" in r.json()["offline_greeting"]
    r = post_json(api, "/api/v1/routing/settings", {"default_cap": 2, "offline_greeting": "您好，{agent}为您服务"})
    assert r.status_code == 200 and r.json()["default_cap"] == 2
    assert post_json(api, "/api/v1/routing/settings", {"default_cap": -1}).json()["field"] == "default_cap"
    assert post_json(api, "/api/v1/routing/settings", {"offline_greeting": " "}).json()["field"] == "offline_greeting"
    assert post_json(api, f"/api/v1/agents/{live['a'].id}/cap", {"cap": 1}).json() == {"cap": 1}
    assert post_json(api, f"/api/v1/agents/{live['a'].id}/cap", {"cap": 999}).json()["field"] == "cap"
    assert post_json(login(live["a"]), f"/api/v1/agents/{live['a'].id}/cap?shop=s1", {"cap": 9}).status_code == 403
    assert post_json(api, "/api/v1/agents/999999/cap", {"cap": 1}).status_code == 404


def test_service_times_default_to_now_for_routing(shop):
    assert NOW.tzinfo is not None
