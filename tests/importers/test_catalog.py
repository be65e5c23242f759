"""Catalogue import (IN-5): products, SKUs, categories, batches and stock from a file (CLI and page) and
the API; all or nothing; idempotent by the shop's ids; what uses the catalogue sees it."""

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from kefu.aftersales.selectors import category_of, windows_for
from kefu.catalog.models import Batch, Category, Product, Sku, SkuEvent
from kefu.core.models import AuditLog
from kefu.core.services import person_create
from kefu.importers.models import ImportRun
from kefu.orders.services import orders_clean, orders_upsert

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
GENERIC = FIXTURES / "catalog_generic.csv"
SHOPIFY = FIXTURES / "catalog_shopify.csv"
TAOBAO = FIXTURES / "catalog_taobao.csv"


def run(path, fmt="generic"):
    out = io.StringIO()
    call_command("import", "catalog", str(path), shop="s1", format=fmt, stdout=out)
    return out.getvalue()


def snapshot(shop):
    """Everything the catalogue import writes, to prove a failed import wrote nothing."""
    return (list(Category.objects.filter(shop=shop).values_list("path", flat=True)),
            list(Product.objects.filter(shop=shop).values_list("external_id", "title", "category")),
            list(Sku.objects.filter(shop=shop).values_list("code", "product_id", "price", "stock", "listed")),
            list(Batch.objects.filter(shop=shop).values_list("code", "quantity")),
            SkuEvent.objects.filter(shop=shop).count(), ImportRun.objects.filter(shop=shop).count())


