"""Pages: the SLA board (role-aware, filters, htmx refresh, bounded queries), the policies page,
and the clocks partial the conversation and case pages include."""

import datetime as dt

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.sla import services as S
from kefu.sla.models import SlaClock, SlaPolicy

from .conftest import login, send

pytestmark = pytest.mark.django_db


def recent(minutes_ago: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes_ago)


@pytest.fixture
def board_data(shop, kf, kf2):
    send(shop, [("m1", "b1", "店铺:阿美", "buyer", recent(10), "o1"),  # overdue
                ("m2", "b2", "店铺:阿丽", "buyer", recent(4), "o2"),  # warned (2 minutes before 5)
                ("m3", "b3", "店铺:阿美", "buyer", recent(1), "o3")])  # active
    shop.service_hours = {}
    shop.save()
    S.sla_scan(shop=shop)


def test_board_for_a_supervisor_shows_everyone_sorted_by_due(board_data, manager_client):
    r = manager_client.get("/sla/")
    assert r.status_code == 200
    clocks = r.context["clocks"]
    assert [c.customer.buyer_id for c in clocks] == ["b1", "b2", "b3"]
    assert [c.state for c in clocks] == ["missed", "warned", "active"]
    html = r.content.decode()
    assert 'class="sla-missed"' in html and 'class="sla-warned"' in html and "SLA 计时" in html
    assert r.context["counts"] == {"active": 1, "warned": 1, "missed": 1}
    # filters
    kf2 = clocks[1].agent
    assert [c.customer.buyer_id for c in manager_client.get(f"/sla/?agent={kf2.pk}").context["clocks"]] == ["b2"]
    assert [c.customer.buyer_id for c in manager_client.get("/sla/?group=aftersales").context["clocks"]] == ["b1", "b3"]
    assert len(manager_client.get("/sla/?group=nonsense&agent=x").context["clocks"]) == 3
    part = manager_client.get("/sla/?partial=table", HTTP_HX_REQUEST="true")
    assert part.status_code == 200 and "<html" not in part.content.decode() and "clock-" in part.content.decode()


def test_agent_sees_only_own_clocks(board_data, kf):
    r = login(kf).get("/sla/?agent=999")
    assert [c.customer.buyer_id for c in r.context["clocks"]] == ["b1", "b3"]
    assert "agents" not in r.context


def test_board_queries_do_not_grow(shop, kf, manager_client):
    send(shop, [("m0", "b0", "店铺:阿美", "buyer", recent(3), "o0")])
    S.sla_scan(shop=shop)
    manager_client.get("/sla/")
    with CaptureQueriesContext(connection) as small:
        manager_client.get("/sla/")
    send(shop, [(f"m{i}", f"b{i}", "店铺:阿美", "buyer", recent(3), f"o{i}") for i in range(1, 25)])
    S.sla_scan(shop=shop)
    with CaptureQueriesContext(connection) as big:
        r = manager_client.get("/sla/")
    assert len(r.context["clocks"]) == 25
    assert len(big) == len(small)


def test_policies_page_managers_edit(shop, manager_client, agent_person):
    r = manager_client.post("/sla/policies/", {"action": "defaults"})
    assert r.status_code == 302 and SlaPolicy.objects.filter(shop=shop).count() == 2
    page = manager_client.get("/sla/policies/")
    assert "售后/物流投诉首次响应" in page.content.decode() and page.context["can_edit"]
    r = manager_client.post("/sla/policies/", {"name": "仅退款", "priority": "30", "resolution_minutes": "1440",
                                               "case_types": ["refund_only"], "active": "on"})
    assert r.status_code == 302
    p = SlaPolicy.objects.get(shop=shop, name="仅退款")
    assert (p.case_types, p.resolution_minutes, p.business_hours) == (["refund_only"], 1440, False)
    bad = manager_client.post("/sla/policies/", {"name": "坏", "first_reply_minutes": "0"})
    assert bad.status_code == 400 and "first_reply_minutes" in bad.content.decode()
    r = manager_client.post(f"/sla/policies/{p.pk}/", {"name": "仅退款", "priority": "30", "resolution_minutes": "720",
                                                       "case_types": ["refund_only"], "business_hours": "on"})
    assert r.status_code == 302
    p.refresh_from_db()
    assert (p.resolution_minutes, p.business_hours, p.active) == (720, True, False)
    # agents read, never write
    agent = login(agent_person)
    page = agent.get("/sla/policies/")
    assert page.status_code == 200 and not page.context["can_edit"] and 'action="/sla/policies/' not in page.content.decode()
    assert agent.post("/sla/policies/", {"name": "x", "first_reply_minutes": "5"}).status_code == 403
    assert agent.post("/sla/policies/", {"action": "defaults"}).status_code == 404
    assert agent.post(f"/sla/policies/{p.pk}/", {"name": "x", "first_reply_minutes": "5"}).status_code == 403
    p.refresh_from_db()
    assert p.resolution_minutes == 720


def test_other_shops_policy_is_404(shop, other_shop, manager_client):
    foreign = S.policies_install_defaults(shop=other_shop)[0]
    assert manager_client.post(f"/sla/policies/{foreign.pk}/", {"name": "x"}).status_code == 404


def test_clocks_partial_for_a_conversation(board_data, shop, manager):
    clock = SlaClock.objects.get(shop=shop, customer__buyer_id="b1")
    request = RequestFactory().get("/")
    request.shop = shop
    html = Template("{% load sla_tags %}{% sla_clocks conversation=conv %}").render(Context(
        {"conv": clock.conversation, "current_shop": shop, "shop_tz": shop.tz, "request": request}))
    assert 'data-state="missed"' in html and "首次响应" in html and 'data-outcome="active_missed"' in html
    empty = Template("{% load sla_tags %}{% sla_clocks case=None %}").render(Context({"current_shop": shop}))
    assert "sla-clocks" not in empty
