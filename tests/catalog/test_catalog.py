"""Stock, delist/relist and the ratings import (API and file): validation names the row and field,
and a failed import changes nothing."""

import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from kefu.catalog.models import Sku
from kefu.catalog.selectors import category_averages, sku_rows
from kefu.catalog.services import ratings_file_import, sku_delist, sku_relist, sku_stock_set
from kefu.core.errors import KefuError, PermissionDenied, ValidationFailed
from kefu.core.models import AuditLog
from kefu.core.services import person_create
from kefu.customers.models import Customer
from tests.shipping.conftest import NOW, login, order, sku


@pytest.fixture
def skus(shop):
    return [sku(shop, "A", stock=3, rating="4.80"), sku(shop, "B", stock=None, rating="4.40"),
            sku(shop, "C", category="被子")]


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_ratings_api_batch_and_category_average(shop, api, skus):
    r = post(api, "/api/v1/sku-ratings", {"ratings": [{"sku": "A", "rating": 4.9, "count": 120},
                                                        {"sku": "C", "rating": "3.5"}]})
    assert r.status_code == 200, r.content
    assert r.json() == {"updated": 2}
    a = Sku.objects.get(code="A")
    assert (a.rating, a.rating_count) == (Decimal("4.90"), 120)
    assert category_averages(shop=shop) == {"枕头": Decimal("4.65"), "被子": Decimal("3.50")}
    rows = {r.sku.code: r for r in sku_rows(shop=shop)}
    assert rows["B"].below_average and not rows["A"].below_average and not rows["C"].below_average


@pytest.mark.django_db
@pytest.mark.parametrize("bad,field", [
    ({"sku": "A", "rating": "6"}, "rating"),
    ({"sku": "A", "rating": "0.5"}, "rating"),
    ({"sku": "A", "rating": "abc"}, "rating"),
    ({"sku": "A", "rating": "4.555"}, "rating"),
    ({"sku": "A", "rating": "NaN"}, "rating"),
    ({"sku": "A"}, "rating"),
    ({"sku": "", "rating": "4"}, "sku"),
    ({"sku": ["A"], "rating": "4"}, "sku"),
    ({"sku": "A", "rating": "4", "count": -1}, "count"),
    ({"sku": "NOPE", "rating": "4"}, "sku"),
])
def test_ratings_api_bad_row_names_index_and_field_and_stores_nothing(shop, api, skus, bad, field):
    r = post(api, "/api/v1/sku-ratings", {"ratings": [{"sku": "B", "rating": "4.1"}, bad]})
    assert r.status_code == 422, r.content
    errors = r.json()["errors"]
    assert errors[0]["index"] == 1 and errors[0]["field"] == field
    assert Sku.objects.get(code="B").rating == Decimal("4.40")


@pytest.mark.django_db
def test_ratings_import_by_a_person_needs_a_supervisor(shop, skus, agent_person):
    r = post(login(agent_person), "/api/v1/sku-ratings?shop=s1", {"sku": "A", "rating": "1"})
    assert r.status_code == 403
    assert Sku.objects.get(code="A").rating == Decimal("4.80")