def file_rows(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_generic_file_imports_everything_and_matches_an_independent_reading(shop):
    out = run(GENERIC)
    rows = file_rows(GENERIC)
    # independent reading of the file: plain loops over the CSV
    paths = {r["类目"] for r in rows if r["类目"]}
    all_paths = {"/".join(p.split("/")[: i + 1]) for p in paths for i in range(p.count("/") + 1)}
    stock: dict[str, int] = {}
    for r in rows:
        if r["库存"]:
            stock[r["商家编码"]] = stock.get(r["商家编码"], 0) + int(r["库存"])
    assert set(Category.objects.filter(shop=shop).values_list("path", flat=True)) == all_paths
    assert Product.objects.filter(shop=shop).count() == len({r["商品ID"] for r in rows})
    assert Sku.objects.filter(shop=shop).count() == len({r["商家编码"] for r in rows})
    assert {s.code: s.stock for s in Sku.objects.filter(shop=shop)} == {**stock, "NN07-2": None}
    assert sum(s.stock or 0 for s in Sku.objects.filter(shop=shop)) == sum(int(r["库存"]) for r in rows if r["库存"])
    assert Batch.objects.filter(shop=shop).count() == len({(r["商家编码"], r["批次"]) for r in rows if r["批次"]})
    nn031 = Sku.objects.get(shop=shop, code="NN03-1")
    assert nn031.stock == 65 and nn031.product.category == "枕头" and nn031.price == Decimal("139.00")
    assert {b.code: (b.quantity, str(b.produced_on), str(b.expires_on)) for b in nn031.batches.all()} == {
        "B20260901": (40, "2026-09-01", "2029-08-31"), "B20261015": (25, "2026-10-15", "2029-10-14")}
    # title and category come from the product's first row; the later rows of 6001 leave them blank
    assert Sku.objects.get(shop=shop, code="NN01-3").product.title == "暖暖家居 100支长绒棉四件套 纯棉床单被套"
    assert not Sku.objects.get(shop=shop, code="NN01-3").listed
    assert not Sku.objects.get(shop=shop, code="NN07-2").listed
    assert Category.objects.get(shop=shop, path="床上用品/枕头").parent.path == "床上用品"
    run_row = ImportRun.objects.get(shop=shop, kind="catalog")
    assert run_row.rows_total == len(rows) and run_row.state == "done"
    assert "products 3 created" in out and "SKUs 7 created" in out and "batches 3 created" in out
    assert AuditLog.objects.filter(shop=shop, action="catalog.import").count() == 1
    # stock set on every SKU with a stock figure is on the SKU's timeline
    assert SkuEvent.objects.filter(shop=shop, action="stock_set").count() == len(stock)


def test_reimport_changes_nothing_and_a_change_updates_only_what_changed(shop, tmp_path):
    run(GENERIC)
    before = snapshot(shop)
    out = run(GENERIC)
    after = snapshot(shop)
    assert before[:5] == after[:5]  # one more ImportRun, nothing else
    assert "products 0 created, 0 updated, 3 unchanged" in out and "SKUs 0 created, 0 updated, 7 unchanged" in out
    assert "batches 0 created, 0 updated, 3 unchanged" in out and "stock changed on 0 SKU(s)" in out
    text = GENERIC.read_text(encoding="utf-8").replace("NN07-1,三条装 混色,39.90,500", "NN07-1,三条装 混色,42.00,480")
    changed = tmp_path / "c.csv"
    changed.write_text(text, encoding="utf-8")
    out = run(changed)
    assert "SKUs 0 created, 1 updated, 6 unchanged" in out
    sku = Sku.objects.get(shop=shop, code="NN07-1")
    assert sku.stock == 480 and sku.price == Decimal("42.00")
    ev = SkuEvent.objects.filter(sku=sku, action="stock_set").last()
    assert ev.before == {"stock": 500} and ev.after == {"stock": 480}


def test_shopify_product_export(shop):
    out = run(SHOPIFY, "shopify")
    skus = {s.code: s for s in Sku.objects.filter(shop=shop).select_related("product")}
    assert set(skus) == {"LDC-Q-SAND", "LDC-Q-GREY", "LDC-K-SAND", "CBT-70", "WDD-Q"}  # the image-only line skipped
    assert skus["LDC-K-SAND"].product.title == "Linen Duvet Cover" and skus["LDC-K-SAND"].title == "King / Sand"
    assert skus["CBT-70"].title == "" and skus["CBT-70"].stock == 230 and skus["CBT-70"].price == Decimal("19.50")
    assert skus["LDC-Q-SAND"].product.category == "Duvet Covers"
    assert skus["LDC-Q-GREY"].listed and not skus["WDD-Q"].listed  # draft is not on sale
    assert Category.objects.filter(shop=shop, path="Home & Garden/Linens & Bedding/Bedding/Duvet Covers").exists()
    # independent sum of the file's inventory column over variant lines
    total = sum(int(r["Variant Inventory Qty"]) for r in file_rows(SHOPIFY) if r["Variant SKU"])
    assert sum(s.stock for s in skus.values()) == total
    assert "products 3 created" in out


def test_taobao_assistant_item_file(shop, tmp_path):
    """淘宝助理's 宝贝 file (UTF-16, tabs, three header lines, SKUs packed in 销售属性组合)."""
    out = run(TAOBAO, "taobao")
    skus = {s.code: s for s in Sku.objects.filter(shop=shop).select_related("product")}
    # an independent reading: the lines after the Chinese header, cells by tab; each SKU of
    # 销售属性组合 is a part with five ':' fields (price:qty:code:pid:vid), else the item is one SKU
    lines = TAOBAO.read_bytes().decode("utf-16").splitlines()
    head = lines[2].split("\t")
    want = {}
    for line in lines[3:]:
        cells = dict(zip(head, (c.strip('"') for c in line.split("\t")), strict=True))
        parts = [p.split(":") for p in cells["销售属性组合"].split(";") if len(p.split(":")) == 5]
        for price, qty, code, _pid, _vid in parts or [[cells["宝贝价格"], cells["宝贝数量"], cells["商家编码"], "", ""]]:
            want[code] = (cells["数字ID"], cells["宝贝名称"], Decimal(price), int(qty), cells["放入仓库"] != "1")
    assert {c: (s.product.external_id, s.product.title, s.price, s.stock, s.listed) for c, s in skus.items()} == want
    assert sum(s.stock for s in skus.values()) == sum(w[3] for w in want.values()) == 35 + 40 + 0
    assert skus["TB-SJT-18-GREY"].title == "浅灰 1.8m床" and skus["TB-RJZ"].title == ""
    assert "products 3 created" in out and not Category.objects.filter(shop=shop).exists()  # ids, not names
    assert run(TAOBAO, "taobao").count("unchanged") >= 1 and Sku.objects.filter(shop=shop).count() == len(want)
    # a SKU without its code names the line and the column; nothing written
    bad = tmp_path / "bad.csv"
    bad.write_bytes(TAOBAO.read_bytes().decode("utf-16").replace(":TB-SJT-15-GREY:", "::").encode("utf-16"))
    before = snapshot(shop)
    with pytest.raises(CommandError, match=r"row 4.*销售属性组合.*SKU 2 has no 商家编码"):
        run(bad, "taobao")
    assert snapshot(shop) == before


def test_orders_then_catalogue_gives_order_skus_their_product_and_category_window(shop):
    from kefu.aftersales.models import CategoryPolicy

    rows = orders_clean([{"order_id": "T1", "buyer_id": "b1", "created_at": "2026-11-01 10:00:00",
                          "total_amount": "139", "paid_amount": "139", "items": "NN03-1:1:139"}], tz=shop.tz)
    orders_upsert(shop=shop, rows=rows)
    assert Sku.objects.get(shop=shop, code="NN03-1").product is None
    assert category_of(shop, "NN03-1") == ""
    CategoryPolicy.objects.create(shop=shop, category="枕头", return_days=15, quality_days=30)
    run(GENERIC)
    assert Sku.objects.filter(shop=shop, code="NN03-1").count() == 1
    assert category_of(shop, "NN03-1") == "枕头"
    assert windows_for(shop=shop, category=category_of(shop, "NN03-1"), signed_at=None)["return_days"] == 15


def test_a_product_known_without_id_is_adopted_not_doubled(shop):
    p = Product.objects.create(shop=shop, title="旧标题", category="枕头")
    Sku.objects.create(shop=shop, code="NN03-1", product=p)
    Sku.objects.create(shop=shop, code="NN03-2", product=p)
    run(GENERIC)
    p.refresh_from_db()
    assert p.external_id == "6003" and p.title == "暖暖家居 泰国天然乳胶枕 护颈椎单人枕芯"
    assert Product.objects.filter(shop=shop).count() == 3


BAD = """商品ID,宝贝标题,类目,商家编码,规格,价格,库存,状态,批次,生产日期,有效期至
7001,好枕头,枕头,K1,,12.00,5,出售中,,,
7001,别的标题,,K2,,10,3,出售中,,,
7002,被子,被子,K1,,10,1,出售中,,,
7003,枕套,,K3,,10,1,买一送一,,,
7004,毯子,毛毯,K4,,10,1,,B1,2026-13-01,
7004,毯子,毛毯,K4,,10,1,,,,
7004,毯子,毛毯,K4,,10,1,,B3,,
7005,浴巾,毛巾,,,10,1,,,,
7006,地垫,地垫,K6,,10,1,,B2,2026-05-01,2026-04-01
7007,毯,,K7,,12.345,1,,,,
7007,毯,,K7b,,10,-3,,,,
7008,,,K8,,1,1,,,,
"""


def test_bad_file_names_every_row_and_column_and_writes_nothing(shop, tmp_path):
    run(GENERIC)
    before = snapshot(shop)
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD, encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run(bad)
    msg = str(exc.value)
    assert msg.startswith("nothing imported")
    for expected in ("row 3, 宝贝标题: product 7001 has product_title '好枕头' on line 2",
                     "row 4, 商品ID: SKU K1 is under product 7001 on line 2", "row 5, 状态: unknown status",
                     "row 6, 生产日期: not a date", "row 8, 批次: SKU K4 has rows with and without a batch",
                     "row 9, 商家编码: required", "row 10, 有效期至: expires before it was produced",
                     "row 11, 价格: at most 2 decimals", "row 12, 库存: cannot be negative",
                     "row 13, 宝贝标题: product 7008 has no title"):
        assert expected in msg, (expected, msg)
    assert snapshot(shop) == before


@pytest.mark.parametrize("text,fmt,expected", [
    ("name,price\nx,1\n", "generic", "lacks the column(s): product_id, sku"),
    ("Handle,Title,Variant SKU\nh,T,S1\n", "generic", "looks like the shopify format"),
    ("商品ID,商家编码\n", "generic", "no rows"),
    ("商品ID,商家编码\n1,A\n", "jd", "unknown catalogue format"),
    ("商品ID,商家编码\n1,A\n", "taobao", "not a 淘宝助理 file: no 宝贝名称 header"),
    ('商品ID,商家编码\n1,"A\n', "generic", "unterminated"),
])
def test_unreadable_files_are_refused_with_a_reason(shop, tmp_path, text, fmt, expected):
    f = tmp_path / "f.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run(f, fmt)
    assert expected in str(exc.value)
    assert snapshot(shop) == ([], [], [], [], 0, 0)


def test_xlsx_with_date_cells(shop, tmp_path):
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["商品ID", "宝贝标题", "商家编码", "库存", "批次", "生产日期"])
    ws.append([8001, "乳胶枕", "X1", 10, "B9", dt.datetime(2026, 8, 1)])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    run(path)
    b = Batch.objects.get(shop=shop, code="B9")
    assert str(b.produced_on) == "2026-08-01" and b.quantity == 10 and b.sku.product.external_id == "8001"


