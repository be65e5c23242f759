import pytest

from kefu.conversations.models import Conversation

from .data import DAY, agent, chat

pytestmark = pytest.mark.django_db


def test_chinese_is_the_default_and_english_can_be_chosen(manager_client, day):
    html = manager_client.get("/").content.decode()
    assert 'lang="zh-hans"' in html and "看板" in html and "绩效排名" in html
    r = manager_client.post("/i18n/setlang/", {"language": "en", "next": "/conversations/"})
    assert r.status_code == 302 and r.url == "/conversations/"
    html = manager_client.get("/").content.decode()
    assert 'lang="en"' in html and "Dashboard" in html and "Ranking" in html and "绩效排名" not in html
    html = manager_client.get("/conversations/").content.decode()
    assert "Conversations" in html and "Search buyer" in html
    manager_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "看板" in manager_client.get("/").content.decode()


def test_login_page_in_both_languages(client):
    assert "登录" in client.get("/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Log in" in client.get("/login/").content.decode()


def _conversations(shop, n, prefix):
    a = agent(shop, f"{prefix}客服")
    for i in range(n):
        chat(shop, agent=a, buyer=f"{prefix}{i}", day=DAY, hour=i % 24, prefix=prefix)


def test_conversation_list_queries_do_not_grow_with_rows(manager_client, shop, day, django_assert_num_queries):
    _conversations(shop, 3, "x")
    baseline = _queries(manager_client, "/conversations/")
    _conversations(shop, 27, "y")
    assert Conversation.objects.filter(shop=shop).count() == 30
    with django_assert_num_queries(baseline):
        r = manager_client.get("/conversations/")
    assert len(r.context["page"]) == 30


def _queries(client, url, **params) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_conversation_page_queries_do_not_grow_with_history(manager_client, shop, day, django_assert_max_num_queries):
    from .data import order

    a = agent(shop, "阿强")
    for h in range(3):
        chat(shop, agent=a, buyer="b1", day=DAY, hour=h * 2)
        order(shop, order_id=f"o{h}", buyer="b1", day=DAY, hour=h * 2)
    last = Conversation.objects.filter(shop=shop).order_by("-started_at").first()
    small = _queries(manager_client, f"/conversations/{last.id}/")
    for h in range(3, 12):
        chat(shop, agent=a, buyer="b1", day=DAY, hour=h * 2)
        order(shop, order_id=f"o{h}", buyer="b1", day=DAY, hour=h * 2)
    last = Conversation.objects.filter(shop=shop).order_by("-started_at").first()
    with django_assert_max_num_queries(small):
        r = manager_client.get(f"/conversations/{last.id}/")
    assert len(r.context["card"]["orders"]) == 12 and len(r.context["card"]["past_conversations"]) == 11


def test_dashboard_queries_do_not_grow_with_agents(manager_client, shop, day, django_assert_num_queries):
    for i in range(3):
        chat(shop, agent=agent(shop, f"甲{i}"), buyer=f"b{i}", day=DAY)
    baseline = _queries(manager_client, "/")
    for i in range(3, 30):
        chat(shop, agent=agent(shop, f"甲{i}"), buyer=f"b{i}", day=DAY)
    with django_assert_num_queries(baseline):
        r = manager_client.get("/")
    assert len(r.context["ranking"]["rows"]) == 30
    assert _queries(manager_client, "/", export="xlsx") < baseline
