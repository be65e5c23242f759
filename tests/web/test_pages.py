import datetime as dt
import re

import pytest
from django.test import Client

from kefu.conversations.models import Conversation
from kefu.core.models import AuditLog
from kefu.core.services import person_create
from kefu.customers.models import Customer

from .data import DAY, agent, chat, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(shop, agent_person, day):
    """小美 (the logged-in agent) and two colleagues with chats and orders on DAY."""
    a2 = agent(shop, "阿强")
    a3 = agent(shop, "丽丽")
    chat(shop, agent=agent_person, buyer="b1", nick="买家一", day=DAY, hour=10, reply_after=20, bot=True)
    chat(shop, agent=agent_person, buyer="b2", day=DAY, hour=11, reply_after=None)
    chat(shop, agent=a2, buyer="b3", day=DAY, hour=9, reply_after=200)
    chat(shop, agent=a3, buyer="b4", day=DAY, hour=14, reply_after=40)
    order(shop, order_id="o1", buyer="b1", day=DAY, hour=12, paid="188.00", address="浙江省杭州市西湖区文三路 1 号")
    order(shop, order_id="o3", buyer="b3", day=DAY, hour=12, paid="520.00")
    return {"me": agent_person, "a2": a2, "a3": a3}


def test_pages_need_login(client):
    for url in ("/", "/conversations/", "/agents/1/", "/conversations/1/"):
        r = client.get(url)
        assert r.status_code == 302 and r.url.startswith("/login/"), url


def test_dashboard_manager_sees_every_agent_and_the_ranking(manager_client, team):
    r = manager_client.get("/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "看板" in html and "绩效排名" in html and "今日实时" in html
    for name in ("小美", "阿强", "丽丽"):
        assert name in html
    live = {row["agent"]: row for row in r.context["live"]["rows"]}
    assert live["小美"]["receptions"] == 2 and live["小美"]["replied_receptions"] == 1
    assert live["阿强"]["sales"] == "520.00"
    ranking = r.context["ranking"]
    for g in ranking["groups"]:  # each group ranked on its own
        assert [row["rank"] for row in g["rows"]] == sorted(row["rank"] for row in g["rows"])
        assert g["top"][0] == g["rows"][0] and g["bottom"][0] == g["rows"][-1]
    assert "后三名" in html  # 001 publishes the bottom of the ranking too
    # Charts: plotly served by Kefu itself, never a CDN.
    assert "/vendor/plotly-" in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # no asset from another host
    assert 'id="trend-data"' in html and 'id="load-data"' in html
    trend = r.context["trend_chart"]  # this month by default: the 1st … today
    assert len(trend["days"]) == DAY.day and trend["days"][-1] == DAY.isoformat() and trend["receptions"][-1] == 4
    assert sum(r.context["load_chart"]["receptions"][-1]) == 4


def test_dashboard_agent_sees_own_figures_and_everyones_rank(team, agent_client):
    r = agent_client.get("/")
    assert r.status_code == 200
    assert [row["agent"] for row in r.context["live"]["rows"]] == ["小美"]
    assert r.context["live"]["totals"] is None
    rows = {row["agent"]: row for row in r.context["ranking"]["rows"]}
    assert set(rows) == {"小美", "阿强", "丽丽"}
    assert "sales" in rows["小美"] and "sales" not in rows["阿强"] and rows["阿强"]["rank"] >= 1
    assert "¥520.00" not in r.content.decode()  # a colleague's sales stay hidden
    # Trend and load are the agent's own.
    assert r.context["trend_chart"]["receptions"][-1] == 2


def test_ranking_range_form_and_live_partial(manager_client, team):
    prev = (DAY - dt.timedelta(days=5)).isoformat()
    r = manager_client.get("/", {"from": prev, "to": prev})
    assert r.status_code == 200 and r.context["ranking"]["rows"] == []
    assert "这段时间没有数据" in r.content.decode()
    r = manager_client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="live")
    html = r.content.decode()
    assert r.status_code == 200 and html.lstrip().startswith('<section class="card" id="live"')
    assert "<html" not in html and "小美" in html
    r = manager_client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="live")
    assert r.content.decode().lstrip().startswith('<section class="card" id="live"')
    r = manager_client.get("/", {"from": "2025-13-01"})
    assert r.status_code == 200 and r.context["range_error"]
    r = manager_client.get("/", {"from": DAY.isoformat(), "to": (DAY - dt.timedelta(days=1)).isoformat()})
    assert r.status_code == 200 and "日期范围无效" in r.content.decode()


