"""PRE-8 cross-sell: products of the conversation's order cards and the buyer's recent orders →
hand-made pairs, same-category products, current promotions; the API, the pages and the partial."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.catalog.models import Product, Sku
from kefu.core.models import AuditLog
from kefu.core.timeutil import shop_day
from kefu.crm.models import Promotion
from kefu.crm.selectors import cross_sell, cross_sell_for_conversation
from kefu.crm.services import grades_recompute, product_pair_add, promotion_save
from kefu.orders.models import Order, OrderItem

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(shop):
    def mk(title, cat, code, price):
        p = Product.objects.create(shop=shop, title=title, category=cat)
        Sku.objects.create(shop=shop, product=p, code=code, price=Decimal(price))
        return p

    return {
        "oil": mk("玫瑰精油", "精油", "OIL-1", "128.00"),
        "oil2": mk("薰衣草精油", "精油", "OIL-2", "98.00"),
        "oil3": mk("茶树精油", "精油", "OIL-3", "88.00"),
        "mask": mk("补水面膜", "面膜", "MASK-1", "59.00"),
        "cream": mk("护手霜", "护手", "CREAM-1", "39.90"),
    }


@pytest.fixture
def conv_with_items(conversation, catalog):
    t100 = Order.objects.get(order_id="T100")
    OrderItem.objects.create(order=t100, sku_code="OIL-1", quantity=1, price=Decimal("128.00"))
    return conversation


def today(shop):
    return shop_day(timezone.now(), shop.tz)


def test_pairs_first_then_same_category(shop, catalog, conv_with_items):
    product_pair_add(shop=shop, actor=None, product_id=catalog["mask"].pk, related_id=catalog["oil"].pk,
                     note="精油配面膜")  # works both ways
    cs = cross_sell_for_conversation(shop=shop, conversation=conv_with_items)
    assert cs.products == [catalog["oil"]]
    assert [r["product"] for r in cs.related] == [catalog["mask"], catalog["oil2"], catalog["oil3"]]
    assert cs.related[0]["why"] == "精油配面膜" and cs.related[1]["why"] == "同类目"
    assert cs.related[1]["price"] == Decimal("98.00") and str(cs.related[1]["price"]) == "98.00"
    assert catalog["cream"] not in [r["product"] for r in cs.related]


def test_only_orderable_alternatives_best_rated_first(shop, catalog, conv_with_items):
    """PRE-8: an in-stock, well-reviewed alternative — delisted or sold-out products are never offered."""
    mint = Product.objects.create(shop=shop, title="薄荷精油", category="精油")
    Sku.objects.create(shop=shop, product=mint, code="OIL-4", price=Decimal("68.00"), rating=Decimal("4.90"))
    Sku.objects.filter(code="OIL-3").update(rating=Decimal("4.60"), stock=12)
    Sku.objects.filter(code="OIL-2").update(stock=0)  # sold out
    cs = cross_sell_for_conversation(shop=shop, conversation=conv_with_items)
    assert [r["product"] for r in cs.related] == [mint, catalog["oil3"]]
    Sku.objects.filter(code="OIL-4").update(listed=False)  # delisted
    product_pair_add(shop=shop, actor=None, product_id=catalog["oil"].pk, related_id=catalog["oil2"].pk, note="x")
    cs = cross_sell_for_conversation(shop=shop, conversation=conv_with_items)
    assert [r["product"] for r in cs.related] == [catalog["oil3"]]  # the sold-out pair is left out too


def test_current_promotions_match_products_category_or_whole_shop(shop, catalog, conv_with_items):
    d = today(shop)
    p_prod = promotion_save(shop=shop, actor=None, name="精油第二件半价", discount_text="第二件半价",
                            product_ids=[catalog["oil"].pk], starts_on=d, ends_on=d)
    p_cat = promotion_save(shop=shop, actor=None, name="精油类目满减", discount_text="满200减20", category="精油")
    p_shop = promotion_save(shop=shop, actor=None, name="全店包邮", discount_text="全店包邮")
    promotion_save(shop=shop, actor=None, name="面膜活动", discount_text="x", product_ids=[catalog["mask"].pk])
    promotion_save(shop=shop, actor=None, name="过期", discount_text="x", category="精油",
                   starts_on=d - dt.timedelta(days=10), ends_on=d - dt.timedelta(days=1))
    promotion_save(shop=shop, actor=None, name="未开始", discount_text="x", starts_on=d + dt.timedelta(days=1))
    promotion_save(shop=shop, actor=None, name="停用", discount_text="x", active=False)
    cs = cross_sell_for_conversation(shop=shop, conversation=conv_with_items)
    hits = {h["promotion"].pk: str(h["why"]) for h in cs.promotions}
    assert hits == {p_prod.pk: "相关商品", p_cat.pk: "同类目", p_shop.pk: "全店"}


def test_buyer_recent_orders_count_too_and_grade_is_shown(shop, catalog, conversation):
    t099 = Order.objects.get(order_id="T099")
    OrderItem.objects.create(order=t099, sku_code="CREAM-1", quantity=1, price=Decimal("39"))
    Order.objects.filter(order_id="T099").update(paid_at=timezone.now() - dt.timedelta(days=20))
    grades_recompute(shop=shop)
    cs = cross_sell_for_conversation(shop=shop, conversation=conversation)
    assert cs.products == [catalog["cream"]] and cs.grade is not None and cs.grade.grade == "B"


def test_no_products_no_prompts_and_other_shops_never_leak(shop, other_shop, catalog):
    other = Product.objects.create(shop=other_shop, title="别家精油", category="精油")
    Sku.objects.create(shop=other_shop, product=other, code="OIL-1", price=Decimal("1"))
    promotion_save(shop=other_shop, actor=None, name="别家活动", discount_text="x")
    cs = cross_sell(shop=shop, sku_codes={"OIL-1"})
    assert cs.products == [catalog["oil"]]
    assert other not in [r["product"] for r in cs.related] and cs.promotions == []
    assert cross_sell(shop=shop, sku_codes=set()).related == []


def test_promotion_bad_input_and_permissions(shop, other_shop, catalog, agent_person):
    from kefu.core.errors import KefuError, PermissionDenied

    cases = [({"name": ""}, "name"), ({"discount_text": ""}, "discount_text"),
             ({"starts_on": "2026-11-11", "ends_on": "2026-11-01"}, "ends_on"), ({"starts_on": "soon"}, "starts_on"),
             ({"product_ids": [999999]}, "product_ids")]
    for extra, field in cases:
        kw = {"name": "n", "discount_text": "d", **extra}
        with pytest.raises(KefuError) as e:
            promotion_save(shop=shop, actor=None, **kw)
        assert e.value.field == field, extra
    other = Product.objects.create(shop=other_shop, title="别家", category="x")
    with pytest.raises(KefuError):
        promotion_save(shop=shop, actor=None, name="n", discount_text="d", product_ids=[other.pk])
    with pytest.raises(PermissionDenied):
        promotion_save(shop=shop, actor=agent_person, name="n", discount_text="d")
    with pytest.raises(KefuError) as e:
        product_pair_add(shop=shop, actor=None, product_id=catalog["oil"].pk, related_id=catalog["oil"].pk)
    assert e.value.field == "related_id"
    with pytest.raises(KefuError) as e:
        product_pair_add(shop=shop, actor=None, product_id=catalog["oil"].pk, related_id=other.pk)
    assert e.value.field == "related_id"


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_api(api, shop, catalog, conv_with_items):
    r = post(api, "/api/v1/promotions", {"name": "精油节", "discount_text": "满100减10", "product_ids": [catalog["oil"].pk]})
    assert r.status_code == 201 and r.json()["product_ids"] == [catalog["oil"].pk]
    pid = r.json()["id"]
    r = post(api, f"/api/v1/promotions/{pid}", {"ends_on": "2000-01-01"})
    assert r.status_code == 200 and r.json()["ends_on"] == "2000-01-01"
    assert api.get("/api/v1/promotions?current=true").json() == []
    assert len(api.get("/api/v1/promotions").json()) == 1
    assert post(api, f"/api/v1/promotions/{pid}", {"name": None}).status_code == 400
    assert post(api, "/api/v1/promotions/999999", {"name": "x"}).status_code == 404
    assert post(api, "/api/v1/promotions", {"name": "x"}).status_code == 422
    r = post(api, "/api/v1/product-pairs", {"product_id": catalog["oil"].pk, "related_id": catalog["cream"].pk})
    assert r.status_code == 201
    r = api.get(f"/api/v1/conversations/{conv_with_items.id}/cross-sell")
    assert r.status_code == 200
    data = r.json()
    assert data["product_ids"] == [catalog["oil"].pk]
    assert [x["product_id"] for x in data["related"]][0] == catalog["cream"].pk
    assert data["related"][0]["price"] == "39.90"
    assert AuditLog.objects.filter(action="promotion.save").count() == 2


def test_prompts_partial_and_promotions_page(shop, catalog, conv_with_items, agent_person, supervisor):
    promotion_save(shop=shop, actor=None, name="精油节", discount_text="满100减10", category="精油")
    c = login(agent_person)
    r = c.get(f"/crm/prompts/{conv_with_items.id}/")
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html
    assert "精油节" in html and "薰衣草精油" in html and "买家等级" in html
    with CaptureQueriesContext(connection) as few:
        c.get(f"/crm/prompts/{conv_with_items.id}/")
    for i in range(10):
        p = Product.objects.create(shop=shop, title=f"精油{i}", category="精油")
        Sku.objects.create(shop=shop, product=p, code=f"X{i}", price=Decimal("9"))
        promotion_save(shop=shop, actor=None, name=f"活动{i}", discount_text="x", category="精油")
    with CaptureQueriesContext(connection) as many:
        c.get(f"/crm/prompts/{conv_with_items.id}/")
    assert len(many) == len(few)
    # the page: everyone reads, supervisors create
    r = c.get("/crm/promotions/")
    assert r.status_code == 200 and "精油节" in r.content.decode() and "promotion-form" not in r.content.decode()
    assert c.post("/crm/promotions/", {"name": "x", "discount_text": "y"}).status_code == 404
    s = login(supervisor)
    r = s.post("/crm/promotions/", {"name": "新活动", "discount_text": "买一送一", "product_ids": [str(catalog["mask"].pk)]})
    assert r.status_code == 302
    r = s.post("/crm/promotions/", {"name": "", "discount_text": "y"})
    assert r.status_code == 400
    r = s.post("/crm/promotions/", {"form": "pair", "product_id": str(catalog["oil"].pk),
                                    "related_id": str(catalog["mask"].pk), "note": "搭配"})
    assert r.status_code == 302
    promo = Promotion.objects.get(shop=shop, name="新活动")
    assert s.post("/crm/promotions/", {"form": "toggle", "promotion_id": str(promo.pk)}).status_code == 302
    promo.refresh_from_db()
    assert promo.active is False
    assert s.post("/crm/promotions/", {"form": "toggle", "promotion_id": "999999"}).status_code == 404
    with CaptureQueriesContext(connection) as page_q:
        r = s.get("/crm/promotions/")
    assert r.status_code == 200 and "新活动" in r.content.decode() and "搭配" in r.content.decode()
    for i in range(5):
        promotion_save(shop=shop, actor=None, name=f"再{i}", discount_text="x", product_ids=[catalog["oil"].pk])
    with CaptureQueriesContext(connection) as page_q2:
        s.get("/crm/promotions/")
    assert len(page_q2) == len(page_q)


def test_prompts_of_someone_elses_conversation_is_404(shop, conv_with_items):
    from kefu.core.services import person_create

    other = person_create(shop=shop, name="阿强", username="aq", password="pass-word-1", roles=["agent"])
    assert login(other).get(f"/crm/prompts/{conv_with_items.id}/").status_code == 404
