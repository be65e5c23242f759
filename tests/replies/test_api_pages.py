"""The scripts API and pages: permissions, bad input, rendering, query counts, the picker."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.services import token_create
from kefu.replies.defaults import DEFAULT_SCRIPTS
from kefu.replies.models import Script
from kefu.replies.services import opening_line_set, script_create, scripts_install_defaults

from .conftest import login

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_list_installs_defaults_lazily_and_searches(api, shop):
    r = api.get("/api/v1/scripts")
    assert r.status_code == 200 and len(r.json()) == len(DEFAULT_SCRIPTS)
    r = api.get("/api/v1/scripts?q=催付")
    assert r.json()[0]["key"] == "payment_reminder"
    r = api.get("/api/v1/scripts?category=closing")
    assert [s["key"] for s in r.json()] == ["closing"]
    assert api.get("/api/v1/scripts?category=nope").status_code == 422


def test_create_update_render_through_the_api(api, shop, conversation):
    r = post(api, "/api/v1/scripts", {"category": "shipping_fee", "title": "补邮费", "body": "{买家昵称}请补{运费}"})
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    r = post(api, f"/api/v1/scripts/{sid}", {"body": "{买家昵称}请补运费：{运费}", "expected_version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = post(api, f"/api/v1/scripts/{sid}", {"body": "x", "expected_version": 1})
    assert r.status_code == 409 and r.json()["code"] == "stale_version"
    r = post(api, f"/api/v1/scripts/{sid}/render", {"conversation_id": conversation.id, "count_use": True})
    assert r.status_code == 200 and r.json()["text"].startswith("小王请补运费：")
    assert Script.objects.get(pk=sid).usage_count == 1
    r = post(api, f"/api/v1/scripts/{sid}/render", {"order_id": "T099"})
    assert r.json()["text"].startswith("小王请补")
    assert post(api, f"/api/v1/scripts/{sid}/render", {"order_id": "NOPE"}).status_code == 404
    assert post(api, f"/api/v1/scripts/{sid}/render", {"conversation_id": 999999}).status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"category": "opening", "title": "t", "body": "您好{买家名}"}, "body"),
    ({"category": "opening", "title": "t", "body": "您好{"}, "body"),
    ({"category": "bogus", "title": "t", "body": "b"}, "category"),
    ({"category": "opening", "title": "", "body": "b"}, "title"),
    ({"category": "opening", "title": "t", "body": "b", "key": "Not OK"}, "key"),
    ({"category": "opening", "title": "t", "body": "b", "starts_on": "2026-11-11", "ends_on": "2026-11-01"}, "ends_on"),
])
def test_bad_input_names_the_field(api, shop, body, field):
    r = post(api, "/api/v1/scripts", body)
    assert r.status_code in (400, 422), r.content
    data = r.json()
    assert data.get("field") == field or any(e["field"] == field for e in data.get("errors", [])), data


def test_agent_cannot_edit_shop_scripts_but_edits_own_opening(shop, agent_person, colleague):
    scripts_install_defaults(shop)
    c = login(agent_person)
    r = post(c, "/api/v1/scripts?shop=s1", {"category": "opening", "title": "t", "body": "b"})
    assert r.status_code == 403
    closing = Script.objects.get(shop=shop, key="closing")
    assert post(c, f"/api/v1/scripts/{closing.pk}?shop=s1", {"body": "改"}).status_code == 403
    mine = opening_line_set(shop=shop, member=agent_person, body="我的开场")
    r = post(c, f"/api/v1/scripts/{mine.pk}?shop=s1", {"body": "我的新开场{客服}", "key": "x", "category": "closing"})
    assert r.status_code == 200 and r.json()["body"] == "我的新开场{客服}"
    assert r.json()["category"] == "opening" and r.json()["key"] == ""  # a personal line stays an opening line
    theirs = opening_line_set(shop=shop, member=colleague, body="阿强的开场")
    assert post(c, f"/api/v1/scripts/{theirs.pk}?shop=s1", {"body": "x"}).status_code == 404
    assert post(c, f"/api/v1/scripts/{theirs.pk}/render?shop=s1", {}).status_code == 404
    assert closing.pk in [s["id"] for s in c.get("/api/v1/scripts?shop=s1").json()]
    assert theirs.pk not in [s["id"] for s in c.get("/api/v1/scripts?shop=s1&q=开场").json()]
    # Pages: no editing links or forms for an agent; the new-script page is refused.
    assert c.get("/scripts/new/").status_code == 404
    r = c.post("/scripts/opening/", {"body": "页面上改的开场白{买家昵称}"})
    assert r.status_code == 302 and Script.objects.get(owner=agent_person).body == "页面上改的开场白{买家昵称}"
    r = c.post("/scripts/opening/", {"body": "坏的{变量}"})
    assert r.status_code == 400 and "变量" in r.content.decode()


def test_supervisor_creates_and_edits_on_pages(shop, supervisor):
    c = login(supervisor)
    r = c.get("/scripts/")
    assert r.status_code == 200 and "新建话术" in r.content.decode() and 'id="reply-text"' in r.content.decode()
    r = c.post("/scripts/new/", {"category": "campaign", "title": "双12", "body": "双12 {买家昵称} 满减", "active": "on"})
    assert r.status_code == 302
    s = Script.objects.get(shop=shop, title="双12")
    r = c.post(f"/scripts/{s.pk}/edit/", {"category": "campaign", "title": "双12", "body": "坏{名字}", "active": "on"})
    assert r.status_code == 400 and "{名字}" in r.content.decode()
    r = c.post(f"/scripts/{s.pk}/edit/", {"category": "campaign", "title": "双12", "body": "双12 全场包邮",
                                          "active": "on"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.version == 2 and "v1" in c.get(f"/scripts/{s.pk}/edit/").content.decode()
    r = c.post("/scripts/settings/", {"courier_fees": "申通=9\n顺丰=23", "fee_link": "https://x/fee"})
    assert r.status_code == 302
    r = c.get("/scripts/?q=包邮", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="script-results")
    assert "<html" not in r.content.decode() and "双12 全场包邮" in r.content.decode()


def test_picker_fills_for_the_conversation_and_counts_use(shop, conversation, agent_person):
    c = login(agent_person)
    r = c.get(f"/scripts/picker/?conversation={conversation.id}&q=催付")
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html
    assert "订单T100" in html and "小美" in html  # filled from the order card and the agent
    s = Script.objects.get(shop=shop, key="payment_reminder")
    assert c.post(f"/scripts/{s.pk}/use/").status_code == 204
    s.refresh_from_db()
    assert s.usage_count == 1


def test_picker_refuses_other_peoples_conversations(shop, other_shop, conversation, colleague):
    c = login(colleague)  # an agent sees only their own conversations
    assert c.get(f"/scripts/picker/?conversation={conversation.id}").status_code == 404


def test_list_queries_do_not_grow_with_scripts(api, shop, agent_person):
    scripts_install_defaults(shop)

    def count(url, client=api):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    count("/api/v1/scripts")  # warm-up: the token's last-use stamp is written once
    base_api = count("/api/v1/scripts?q=订单")
    base_api_trgm = count("/api/v1/scripts?q=订单号")
    c = login(agent_person)
    base_page = count("/scripts/", c)
    base_picker = count("/scripts/picker/?q=亲", c)
    for i in range(15):
        script_create(shop=shop, actor=None, category="other", title=f"订单号说明{i}", body=f"亲，订单{i}")
    assert count("/api/v1/scripts?q=订单") == base_api
    assert count("/api/v1/scripts?q=订单号") == base_api_trgm
    assert count("/scripts/", c) == base_page
    assert count("/scripts/picker/?q=亲", c) == base_picker


def test_other_shops_token_cannot_render_or_see(shop, other_shop):
    scripts_install_defaults(shop)
    s = Script.objects.filter(shop=shop).first()
    from django.test import Client

    other = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(shop=other_shop, name='o')[1]}")
    assert post(other, f"/api/v1/scripts/{s.pk}/render", {}).status_code == 404
    assert post(other, f"/api/v1/scripts/{s.pk}", {"title": "x"}).status_code == 404
    assert s.pk not in [x["id"] for x in other.get("/api/v1/scripts").json()]


def test_picker_and_prompts_partials_render_for_includes(shop, conversation, rf):
    from django.template.loader import render_to_string

    for ctx in ({"conversation": conversation}, {"conv": conversation}):
        html = render_to_string("replies/_picker.html", ctx)
        assert f"/scripts/picker/?conversation={conversation.id}" in html and "kefuInsertScript" in html
    assert "/scripts/picker/?conversation=\"" in render_to_string("replies/_picker.html", {})
    html = render_to_string("crm/_prompts.html", {"conversation": conversation})
    assert f"/crm/prompts/{conversation.id}/" in html


def test_conversation_page_includes_picker_and_prompts(shop, conversation, agent_person):
    r = login(agent_person).get(f"/conversations/{conversation.id}/")
    if r.status_code != 200 or 'id="reply-text"' not in r.content.decode():
        pytest.skip("the conversation page has no reply box in this build")
    html = r.content.decode()
    assert f"/scripts/picker/?conversation={conversation.id}" in html
    assert f"/crm/prompts/{conversation.id}/" in html