# ---------------------------------------------------------------- API

def test_api_import_is_idempotent_and_lists_the_catalogue(shop, api, django_assert_max_num_queries):
    items = [{"product_id": "9001", "product_title": "纯棉毛巾", "category": "浴室用品 > 毛巾浴巾", "sku": "T-1",
              "price": "39.90", "stock": 5, "listed": True},
             {"product_id": "9001", "sku": "T-2", "price": "59.90", "stock": 3, "batch": "B1",
              "produced_on": "2026-10-01"}]
    r = api.post("/api/v1/catalog/import?shop=s1", data=json.dumps({"items": items}), content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["skus"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert r.json()["categories"]["created"] == 2
    again = api.post("/api/v1/catalog/import", data=json.dumps({"items": items}), content_type="application/json").json()
    assert again["skus"] == {"created": 0, "updated": 0, "unchanged": 2} and again["products"]["unchanged"] == 1
    for i in range(20):
        api.post("/api/v1/catalog/import", data=json.dumps({"product_id": f"P{i}", "product_title": f"商品{i}",
                                                             "sku": f"S{i}", "batch": "B", "stock": i}),
                 content_type="application/json")
    with django_assert_max_num_queries(6):
        listed = api.get("/api/v1/catalog/products?limit=500")
    assert listed.status_code == 200 and len(listed.json()) == 21
    towel = next(p for p in listed.json() if p["product_id"] == "9001")
    assert towel["category_path"] == "浴室用品/毛巾浴巾" and [s["code"] for s in towel["skus"]] == ["T-1", "T-2"]
    assert towel["skus"][1]["batches"] == [{"code": "B1", "produced_on": "2026-10-01", "expires_on": None,
                                            "quantity": 3}]
    cats = api.get("/api/v1/catalog/categories").json()
    assert {"path": "浴室用品/毛巾浴巾", "name": "毛巾浴巾", "products": 1} in cats


def test_api_bad_rows_are_named_and_nothing_is_stored(shop, api):
    items = [{"product_id": "1", "product_title": "a", "sku": "A", "price": "abc"},
             {"product_id": "1", "sku": "B", "stock": 2, "colour": "red"}]
    r = api.post("/api/v1/catalog/import", data=json.dumps({"items": items}), content_type="application/json")
    assert r.status_code in (400, 422)
    errors = r.json()["errors"] if "errors" in r.json() else r.json()["detail"]
    assert {(e["row"], e["field"]) for e in errors} >= {(0, "price"), (1, "colour")}
    assert not Sku.objects.filter(shop=shop).exists() and not Product.objects.filter(shop=shop).exists()


def test_api_agent_cannot_import(shop):
    person_create(shop=shop, name="小美", username="am", password="pass-word-1", roles=["agent"])
    c = Client()
    assert c.login(username="am", password="pass-word-1")
    r = c.post("/api/v1/catalog/import?shop=s1", data=json.dumps({"product_id": "1", "product_title": "a", "sku": "A"}),
               content_type="application/json")
    assert r.status_code == 403
    assert not Sku.objects.filter(shop=shop).exists()


# ---------------------------------------------------------------- page

def test_page_upload_as_manager_and_refusals(shop, manager_client, agent_person):
    page = manager_client.get("/integrations/catalog/")
    assert page.status_code == 200 and "还没有商品" in page.content.decode()
    with open(GENERIC, "rb") as f:
        r = manager_client.post("/integrations/catalog/", {"file": f, "format": "generic"})
    body = r.content.decode()
    assert r.status_code == 200 and "catalog-result" in body and "NN03-1" in body and "B20261015" in body
    assert Sku.objects.filter(shop=shop).count() == 7
    before = snapshot(shop)
    bad = io.BytesIO(BAD.encode())
    bad.name = "bad.csv"
    r = manager_client.post("/integrations/catalog/", {"file": bad, "format": "generic"})
    assert r.status_code == 400 and "catalog-error" in r.content.decode() and "第 3 行" in r.content.decode()
    assert snapshot(shop) == before
    agent = Client()
    agent.force_login(agent_person.user)
    assert agent.get("/integrations/catalog/").status_code == 404
    with open(GENERIC, "rb") as f:
        assert agent.post("/integrations/catalog/", {"file": f}).status_code == 404


# ---------------------------------------------------------------- what uses the catalogue

def test_script_product_variable_falls_back_to_the_catalogue_title(shop):
    from kefu.orders.models import Order
    from kefu.replies.selectors import script_context

    rows = orders_clean([{"order_id": "J1", "buyer_id": "b1", "created_at": "2026-11-01 10:00:00",
                          "total_amount": "259", "paid_amount": "259", "items": "NN03-2:1:259"}], tz=shop.tz)
    orders_upsert(shop=shop, rows=rows)
    order = Order.objects.get(shop=shop, order_id="J1")
    assert script_context(shop=shop, order=order)["product"] == ""
    run(GENERIC)
    assert script_context(shop=shop, order=order)["product"] == "暖暖家居 泰国天然乳胶枕 护颈椎单人枕芯"
    Order.objects.filter(pk=order.pk).update(title="订单自己的标题")
    order.refresh_from_db()
    assert script_context(shop=shop, order=order)["product"] == "订单自己的标题"


def test_production_alert_shows_the_imported_batch(shop, api):
    from django.utils import timezone

    from kefu.defects.models import ProductionAlert

    now = timezone.now()
    alert = ProductionAlert.objects.create(shop=shop, sku="NN03-1", batch="B20261015", reason="quality", threshold=3,
                                           window_days=7, first_case_at=now, last_case_at=now)
    assert api.get(f"/api/v1/defects/alerts/{alert.pk}").json()["batch_info"] is None
    run(GENERIC)
    info = api.get(f"/api/v1/defects/alerts/{alert.pk}").json()["batch_info"]
    assert info == {"code": "B20261015", "produced_on": "2026-10-15", "expires_on": "2029-10-14", "quantity": 25}


def test_many_bad_rows_are_all_counted_and_the_first_twenty_listed(shop, tmp_path):
    bad = tmp_path / "many.csv"
    bad.write_text("商品ID,宝贝标题,类目,商家编码,颜色分类,价格,库存\n"
                   + "".join(f"{9000 + i},好枕头,家居,M{i},,1,-1\n" for i in range(25)), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run(bad)
    msg = str(exc.value)
    assert msg.startswith("nothing imported: 25 bad row(s)\n")
    assert "row 21, 库存: cannot be negative" in msg and "row 22," not in msg
    assert msg.endswith("… and 5 more")
