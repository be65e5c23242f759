"""The people's pages and the widget's frame render for the right roles; lists are a fixed number
of queries."""

import pytest
from django.test import Client

from kefu.conversations.models import Conversation
from kefu.core.services import shop_create
from kefu.livechat.identity import widget_settings_of

from .conftest import Buyer, person, staff

pytestmark = pytest.mark.django_db


def test_workspace_and_supervisor_pages_by_role(shop, widget, kf):
    sup = person(shop, "主管", roles=("supervisor",), group="", username="sup")
    mgr = person(shop, "经理", roles=("manager",), group="", username="mgr")
    r = staff(kf).get("/live/")
    assert r.status_code == 200 and 'id="lw"' in r.content.decode()
    assert staff(kf).get("/monitor/").status_code == 404
    assert staff(sup).get("/monitor/").status_code == 200
    assert staff(kf).get("/webchat/settings/").status_code == 404
    body = staff(sup).get("/webchat/settings/").content.decode()
    assert widget.key in body and widget.identity_secret not in body  # supervisors read, never the secret
    body = staff(mgr).get("/webchat/settings/").content.decode()
    assert widget.identity_secret in body
    assert Client().get("/live/").status_code == 302  # login first


def test_manager_changes_the_widget_and_bad_origins_are_refused(shop, widget):
    mgr = person(shop, "经理", roles=("manager",), group="", username="mgr")
    c = staff(mgr)
    r = c.post("/webchat/settings/", {"enabled": "1", "title": "暖暖客服", "greeting": "欢迎", "offline_greeting": "留言吧",
                                   "allowed_origins": "https://shop.example.com"})
    assert r.status_code == 302
    widget.refresh_from_db()
    assert (widget.title, widget.greeting, widget.origins) == ("暖暖客服", "欢迎", ["https://shop.example.com"])
    frame = Client().get(f"/live/w/{widget.key}/frame")
    assert "frame-ancestors 'self' https://shop.example.com" in frame["Content-Security-Policy"]
    c.post("/webchat/settings/", {"enabled": "1", "greeting": "x", "offline_greeting": "y", "allowed_origins": "javascript:alert(1)"})
    widget.refresh_from_db()
    assert widget.origins == ["https://shop.example.com"]
    # The auto-away time: saved when whole minutes, refused with the field named otherwise.
    base = {"enabled": "1", "greeting": "欢迎", "offline_greeting": "留言吧", "allowed_origins": ""}
    assert c.post("/webchat/settings/", {**base, "away_after_minutes": "10"}).status_code == 302
    widget.refresh_from_db()
    assert widget.away_after_minutes == 10
    r = c.post("/webchat/settings/", {**base, "away_after_minutes": "ten"}, follow=True)
    assert "away_after_minutes" in r.content.decode()
    widget.refresh_from_db()
    assert widget.away_after_minutes == 10


def test_frame_loader_and_demo_site(shop, widget):
    assert Client().get("/live/widget.js")["Access-Control-Allow-Origin"] == "*"
    r = Client().get(f"/live/w/{widget.key}/frame?lang=en")
    assert r.status_code == 200 and "X-Frame-Options" not in r and "Send" in r.content.decode()
    assert Client().get("/live/w/wk_unknown/frame").status_code == 404
    assert Client().get("/demo/site/?shop=s1").status_code == 404  # only demo shops
    demo = shop_create(code="demo", name="暖暖家居旗舰店")
    ws = widget_settings_of(demo)
    body = Client().get("/demo/site/?member=1").content.decode()
    assert ws.key in body and 'data-user-hash="' in body


def test_workspace_list_is_a_fixed_number_of_queries(shop, widget, kf, django_assert_max_num_queries):
    for _ in range(3):
        Buyer(widget).send("在吗")
    c = staff(kf)
    with django_assert_max_num_queries(12):
        r = c.get(f"/api/v1/live/chats?shop={shop.code}")
    assert len(r.json()["chats"]) == 3
    for _ in range(5):
        Buyer(widget).send("还有货吗")
    with django_assert_max_num_queries(12):
        r = c.get(f"/api/v1/live/chats?shop={shop.code}")
    chats = r.json()["chats"]
    assert len(chats) == 8 and all(ch["unread"] == 1 and ch["waiting_since"] for ch in chats)
    conv = Conversation.objects.filter(shop=shop).first()
    r = c.get(f"/api/v1/live/chats/{conv.pk}?shop={shop.code}")
    assert r.status_code == 200 and r.json()["messages"][0]["text"] in ("在吗", "还有货吗")
    assert staff(kf).get(f"/live/chats/{conv.pk}/side").status_code == 200