@pytest.mark.django_db
def test_ratings_file_import(shop, skus, tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("SKU,评分,评价数\nA,4.2,10\nB,4.6,\n", encoding="utf-8")
    assert ratings_file_import(shop=shop, path=path) == 2
    assert Sku.objects.get(code="B").rating == Decimal("4.60")
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,rating\nA,1\nC,9\nZZ,3\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        ratings_file_import(shop=shop, path=bad)
    assert [(e["row"], e["field"]) for e in exc.value.errors] == [(3, "rating")]
    assert Sku.objects.get(code="A").rating == Decimal("4.20")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("sku,rating\nA,1\nZZ,3\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        ratings_file_import(shop=shop, path=unknown)
    assert [(e["row"], e["field"]) for e in exc.value.errors] == [(3, "sku")]
    assert Sku.objects.get(code="A").rating == Decimal("4.20")
    nohead = tmp_path / "nohead.csv"
    nohead.write_text("code,stars\nA,1\n", encoding="utf-8")
    with pytest.raises(KefuError) as exc:
        ratings_file_import(shop=shop, path=nohead)
    assert exc.value.field == "header"


@pytest.mark.django_db
def test_ratings_import_command(shop, skus, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("sku,rating\nA,3.3\nB,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"row 3, rating"):
        call_command("import_ratings", str(path), "--shop", "s1")
    path.write_text("sku,rating\nA,3.3\n", encoding="utf-8")
    call_command("import_ratings", str(path), "--shop", "s1")
    assert Sku.objects.get(code="A").rating == Decimal("3.30")


@pytest.mark.django_db
def test_stock_set_adjust_and_roles(shop, skus, agent_person):
    wh = person_create(shop=shop, name="仓库", username="wh", password="pass-word-1", roles=["warehouse"], group="")
    sku_stock_set(shop=shop, code="A", actor=wh, quantity=10, note="盘点")
    sku_stock_set(shop=shop, code="A", actor=wh, delta=-4)
    assert Sku.objects.get(code="A").stock == 6
    assert list(Sku.objects.get(code="A").events.values_list("action", flat=True)) == ["stock_set", "stock_adjust"]
    assert AuditLog.objects.filter(action__startswith="sku.stock").count() == 2
    with pytest.raises(KefuError) as exc:
        sku_stock_set(shop=shop, code="A", actor=wh, delta=-7)
    assert exc.value.field == "delta"
    with pytest.raises(KefuError) as exc:
        sku_stock_set(shop=shop, code="A", actor=wh, quantity=-1)
    assert exc.value.field == "quantity"
    with pytest.raises(PermissionDenied):
        sku_stock_set(shop=shop, code="A", actor=agent_person, quantity=1)


@pytest.mark.django_db
def test_stock_api_and_oversold_position(shop, api, skus):
    customer = Customer.objects.create(shop=shop, buyer_id="b1")
    order(shop, customer, "o1", paid_at=NOW, items=[("A", 2)])
    order(shop, customer, "o2", paid_at=NOW, items=[("A", 3)])
    r = post(api, "/api/v1/skus/A/stock", {"quantity": 4})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["stock"], body["pending"], body["available"]) == (4, 5, -1)
    r = post(api, "/api/v1/skus/A/stock", {"quantity": "lots"})
    assert r.status_code == 422
    r = post(api, "/api/v1/skus/A/stock", {})
    assert r.status_code == 400 and r.json()["field"] == "quantity"
    assert post(api, "/api/v1/skus/NOPE/stock", {"quantity": 1}).status_code == 404
    r = api.get("/api/v1/skus?only=short")
    assert [s["code"] for s in r.json()] == ["A"]


@pytest.mark.django_db
def test_delist_and_relist(shop, api, skus):
    r = post(api, "/api/v1/skus/A/delist", {"note": "断货"})
    assert r.status_code == 200 and r.json()["listed"] is False
    assert post(api, "/api/v1/skus/A/delist", {}).status_code == 400
    log = AuditLog.objects.get(action="sku.delist")
    assert log.after["note"] == "断货"
    sku_relist(shop=shop, code="A", actor=None)
    assert Sku.objects.get(code="A").listed
    sku_delist(shop=shop, code="A", actor=None)
    assert list(Sku.objects.get(code="A").events.values_list("action", flat=True)) == ["delist", "relist", "delist"]


@pytest.mark.django_db
def test_platform_category_average_wins_over_the_shops_own(shop, api, skus):
    r = post(api, "/api/v1/sku-ratings", {"ratings": [{"sku": "A", "rating": "4.6", "category_average": "4.7"},
                                                        {"sku": "B", "rating": "4.8", "category_average": "4.7"}]})
    assert r.status_code == 200
    rows = {r.sku.code: r for r in sku_rows(shop=shop)}
    assert rows["A"].below_average and rows["A"].category_average == Decimal("4.70")
    assert not rows["B"].below_average
    r = post(api, "/api/v1/sku-ratings", {"sku": "A", "rating": "4.6", "category_average": "9"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "category_average"
