"""Care pages: role-aware (agents: their revisits and surprises; care owners, supervisors and
managers: everything), forms that create plans, campaigns and surprises, both languages, and the
revisit list's query count pinned."""

import datetime as dt

import pytest

from kefu.care.models import CareCampaign, CareSettings, Revisit, RevisitPlan, Surprise
from kefu.care.services import revisit_plan_save, revisits_generate
from kefu.customers.models import Customer
from tests.web.data import DAY, chat, order

from .conftest import login

pytestmark = pytest.mark.django_db
STAFF_PAGES = ["/care/plans/", "/care/campaigns/", "/care/at-risk/", "/care/settings/"]


def test_who_sees_what(shop, team, manager):
    mei = login(team["mei"])
    assert mei.get("/care/").status_code == 200 and mei.get("/care/surprises/").status_code == 200
    for url in STAFF_PAGES:
        assert mei.get(url).status_code == 404, url
    for who in (team["owner"], team["sup"], manager):
        c = login(who)
        for url in ["/care/", "/care/surprises/", *STAFF_PAGES]:
            assert c.get(url).status_code == 200, (who, url)
    # The care owner reads the settings; only supervisors and up change them.
    assert login(team["owner"]).post("/care/settings/", {"cap_count": "5"}).status_code == 404
    r = login(team["sup"]).post("/care/settings/", {"cap_count": "5", "cap_days": "30", "reply_window_days": "3",
                                                    "repeat_min_orders": "2", "silent_factor": "1.5",
                                                    "silent_min_days": "30", "review_watch_days": "90",
                                                    "owner_ids": [team["owner"].pk]})
    assert r.status_code == 302 and CareSettings.objects.get(shop=shop).cap_count == 5


def test_plan_and_revisit_through_the_pages(shop, team):
    chat(shop, agent=team["mei"], buyer="b1", day=DAY, nick="王姐")
    order(shop, order_id="o1", buyer="b1", day=DAY)
    owner = login(team["owner"])
    r = owner.post("/care/plans/", {"name": "老客户回访", "cadence_days": "30", "per_owner_daily": "10",
                                    "questions": "最近肌肤状况怎么样？\n产品用得习惯吗？", "assignee_ids": [team["mei"].pk],
                                    "min_orders": "1"})
    plan = RevisitPlan.objects.get(shop=shop)
    assert r.status_code == 302 and plan.questions == ["最近肌肤状况怎么样？", "产品用得习惯吗？"]
    assert plan.segment == {"min_orders": 1}
    assert owner.post(f"/care/plans/{plan.pk}/", {"generate": "1"}).status_code == 302
    rv = Revisit.objects.get(plan=plan)
    mei = login(team["mei"])
    page = mei.get("/care/").content.decode()
    assert "王姐" in page and "最近肌肤状况怎么样？" in page
    r = mei.post(f"/care/revisits/{rv.pk}/record/", {"outcome": "satisfied", "q0": "很好", "note": "会回购"})
    assert r.status_code == 302
    rv.refresh_from_db()
    assert rv.state == "done" and rv.answers == {"最近肌肤状况怎么样？": "很好"}
    # The phone note is on the buyer's timeline.
    buyer = Customer.objects.get(shop=shop, buyer_id="b1")
    assert "电话记录" in mei.get(f"/customers/{buyer.pk}/").content.decode()
    assert owner.post("/care/plans/", {"name": ""}).status_code == 400


