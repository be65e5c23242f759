import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.conversations.models import Conversation, SavedView
from kefu.conversations.services import conversation_close, messages_clean, messages_ingest
from kefu.outbound.models import OutboundMessage

from .conftest import NOW, buyer_msg, login, on_shift, person, post_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(shop):
    """p1 owns b1 (waiting), p2 owns b2 (replied), s1 (after-sales) owns b3, b4 queued (no one free)."""
    p1 = person(shop, "小一", username="p1")
    p2 = person(shop, "小二", username="p2")
    s1 = person(shop, "售后甲", group="aftersales", username="s1")
    sup = person(shop, "主管", group="", roles=("supervisor",), username="sup")
    on_shift(shop, [p1, p2])
    buyer_msg(shop, "b1", mid="m1")
    buyer_msg(shop, "b2", mid="m2")
    rows = messages_clean([{"message_id": "m2r", "buyer_id": "b2", "agent_id": "店铺:小二", "sender": "agent",
                            "sent_at": (NOW + dt.timedelta(seconds=30)).isoformat()}], tz=shop.tz)
    messages_ingest(shop=shop, rows=rows)
    rows = messages_clean([{"message_id": "m3", "buyer_id": "b3", "agent_id": "店铺:售后甲", "sender": "buyer",
                            "sent_at": NOW.isoformat()}], tz=shop.tz)
    messages_ingest(shop=shop, rows=rows)
    from kefu.workforce.services import presence_set

    for a in (p1, p2):
        presence_set(shop=shop, agent=a, status="away", by=a, at=NOW)
    buyer_msg(shop, "b4", mid="m4")
    return {"p1": p1, "p2": p2, "s1": s1, "sup": sup}


def buyers(resp):
    return sorted(c.customer.buyer_id for c in resp.context["page"])


def test_builtin_views(world):
    sup, p1 = login(world["sup"]), login(world["p1"])
    assert buyers(sup.get("/conversations/")) == ["b1", "b2", "b3", "b4"]
    assert buyers(sup.get("/conversations/", {"view": "unassigned"})) == ["b4"]
    assert buyers(sup.get("/conversations/", {"view": "waiting"})) == ["b1", "b3", "b4"]
    assert buyers(p1.get("/conversations/", {"view": "mine"})) == ["b1"]
    # My group: pre-sales conversations an agent may see (their own and the unassigned queue).
    assert buyers(p1.get("/conversations/", {"view": "group"})) == ["b1", "b4"]
    assert buyers(login(world["s1"]).get("/conversations/", {"view": "group"})) == ["b3"]
    assert buyers(sup.get("/conversations/", {"status": "queued"})) == ["b4"]
    assert buyers(sup.get("/conversations/", {"group": "aftersales"})) == ["b3"]
    assert sup.get("/conversations/", {"view": "nope"}).status_code == 400
    # A supervisor without a group gets no "my group" tab.
    keys = [v.key for v in sup.get("/conversations/").context["builtin_views"]]
    assert "group" not in keys and "unassigned" in keys


def test_closed_leave_waiting_view(shop, world):
    conv = Conversation.objects.get(customer__buyer_id="b1")
    conversation_close(shop=shop, conversation=conv, by=world["p1"], now=NOW)
    assert buyers(login(world["sup"]).get("/conversations/", {"view": "waiting"})) == ["b3", "b4"]