def test_agent_detail_access(manager_client, agent_client, team, other_shop):
    me, a2 = team["me"], team["a2"]
    r = manager_client.get(f"/agents/{a2.id}/")
    assert r.status_code == 200 and r.context["figures"]["sales"] == "520.00"
    assert len(r.context["days"]) == 30
    r = agent_client.get(f"/agents/{me.id}/", {"from": DAY.isoformat(), "to": DAY.isoformat()})
    assert r.status_code == 200 and r.context["figures"]["receptions"] == 2 and len(r.context["days"]) == 1
    assert agent_client.get(f"/agents/{a2.id}/").status_code == 404
    stranger = agent(other_shop, "外人")
    assert manager_client.get(f"/agents/{stranger.id}/").status_code == 404
    assert manager_client.get("/agents/999999/").status_code == 404


def test_conversation_list_role_aware_and_filters(manager_client, agent_client, team):
    r = manager_client.get("/conversations/")
    assert r.status_code == 200 and r.context["page"].paginator.count == 4
    assert {c.customer.buyer_id for c in agent_client.get("/conversations/").context["page"]} == {"b1", "b2"}
    r = manager_client.get("/conversations/", {"agent": team["a2"].id})
    assert [c.customer.buyer_id for c in r.context["page"]] == ["b3"]
    r = manager_client.get("/conversations/", {"waiting": "1"})
    assert [c.customer.buyer_id for c in r.context["page"]] == ["b2"]
    r = manager_client.get("/conversations/", {"q": "买家一"})
    assert [c.customer.buyer_id for c in r.context["page"]] == ["b1"]
    # An agent cannot widen their view with the agent filter.
    r = agent_client.get("/conversations/", {"agent": team["a2"].id})
    assert {c.customer.buyer_id for c in r.context["page"]} == {"b1", "b2"}
    r = manager_client.get("/conversations/", {"waiting": "1"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="conversations")
    assert r.content.decode().lstrip().startswith('<div id="conversations">')


def test_conversation_list_paginates(manager_client, shop, manager, day):
    a = agent(shop, "阿强")
    for i in range(55):
        chat(shop, agent=a, buyer=f"p{i:02d}", day=DAY, hour=i % 24)
    r = manager_client.get("/conversations/")
    assert r.context["page"].paginator.num_pages == 2 and len(r.context["page"]) == 50
    r = manager_client.get("/conversations/", {"page": 2})
    assert len(r.context["page"]) == 5 and "上一页" in r.content.decode()


def test_conversation_page_messages_and_buyer_card(manager_client, agent_client, shop, team):
    Customer.objects.filter(shop=shop, buyer_id="b1").update(phone="13812345678", address="浙江省杭州市西湖区文三路 1 号")
    # A later conversation of b1 (after the paid order o1): the buyer is returning there.
    chat(shop, agent=team["me"], buyer="b1", day=DAY, hour=20, reply_after=10, prefix="later-")
    convs = list(Conversation.objects.filter(shop=shop, customer__buyer_id="b1").order_by("started_at"))
    assert len(convs) == 2
    first, later = convs

    r = manager_client.get(f"/conversations/{first.id}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'class="msg buyer"' in html and 'class="msg agent"' in html and 'class="msg bot"' in html
    assert "自动回复" in html
    card = r.context["card"]
    assert card["returning"] is False and "新客户" in html
    # Contacts are masked for everyone; a manager may reveal them, and each reveal is audited.
    assert card["contacts"]["phone"] == "138****5678" and card["contacts"]["can_reveal"]
    assert "13812345678" not in html and f'/customers/{first.customer_id}/' in html
    r = manager_client.post(f"/customers/{first.customer_id}/reveal/", {"reason": "核对地址"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "13812345678" in r.content.decode()
    assert AuditLog.objects.filter(shop=shop, action="customer.unmask", entity_id=str(first.customer_id)).count() == 1
    assert [o["order_id"] for o in card["orders"]] == ["o1"] and "188.00" in html
    assert card["past_conversations"] == []

    r = agent_client.get(f"/conversations/{later.id}/")
    assert r.status_code == 200
    card = r.context["card"]
    assert card["returning"] is True and "老客户" in r.content.decode()
    assert card["contacts"]["phone"] == "138****5678" and not card["contacts"]["can_reveal"]
    assert "13812345678" not in r.content.decode() and "文三路" not in r.content.decode()
    assert card["orders"][0]["address"].endswith("****")
    assert [c.id for c in card["past_conversations"]] == [first.id]


def test_conversation_page_access(manager_client, agent_client, shop, other_shop, team):
    theirs = Conversation.objects.get(shop=shop, customer__buyer_id="b3")
    assert agent_client.get(f"/conversations/{theirs.id}/").status_code == 404
    assert manager_client.get(f"/conversations/{theirs.id}/").status_code == 200
    stranger = agent(other_shop, "外人")
    chat(other_shop, agent=stranger, buyer="x1", day=DAY)
    foreign = Conversation.objects.get(shop=other_shop)
    assert manager_client.get(f"/conversations/{foreign.id}/").status_code == 404
    assert agent_client.get(f"/conversations/{foreign.id}/").status_code == 404


def test_person_without_shop_gets_a_clear_page(db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("nobody", password="pass-word-1")
    c = Client()
    c.force_login(user)
    r = c.get("/")
    assert r.status_code == 403 and "没有店铺" in r.content.decode()


def test_shop_switcher(shop, other_shop, manager, manager_client, day):
    person_create(shop=other_shop, name="经理", username="mgr", roles=["manager"], group="")
    r = manager_client.get("/")
    assert r.context["request"].shop == shop
    html = r.content.decode()
    assert 'name="shop_id"' in html and "别家店" in html
    r = manager_client.post("/shop/", {"shop_id": other_shop.id, "next": "/conversations/?waiting=1"})
    assert r.status_code == 302 and r.url == "/conversations/?waiting=1"
    assert manager_client.get("/").context["request"].shop == other_shop
    # An object page of the old shop is not where the switch lands.
    r = manager_client.post("/shop/", {"shop_id": shop.id, "next": "/conversations/5/"})
    assert r.url == "/"
    r = manager_client.post("/shop/", {"shop_id": shop.id, "next": "https://evil.example/"})
    assert r.url == "/"


def test_shop_switcher_refuses_a_shop_one_does_not_work_in(shop, other_shop, manager_client, day):
    assert manager_client.post("/shop/", {"shop_id": other_shop.id}).status_code == 404
    assert manager_client.post("/shop/", {"shop_id": "x"}).status_code == 404
    assert manager_client.get("/").context["request"].shop == shop
    assert 'name="shop_id"' not in manager_client.get("/").content.decode()


def test_plotly_is_served_from_the_installed_package(client):
    import plotly

    r = client.get(f"/vendor/plotly-{plotly.__version__}.min.js")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/javascript")
    assert len(r.content) > 1_000_000 and b"plotly" in r.content[:2000].lower()
    r2 = client.get(f"/vendor/plotly-{plotly.__version__}.min.js", HTTP_ACCEPT_ENCODING="gzip, br")
    assert r2["Content-Encoding"] == "gzip" and len(r2.content) < len(r.content)
    r3 = client.get(f"/vendor/plotly-{plotly.__version__}.min.js", HTTP_IF_NONE_MATCH=r["ETag"])
    assert r3.status_code == 304


def test_every_script_and_stylesheet_of_the_pages_is_served(manager_client, team):
    """Pages work offline: every asset is served by Kefu itself (whitenoise or a view)."""
    import re

    conv = Conversation.objects.filter(shop=team["me"].shop).first()
    urls = set()
    for page in ("/", f"/agents/{team['me'].id}/", "/conversations/", f"/conversations/{conv.id}/"):
        html = manager_client.get(page).content.decode()
        urls |= set(re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html))
    urls.discard("data:,")
    assert any("htmx" in u for u in urls) and any("plotly" in u for u in urls)
    for url in urls:
        assert url.startswith("/"), url  # nothing from another host
        r = manager_client.get(url)
        assert r.status_code == 200, url
        if hasattr(r, "streaming_content"):
            # Exhausting the stream lets the test client finish the request without closing the
            # test's database connection (closing it would end PostgreSQL's test transaction).
            b"".join(r.streaming_content)