def test_campaign_through_the_pages(shop, team):
    owner = login(team["owner"])
    r = owner.post("/care/campaigns/", {"name": "春季防过敏", "text": "春天花粉多，敏感肌记得做好防护，满199包邮"})
    c = CareCampaign.objects.get(shop=shop)
    assert r.status_code == 302
    page = owner.get(f"/care/campaigns/{c.pk}/").content.decode()
    assert 'id="content-warnings"' in page and "包邮" in page
    r = owner.post(f"/care/campaigns/{c.pk}/", {"op": "schedule", "scheduled_at": ""})
    assert r.status_code == 400 and CareCampaign.objects.get(pk=c.pk).state == "draft"
    later = (dt.datetime.now(shop.tz) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = owner.post(f"/care/campaigns/{c.pk}/", {"op": "schedule", "scheduled_at": later, "accept_warnings": "1"})
    assert r.status_code == 302 and CareCampaign.objects.get(pk=c.pk).state == "scheduled"
    assert owner.post(f"/care/campaigns/{c.pk}/", {"op": "cancel"}).status_code == 302
    assert CareCampaign.objects.get(pk=c.pk).state == "cancelled"


def test_surprise_through_the_pages(shop, team):
    buyer = Customer.objects.create(shop=shop, buyer_id="b2", nick="李姐")
    chat(shop, agent=team["mei"], buyer="b2", day=DAY)
    mei = login(team["mei"])
    assert mei.get(f"/care/surprises/new/?customer={buyer.pk}").status_code == 200
    r = mei.post("/care/surprises/new/", {"customer": buyer.pk, "kind": "card", "description": "手写贺卡",
                                          "reason": "生日", "cost": "3.50", "request_id": "x1"})
    assert r.status_code == 302 and r["Location"] == f"/customers/{buyer.pk}/"
    assert "手写贺卡" in mei.get("/care/surprises/").content.decode()
    other = Customer.objects.create(shop=shop, buyer_id="stranger")
    assert mei.get(f"/care/surprises/new/?customer={other.pk}").status_code == 404


def test_english_and_the_revisit_list_query_count(shop, team, django_assert_max_num_queries):
    for i in range(12):
        chat(shop, agent=team["mei"], buyer=f"b{i}", day=DAY, hour=i)
        order(shop, order_id=f"o{i}", buyer=f"b{i}", day=DAY, hour=i)
    revisit_plan_save(shop=shop, actor=None, name="p", assignee_ids=[team["mei"].pk], per_owner_daily=50)
    revisits_generate(shop=shop)
    mei = login(team["mei"])
    mei.get("/care/")
    with django_assert_max_num_queries(14):
        assert mei.get("/care/").status_code == 200
    mei.post("/i18n/setlang/", {"language": "en", "next": "/care/"})
    assert "Record the call" in mei.get("/care/").content.decode()


def test_another_shops_person_gets_404_on_every_page(shop, team, other_shop):
    from kefu.care import campaigns, surprises
    from kefu.core.services import person_create

    buyer = Customer.objects.create(shop=shop, buyer_id="b9")
    chat(shop, agent=team["mei"], buyer="b9", day=DAY)
    plan = revisit_plan_save(shop=shop, actor=None, name="p", assignee_ids=[team["mei"].pk])
    revisits_generate(shop=shop)
    rv = Revisit.objects.get(plan=plan)
    c = campaigns.campaign_save(shop=shop, actor=None, name="c", text="注意保暖")
    s = surprises.surprise_create(shop=shop, customer=buyer, actor=team["mei"], kind="card", description="卡片",
                                  reason="生日", cost="0")
    boss = person_create(shop=other_shop, name="别家经理", username="boss2", password="pass-word-1", roles=["manager"])
    other = login(boss)
    for url in (f"/customers/{buyer.pk}/", f"/care/plans/{plan.pk}/", f"/care/campaigns/{c.pk}/",
                f"/care/surprises/new/?customer={buyer.pk}"):
        assert other.get(url).status_code == 404, url
    for url in (f"/customers/{buyer.pk}/reveal/", f"/customers/{buyer.pk}/tag/", f"/customers/{buyer.pk}/note/",
                f"/customers/{buyer.pk}/merge/", f"/care/revisits/{rv.pk}/record/", f"/care/opt-out/{buyer.pk}/",
                f"/care/surprises/{s.pk}/cancel/"):
        r = other.post(url, {"outcome": "satisfied", "text": "x", "tag": "1"})
        assert r.status_code in (404, 302), url
    rv.refresh_from_db()
    assert rv.state == "open" and not buyer.notes.exists() and not buyer.taggings.exists()
    assert Surprise.objects.get(pk=s.pk).state == "approved"


def test_care_lists_query_counts_do_not_grow(shop, team, django_assert_max_num_queries):
    from kefu.care.churn import churn_scan
    from kefu.care.surprises import surprise_create
    from kefu.complaints.services import complaint_create

    owner = login(team["owner"])

    def add(n0, n):
        for i in range(n0, n0 + n):
            b = Customer.objects.create(shop=shop, buyer_id=f"r{i}")
            complaint_create(shop=shop, source="buyer", category="product", summary="坏了", actor=team["mei"],
                             customer=b)
            surprise_create(shop=shop, customer=b, actor=team["mei"], kind="card", description="卡", reason="r",
                            cost="1.00")
        churn_scan(shop=shop)

    def cost(url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as q:
            assert owner.get(url).status_code == 200
        return len(q)

    add(0, 3)
    urls = ["/care/at-risk/", "/care/surprises/", "/api/v1/churn/at-risk?shop=s1", "/api/v1/surprises?shop=s1"]
    before = [cost(u) for u in urls]
    add(3, 20)
    assert [cost(u) for u in urls] == before
    with django_assert_max_num_queries(15):
        owner.get("/care/surprises/")
