"""The buyer list and 360 (CRM-1): search, filters, figures recomputed from raw orders, tags one by
one and in bulk, the audited reveal of contacts, who sees which buyer, pinned query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from kefu.complaints.reviews import reviews_clean, reviews_ingest
from kefu.core.models import AuditLog
from kefu.core.services import person_create
from kefu.customers.models import Customer, CustomerEvent, CustomerTag
from kefu.customers.selectors import buyer_filters_clean, buyers_list
from kefu.customers.services import customer_tag_add, customer_tags_bulk, tag_create
from kefu.orders.models import Order
from tests.web.data import DAY, agent, chat, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_data(shop):
    mei, qiang = agent(shop, "小美", username="mei"), agent(shop, "阿强", username="qiang")
    chat(shop, agent=mei, buyer="tb_wang", day=DAY, nick="王姐")
    chat(shop, agent=mei, buyer="tb_zhao", day=DAY, hour=11)
    chat(shop, agent=qiang, buyer="tb_sun", day=DAY, hour=12, nick="孙先生")
    order(shop, order_id="9001", buyer="tb_wang", day=DAY, paid="300.00")
    order(shop, order_id="9002", buyer="tb_wang", day=DAY + dt.timedelta(days=1), paid="150.50", refund="50.50")
    order(shop, order_id="9003", buyer="tb_sun", day=DAY - dt.timedelta(days=40), paid="88.00")
    order(shop, order_id="9004", buyer="tb_zhao", day=DAY, paid="66.00", paid_flag=False)
    Customer.objects.filter(shop=shop, buyer_id="tb_wang").update(phone="13812345678", address="杭州市西湖区文三路 1 号")
    return {"mei": mei, "qiang": qiang}


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_figures_equal_a_plain_loop_over_orders(shop, shop_data):
    rows = {c.buyer_id: c for c in buyers_list(shop=shop, member=None)}
    for c in Customer.objects.filter(shop=shop):
        paid = [o for o in Order.objects.filter(customer=c) if o.paid_at is not None and o.status != "refunded"]
        assert rows[c.buyer_id].spend == sum((o.paid_amount - o.refund_amount for o in paid), Decimal("0.00"))
        assert rows[c.buyer_id].paid_orders == len(paid)
        assert rows[c.buyer_id].last_paid_at == max((o.paid_at for o in paid), default=None)
    assert rows["tb_wang"].spend == Decimal("400.00") and rows["tb_zhao"].paid_orders == 0


@pytest.mark.parametrize("q,expected", [
    ("王姐", {"tb_wang"}), ("tb_s", {"tb_sun"}), ("5678", {"tb_wang"}), ("9003", {"tb_sun"}), ("9004", {"tb_zhao"}),
    ("nobody", set()),
])
def test_search_by_nick_id_phone_tail_order_id(shop, shop_data, q, expected):
    got = {c.buyer_id for c in buyers_list(shop=shop, member=None, filters=buyer_filters_clean({"q": q}))}
    assert got == expected


def test_filters(shop, shop_data):
    vip = tag_create(shop=shop, name="VIP", actor=None)
    customer_tag_add(shop=shop, customer=Customer.objects.get(shop=shop, buyer_id="tb_sun"), tag=vip, actor=None)

    def ids(**params):
        return {c.buyer_id for c in buyers_list(shop=shop, member=None, filters=buyer_filters_clean(params))}

    assert ids(tag=vip.pk) == {"tb_sun"}
    assert ids(spend_min="100") == {"tb_wang"} and ids(spend_max="100") == {"tb_sun", "tb_zhao"}
    assert ids(last_paid_from=DAY.isoformat()) == {"tb_wang"}
    assert ids(last_paid_to=(DAY - dt.timedelta(days=1)).isoformat()) == {"tb_sun"}
    assert ids(at_risk="0") == {"tb_wang", "tb_zhao", "tb_sun"} and ids(at_risk="1") == set()
    for bad in ({"spend_min": "abc"}, {"last_paid_from": "2026-13-01"}, {"sort": "x"}, {"at_risk": "maybe"},
                {"tag": "x"}):
        with pytest.raises(Exception) as e:
            buyer_filters_clean(bad)
        assert getattr(e.value, "field", None) == next(iter(bad))


def test_agents_see_the_buyers_they_served(shop, shop_data):
    mei = shop_data["mei"]
    assert {c.buyer_id for c in buyers_list(shop=shop, member=mei)} == {"tb_wang", "tb_zhao"}
    sun = Customer.objects.get(shop=shop, buyer_id="tb_sun")
    c = login(mei.user)
    assert c.get(f"/customers/{sun.pk}/").status_code == 404
    assert c.get("/api/v1/customers/tb_sun?shop=s1").status_code == 404
    assert c.get("/api/v1/customers/tb_wang?shop=s1").status_code == 200


def test_reveal_is_audited_and_only_for_roles_that_need_it(shop, shop_data, manager):
    wang = Customer.objects.get(shop=shop, buyer_id="tb_wang")
    boss = login(manager.user)
    page = boss.get(f"/customers/{wang.pk}/").content.decode()
    assert "13812345678" not in page and "138****5678" in page and 'id="reveal"' in page
    r = boss.post(f"/customers/{wang.pk}/reveal/", {"reason": "寄礼物"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "13812345678" in r.content.decode() and "文三路" in r.content.decode()
    r = boss.post("/api/v1/customers/tb_wang/contacts/reveal?shop=s1", {"reason": "核对"}, content_type="application/json")
    assert r.json() == {"phone": "13812345678", "address": "杭州市西湖区文三路 1 号"}
    rows = AuditLog.objects.filter(shop=shop, action="customer.unmask", entity_id=str(wang.pk)).order_by("id")
    assert [r.after["reason"] for r in rows] == ["寄礼物", "核对"] and rows[0].actor == manager.user
    assert CustomerEvent.objects.filter(customer=wang, kind="unmask").count() == 2
    # An agent never sees them unmasked, on the page or through the API; nothing is written.
    mei = login(shop_data["mei"].user)
    assert 'id="reveal"' not in mei.get(f"/customers/{wang.pk}/").content.decode()
    assert mei.post(f"/customers/{wang.pk}/reveal/", HTTP_HX_REQUEST="true").status_code == 403
    r = mei.post("/api/v1/customers/tb_wang/contacts/reveal?shop=s1", {}, content_type="application/json")
    assert r.status_code == 403 and "13812345678" not in r.content.decode()
    assert AuditLog.objects.filter(shop=shop, action="customer.unmask").count() == 2


def test_tags_one_by_one_and_in_bulk(shop, shop_data, manager):
    boss = login(manager.user)
    assert boss.post("/customers/tags/", {"name": "敏感肌", "color": "red"}).status_code == 302
    assert boss.post("/customers/tags/", {"name": "敏感肌"}).status_code == 400  # exists
    skin = shop.customer_tags.get(name="敏感肌")
    ids = list(Customer.objects.filter(shop=shop, buyer_id__in=["tb_wang", "tb_sun"]).values_list("pk", flat=True))
    r = boss.post("/customers/bulk-tags/", {"customer_ids": ids, "tag": skin.pk, "action": "add", "query": "q=tb"})
    assert r.status_code == 302 and r["Location"].endswith("?q=tb")
    assert set(CustomerTag.objects.filter(tag=skin).values_list("customer__buyer_id", flat=True)) == {"tb_wang", "tb_sun"}
    # Every buyer matching the filters at once.
    boss.post("/customers/bulk-tags/", {"scope": "all", "tag": skin.pk, "action": "add", "query": "q=tb_"})
    assert CustomerTag.objects.filter(tag=skin).count() == 3
    boss.post("/customers/bulk-tags/", {"scope": "all", "tag": skin.pk, "action": "remove", "query": "spend_min=100"})
    assert set(CustomerTag.objects.filter(tag=skin).values_list("customer__buyer_id", flat=True)) == {"tb_zhao", "tb_sun"}
    assert CustomerEvent.objects.filter(kind="tag_add").count() == 3 and CustomerEvent.objects.filter(kind="tag_remove").count() == 1
    # The API by platform ids; an agent tags only buyers they may see.
    r = boss.post("/api/v1/customer-tags/bulk?shop=s1", {"tag": "敏感肌", "buyer_ids": ["tb_wang"]},
                  content_type="application/json")
    assert r.json() == {"changed": 1}
    mei = login(shop_data["mei"].user)
    r = mei.post("/api/v1/customer-tags/bulk?shop=s1", {"tag": skin.pk, "buyer_ids": ["tb_sun"], "action": "remove"},
                 content_type="application/json")
    assert r.status_code == 404
    assert customer_tags_bulk(shop=shop, customer_ids=ids, tag="敏感肌", add=True, actor=None) == 0
    with pytest.raises(Exception) as e:
        customer_tags_bulk(shop=shop, customer_ids=ids, tag="没有", add=True, actor=None)
    assert e.value.code == "unknown_tag"
    # Agents may not define tags.
    assert mei.post("/api/v1/customer-tags?shop=s1", {"name": "x"}, content_type="application/json").status_code == 403


def test_list_page_and_api_query_counts_do_not_grow(shop, shop_data, manager, django_assert_max_num_queries):
    boss = login(manager.user)
    vip = tag_create(shop=shop, name="VIP", actor=None)
    boss.get("/customers/")  # warm the session and the grade rules

    def cost() -> tuple[int, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as page:
            assert boss.get("/customers/").status_code == 200
        with CaptureQueriesContext(connection) as api:
            assert boss.get("/api/v1/customers?shop=s1").status_code == 200
        return len(page), len(api)

    before = cost()
    for i in range(30):
        chat(shop, agent=shop_data["qiang"], buyer=f"more{i}", day=DAY, hour=i % 24)
        order(shop, order_id=f"m{i}", buyer=f"more{i}", day=DAY, paid="10.00")
        customer_tag_add(shop=shop, customer=Customer.objects.get(shop=shop, buyer_id=f"more{i}"), tag=vip, actor=None)
    assert cost() == before
    with django_assert_max_num_queries(12):
        boss.get("/customers/")


def test_360_page_and_api(shop, shop_data, manager):
    wang = Customer.objects.get(shop=shop, buyer_id="tb_wang")
    reviews_ingest(shop=shop, rows=reviews_clean([
        {"review_id": "r1", "buyer_id": "tb_wang", "order_id": "9001", "rating": 5, "created_at": "2025-11-12T10:00:00"},
        {"review_id": "r2", "buyer_id": "tb_wang", "order_id": "9002", "rating": 1, "text": "太慢了",
         "created_at": "2025-11-13T10:00:00"}], tz=shop.tz))
    boss = login(manager.user)
    r = boss.get(f"/customers/{wang.pk}/")
    html = r.content.decode()
    assert r.status_code == 200 and "¥400.00" in html and "9001" in html and "太慢了" in html
    assert r.context["p"]["review_counts"] == {"good": 1, "bad": 1}
    data = boss.get("/api/v1/customers/tb_wang?shop=s1").json()
    assert data["spend"] == "400.00" and data["paid_orders"] == 2 and data["phone"] == "138****5678"
    assert [o["order_id"] for o in data["orders"]] == ["9002", "9001"] and data["review_counts"] == {"good": 1, "bad": 1}
    assert data["platform_ids"] == [{"buyer_id": "tb_wang", "channels": ["generic"], "alias": False}]
    # English
    boss.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Reorder interval" in boss.get(f"/customers/{wang.pk}/").content.decode()


def test_a_merged_away_page_redirects(shop, shop_data, manager):
    from kefu.customers.merge import customer_merge

    zhao, wang = (Customer.objects.get(shop=shop, buyer_id=b) for b in ("tb_zhao", "tb_wang"))
    customer_merge(shop=shop, source=zhao, target=wang, actor=manager)
    r = login(manager.user).get(f"/customers/{zhao.pk}/")
    assert r.status_code == 302 and r["Location"] == f"/customers/{wang.pk}/"
    other = person_create(shop=shop, name="别人", username="x9", password="pass-word-1", roles=["agent"])
    assert login(other.user).get(f"/customers/{wang.pk}/").status_code == 404