def test_unread_counts_drop_when_the_agent_reads(shop, widget, kf):
    b = Buyer(widget)
    b.send("一")
    b.send("二")
    c = staff(kf)
    chat = c.get(f"/api/v1/live/chats?shop={shop.code}").json()["chats"][0]
    assert chat["unread"] == 2
    r = c.post(f"/api/v1/live/chats/{chat['conversation_id']}/read?shop={shop.code}",
               f'{{"message_pk": {chat["last_pk"]}}}', content_type="application/json")
    assert r.status_code == 204
    assert c.get(f"/api/v1/live/chats?shop={shop.code}").json()["chats"][0]["unread"] == 0
    b.send("三")
    assert c.get(f"/api/v1/live/chats?shop={shop.code}").json()["chats"][0]["unread"] == 1
    # The buyer sees 已读 up to what the agent read.
    assert Buyer(widget, visitor_token=b.token).data["agent_read_pk"] == chat["last_pk"]


def test_supervisor_overview(shop, widget, kf):
    sup = person(shop, "主管", roles=("supervisor",), group="", username="sup")
    Buyer(widget).send("在吗")
    d = staff(sup).get(f"/api/v1/live/overview?shop={shop.code}").json()
    me = next(a for a in d["agents"] if a["id"] == kf.pk)
    assert (me["status"], me["holding"], me["waiting"]) == ("online", 1, 1)
    assert len(d["waiting"]) == 1 and d["waiting"][0]["assignee"] == "小美"
    assert staff(kf).get(f"/api/v1/live/overview?shop={shop.code}").status_code == 403


def test_english_labels_of_the_live_pages_are_their_own_words_and_times_follow_the_shop(shop, widget, kf):
    """Words other apps translate otherwise (分 = points in the ledger, 转接 = Transferred in a
    conversation's history) carry a context on these pages; the scripts format times in the shop's
    time zone, which the pages hand them."""
    import json
    import re

    sup = person(shop, "主管", roles=("supervisor",), group="", username="sup")
    for who, path, words_id in ((kf, "/live/", "lw-i18n"), (sup, "/monitor/", "sv-i18n")):
        c = staff(who)
        c.cookies["django_language"] = "en"
        body = c.get(path).content.decode()
        words = json.loads(re.search(f'id="{words_id}">(.*?)</script>', body, re.S).group(1))
        assert (words["sec"], words["min"], words["hour"]) == ("s", "min", "h"), path
        assert f'data-tz="{shop.timezone}"' in body
    body = staff(kf).get("/live/").content.decode()
    assert re.search(r'id="lw-transfer">\s*转接', body)
    c = staff(kf)
    c.cookies["django_language"] = "en"
    assert re.search(r'id="lw-transfer">Transfer<', c.get("/live/").content.decode())
    c = staff(sup)
    c.cookies["django_language"] = "en"
    assert "<th>Reported by</th>" in c.get("/monitor/").content.decode()


def test_the_live_view_lists_the_people_who_serve_not_managers_or_warehouse(shop, kf):
    from kefu.livechat.selectors import live_overview
    from kefu.workforce.services import presence_set

    idle_agent = person(shop, "小雨", username="xy")
    sup = person(shop, "主管", roles=("supervisor",), group="", username="sup")
    person(shop, "经理", roles=("manager",), group="", username="mgr")
    person(shop, "仓管", roles=("warehouse",), group="", username="wh")
    presence_set(shop=shop, agent=kf, status="online", by=kf)
    presence_set(shop=shop, agent=sup, status="online", by=sup)  # a supervisor taking chats shows
    names = {a["name"]: a["status"] for a in live_overview(shop=shop)["agents"]}
    assert names == {kf.name: "online", idle_agent.name: "offline", "主管": "online"}