def test_saved_views_per_person(world):
    c = login(world["sup"])
    r = c.post("/conversations/views/", {"name": "售后待回复", "group": "aftersales", "waiting": "1"})
    assert r.status_code == 302 and "group=aftersales" in r.url
    r = c.get(r.url)
    assert r.context["active_saved"] == SavedView.objects.get().pk and buyers(r) == ["b3"]
    assert "售后待回复" in r.content.decode()
    assert "售后待回复" not in login(world["p1"]).get("/conversations/").content.decode()
    # Duplicate name → error shown, nothing created.
    c.post("/conversations/views/", {"name": "售后待回复"})
    assert SavedView.objects.count() == 1
    view = SavedView.objects.get()
    assert login(world["p1"]).post(f"/conversations/views/{view.pk}/delete/").status_code == 404
    assert c.post(f"/conversations/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.exists()


def test_saved_views_api(world):
    c = login(world["p1"])
    r = c.get("/api/v1/conversation-views?shop=s1")
    assert [v["key"] for v in r.json()] == ["all", "unassigned", "waiting", "sla_risk", "mine", "group"]
    r = post_json(c, "/api/v1/conversation-views?shop=s1", {"name": "我的待回复", "params": {"view": "mine", "waiting": "1"}})
    assert r.status_code == 201 and r.json()["params"] == {"view": "mine", "waiting": "1"}
    vid = r.json()["id"]
    for body, field in [({"name": "", "params": {}}, "name"), ({"name": "x", "params": {"color": "red"}}, "params"),
                        ({"name": "y", "params": {"view": "sla"}}, "view"), ({"name": "我的待回复"}, "name"),
                        ({"name": "z", "params": {"waiting": "maybe"}}, "waiting")]:
        r = post_json(c, "/api/v1/conversation-views?shop=s1", body)
        assert r.status_code == 400 and r.json()["field"] == field, (body, r.content)
    assert post_json(login(world["p2"]), f"/api/v1/conversation-views/{vid}/delete?shop=s1", {}).status_code == 404
    assert post_json(c, f"/api/v1/conversation-views/{vid}/delete?shop=s1", {}).status_code == 204
    # API list filters by view.
    assert [r["buyer_id"] for r in c.get("/api/v1/conversations?shop=s1&view=mine").json()] == ["b1"]
    assert c.get("/api/v1/conversations?shop=s1&view=bad").json()["field"] == "view"


def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("view", ["all", "unassigned", "waiting", "mine"])
def test_list_queries_do_not_grow_with_rows_or_saved_views(shop, world, view):
    c = login(world["sup"])
    base = _count(c, "/conversations/", {"view": view})
    for i in range(12):
        buyer_msg(shop, f"x{i}", mid=f"x{i}", at=NOW + dt.timedelta(minutes=i))
        SavedView.objects.create(shop=shop, owner=world["sup"], name=f"v{i}", params={"q": f"x{i}"})
    assert _count(c, "/conversations/", {"view": view}) == base
    api_base = _count(c, "/api/v1/conversations?shop=s1&view=" + view)
    for i in range(5):
        buyer_msg(shop, f"y{i}", mid=f"y{i}", at=NOW + dt.timedelta(minutes=30 + i))
    assert _count(c, "/api/v1/conversations?shop=s1&view=" + view) == api_base


def test_conversation_page_has_composer_routing_and_notes(shop, world, django_capture_on_commit_callbacks):
    conv = Conversation.objects.get(customer__buyer_id="b1")
    c = login(world["p1"])
    html = c.get(f"/conversations/{conv.id}/").content.decode()
    for marker in ('id="reply-text"', 'id="transfer-form"', 'id="events"', 'id="notes"'):
        assert marker in html
    key = c.get(f"/conversations/{conv.id}/").context["reply_key"]
    with django_capture_on_commit_callbacks(execute=True):
        c.post(f"/conversations/{conv.id}/reply/", {"text": "亲，在的哦", "key": key})
        c.post(f"/conversations/{conv.id}/reply/", {"text": "亲，在的哦", "key": key})  # double click
    assert OutboundMessage.objects.filter(conversation=conv).count() == 1
    r = c.get(f"/conversations/{conv.id}/")
    html = r.content.decode()
    assert 'data-state="queued"' in html and "亲，在的哦" in html
    # Transfer from the page: the history row names both agents and the reason.
    r = c.post(f"/conversations/{conv.id}/transfer/", {"to_agent": world["p2"].id, "reason": "换人"})
    assert r.status_code == 302
    html = login(world["p2"]).get(f"/conversations/{conv.id}/").content.decode()
    assert "小一 →" in html and "换人" in html
    # A bad transfer shows an error, never a 500.
    r = login(world["p2"]).post(f"/conversations/{conv.id}/transfer/", {"to_agent": "abc"}, follow=True)
    assert r.status_code == 200 and "请选择客服" in r.content.decode()


def test_page_renders_without_and_with_the_optional_partials(shop, world, settings, tmp_path):
    conv = Conversation.objects.get(customer__buyer_id="b1")
    c = login(world["p1"])
    (tmp_path / "tpl" / "replies").mkdir(parents=True)
    (tmp_path / "tpl" / "crm").mkdir(parents=True)
    (tmp_path / "tpl" / "replies" / "_picker.html").write_text('<div id="picker-here"></div>')
    (tmp_path / "tpl" / "crm" / "_prompts.html").write_text('<div id="prompts-for-{{ conversation.id }}"></div>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path / "tpl", *settings.TEMPLATES[0].get("DIRS", [])]}]
    html = c.get(f"/conversations/{conv.id}/").content.decode()
    assert 'id="picker-here"' in html and f'id="prompts-for-{conv.id}"' in html


def test_status_control_on_the_conversation_list(shop, world):
    c = login(world["p1"])
    html = c.get("/conversations/").content.decode()
    assert 'id="my-status"' in html
    r = c.post("/workforce/status/", {"status": "online", "next": "/conversations/"})
    assert r.status_code == 302 and r.url == "/conversations/"
    # Back online and on shift: p1 gets the next buyer.
    from kefu.workforce.models import AgentPresence

    assert AgentPresence.objects.get(agent=world["p1"]).status == "online"


def test_merge_and_close_from_the_page(shop, world):
    buyer_msg(shop, "b1", mid="m9", at=NOW + dt.timedelta(hours=2))
    convs = list(Conversation.objects.filter(customer__buyer_id="b1").order_by("started_at"))
    c = login(world["sup"])
    r = c.get(f"/conversations/{convs[1].id}/")
    assert [t.id for t in r.context["merge_targets"]] == [convs[0].id]
    r = c.post(f"/conversations/{convs[1].id}/merge/", {"target": convs[0].id})
    assert r.status_code == 302 and r.url == f"/conversations/{convs[0].id}/"
    r = c.post(f"/conversations/{convs[0].id}/close/")
    convs[0].refresh_from_db()
    assert convs[0].closed_at is not None


def test_sla_at_risk_view_lists_conversations_past_their_warning_time(shop, world):
    from kefu.sla.models import SlaClock, SlaPolicy

    policy = SlaPolicy.objects.create(shop=shop, name="默认", first_reply_minutes=3)
    b1, b4 = (Conversation.objects.get(customer__buyer_id=b) for b in ("b1", "b4"))
    now = timezone.now()
    SlaClock.objects.create(shop=shop, target="first_reply", conversation=b1, policy=policy, started_at=now,
                            warn_at=now - dt.timedelta(minutes=1), due_at=now + dt.timedelta(minutes=2))
    SlaClock.objects.create(shop=shop, target="first_reply", conversation=b4, policy=policy, started_at=now,
                            warn_at=now + dt.timedelta(minutes=1), due_at=now + dt.timedelta(minutes=2))
    assert buyers(login(world["sup"]).get("/conversations/", {"view": "sla_risk"})) == ["b1"]
    assert buyers(login(world["p2"]).get("/conversations/", {"view": "sla_risk"})) == []


@pytest.mark.parametrize("action", ["transfer", "close", "notes", "merge", "reply", "spam"])
def test_page_actions_of_another_shop_are_404(shop, other_shop, world, action):
    conv = Conversation.objects.get(customer__buyer_id="b1")
    stranger = person(other_shop, "老板", group="", roles=("manager",), username="boss2")
    r = login(stranger).post(f"/conversations/{conv.id}/{action}/", {"to_agent": world["p1"].id, "text": "x",
                                                                      "target": conv.id})
    assert r.status_code == 404
    assert not conv.notes.exists() and not conv.events.filter(kind="transferred").exists()


def test_transfer_history_reads_as_words_not_codes(shop, world):
    """The routing's own steps are stored as by "system" with reason "offline"/"busy" (the API keeps
    the codes); the page says 系统 and the reason's label, and the transfer button is an action."""
    from kefu.conversations.enums import QueueReason

    conv = Conversation.objects.get(customer__buyer_id="b4")
    queued = conv.events.get(kind="queued")
    assert queued.by_label == "system" and queued.reason in QueueReason.values
    c = login(world["sup"])
    events = c.get(f"/conversations/{conv.id}/").content.decode().split('id="events"')[1].split("</ol>")[0]
    assert "系统" in events and str(QueueReason(queued.reason).label) in events
    assert "system" not in events and f" {queued.reason}<" not in events
    api = c.get(f"/api/v1/conversations/{conv.id}?shop=s1")  # the API keeps the codes
    assert {"by": "system", "reason": queued.reason} in [{"by": e["by"], "reason": e["reason"]} for e in api.json()["events"]]
    c.post("/i18n/setlang/", {"language": "en"})
    html = c.get(f"/conversations/{conv.id}/").content.decode()
    events = html.split('id="events"')[1].split("</ol>")[0]
    assert "System" in events and "system" not in events and ">Transfer</button>" in html
    assert ">Transferred</button>" not in html
