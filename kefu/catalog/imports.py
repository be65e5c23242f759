"""Catalogue import (IN-5): products, SKUs, categories, batches and stock from a file or the API.

One row per SKU (or per SKU and batch). Every row is checked first and all problems are reported
at once, naming the row and the column; then the whole file is written in one transaction, so a
failed import changes nothing. Writes are upserts by the shop's own ids — the product id
(商品ID/款式编码/Shopify Handle), the SKU code (商家编码/Variant SKU) and the batch code — so
importing the same file twice changes nothing the second time.

What uses the catalogue: order lines and reviews name SKUs by code (an order import creates bare
SKUs; the catalogue gives them their product, title, category and price); the category return
windows and the category rating averages match Product.category; the stock page and the
late-shipment check read Sku.stock; the production alerts show a batch's size and dates; the
script variable {商品} falls back to the catalogue's product title.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from kefu.core.access import user_of
from kefu.core.enums import Role
from kefu.core.errors import KefuError, PermissionDenied, ValidationFailed, row_number
from kefu.core.inputs import cell_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .models import Batch, Category, Product, Sku, SkuEvent
from .services import STOCK_MAX

# Who may import the catalogue: the warehouse, supervisors and up (an integration token may too).
IMPORT_ROLES = (Role.WAREHOUSE, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
FIELDS = ("product_id", "product_title", "category", "sku", "sku_title", "price", "stock", "listed", "batch",
          "produced_on", "expires_on")
PRICE_MAX = Decimal("9999999999.99")

# Kefu's own columns (Chinese or English); `sku` and `product_id` are required.
GENERIC = {
    "product_id": ("product_id", "商品ID", "商品id", "宝贝ID", "宝贝id", "款式编码"),
    "product_title": ("product_title", "title", "宝贝标题", "商品标题", "商品名称", "宝贝名称"),
    "category": ("category", "类目", "商品类目", "分类", "宝贝类目"),
    "sku": ("sku", "SKU", "sku_code", "商家编码", "商品编码", "SKU编码", "sku编码"),
    "sku_title": ("sku_title", "spec", "规格", "销售属性", "颜色及规格", "sku名称", "SKU名称"),
    "price": ("price", "价格", "售价", "基本售价", "一口价"),
    "stock": ("stock", "库存", "可售库存", "实际库存"),
    "listed": ("listed", "status", "状态", "上架状态", "商品状态"),
    "batch": ("batch", "批次", "批次号"),
    "produced_on": ("produced_on", "生产日期"),
    "expires_on": ("expires_on", "有效期至", "到期日期", "过期日期"),
}
# Shopify's product CSV (Products > Export; help.shopify.com/en/manual/products/import-export/using-csv):
# one line per variant, the handle repeated and Title only on a product's first line; lines that
# carry only an extra image have no variant and are skipped. The classic export's names (Handle,
# Variant SKU, Variant Price, Variant Inventory Qty) and the current one's (URL handle, SKU, Price,
# Inventory quantity) are both read.
SHOPIFY = {
    "product_id": ("Handle", "URL handle"),
    "product_title": ("Title",),
    "category": ("Product Category", "Product category", "Type"),
    "sku": ("Variant SKU", "SKU"),
    "price": ("Variant Price", "Price"),
    "stock": ("Variant Inventory Qty", "Inventory quantity"),
    "listed": ("Status", "Published"),
}
SHOPIFY_OPTIONS = (("Option1 Value", "Option1 value"), ("Option2 Value", "Option2 value"),
                   ("Option3 Value", "Option3 value"))
FORMATS = {"generic": GENERIC, "shopify": SHOPIFY}
FILE_FORMATS = (*FORMATS, "taobao")  # taobao: 淘宝助理's 宝贝 file, read by kefu.catalog.taobao

LISTED = {"1", "true", "yes", "y", "on", "active", "是", "在售", "出售中", "上架", "已上架", "销售中"}
UNLISTED = {"0", "false", "no", "n", "off", "draft", "archived", "否", "下架", "已下架", "仓库中", "停售", "未上架"}
CATEGORY_SPLIT = re.compile(r"\s*(?:>|/|》|＞)\s*")


def can_import_catalog(member: Agent | None) -> bool:
    return member is None or member.has_role(*IMPORT_ROLES)


# ---------------------------------------------------------------- reading a file

def columns_for(fmt: str, headers: list[str]) -> dict[str, str]:
    """field → the file's column that holds it (the first alias present)."""
    if fmt not in FORMATS:
        raise KefuError(f"unknown catalogue format {fmt!r}; known: {', '.join(FORMATS)}", field="format")
    present = set(headers)
    cols = {}
    for name, aliases in FORMATS[fmt].items():
        hit = next((a for a in aliases if a in present), None)
        if hit:
            cols[name] = hit
    missing = [FORMATS[fmt][f][0] for f in ("product_id", "sku") if f not in cols]
    if missing:
        other = "shopify" if fmt == "generic" else "generic"
        hint = ""
        if all(any(a in present for a in FORMATS[other][f]) for f in ("product_id", "sku")):
            hint = f"; it looks like the {other} format (--format {other})"
        raise KefuError(f"the file lacks the column(s): {', '.join(missing)}{hint}", field="header")
    return cols


def map_file_rows(fmt: str, headers: list[str], raw: list[dict]) -> tuple[list[dict], dict[str, str]]:
    """Rows with Kefu's field names (and `_line`), and field → column for naming errors."""
    cols = columns_for(fmt, headers)
    rows = []
    last_title: dict[str, object] = {}
    last_status: dict[str, str] = {}
    for r in raw:
        row = {name: r.get(col, "") for name, col in cols.items()}
        row["_line"] = r["_line"]
        if fmt == "shopify":
            handle = str(row.get("product_id") or "").strip()
            options = [next((str(r.get(c) or "").strip() for c in pair if c in r), "") for pair in SHOPIFY_OPTIONS]
            if not any(str(row.get(f) or "").strip() for f in ("sku", "price")) and not any(options):
                continue  # an image-only line of the product
            # Title (and the product's columns) come only on the product's first line
            if str(row.get("product_title") or "").strip():
                last_title[handle] = row.get("product_title")
            else:
                row["product_title"] = last_title.get(handle, "")
            row["sku_title"] = " / ".join(o for o in options if o and o != "Default Title")
            # Status (active/draft/archived) is the product's, on its first line; Published (TRUE/FALSE) too
            status = str(r.get("Status") or r.get("Published") or "").strip()
            if status:
                last_status[handle] = status
            row["listed"] = status or last_status.get(handle, "")
        rows.append(row)
    names = dict(cols)
    if fmt == "shopify":
        names["sku_title"] = "Option1 Value"
        names["listed"] = "Status" if "Status" in headers else "Published"
    return rows, names


# ---------------------------------------------------------------- checking rows

def _text(raw: dict, name: str, max_len: int) -> str:
    value = cell_text(raw, name)
    if len(value) > max_len:
        raise KefuError(f"at most {max_len} characters", field=name)
    return value


def _date(raw: dict, name: str) -> dt.date | None:
    v = raw.get(name)
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    text = cell_text(raw, name)
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise KefuError(f"not a date (YYYY-MM-DD): {text!r}", field=name)


def _whole(raw: dict, name: str) -> int | None:
    text = cell_text(raw, name).replace(",", "")
    if not text:
        return None
    if not re.fullmatch(r"-?\d+", text):
        raise KefuError(f"must be a whole number, got {text!r}", field=name)
    value = int(text)
    if value < 0:
        raise KefuError("cannot be negative", field=name)
    if value > STOCK_MAX:
        raise KefuError(f"at most {STOCK_MAX}", field=name)
    return value


def _price(raw: dict, name: str) -> Decimal | None:
    text = cell_text(raw, name).replace(",", "").lstrip("¥￥")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise KefuError(f"not a number: {text!r}", field=name) from exc
    if not value.is_finite() or value < 0 or value > PRICE_MAX:
        raise KefuError(f"must be between 0 and {PRICE_MAX}", field=name)
    if value != value.quantize(Decimal("0.01")):
        raise KefuError("at most 2 decimals", field=name)
    return value.quantize(Decimal("0.01"))


def _listed(raw: dict, name: str) -> bool | None:
    v = raw.get(name)
    if isinstance(v, bool):
        return v
    text = cell_text(raw, name).lower()
    if not text:
        return None
    if text in LISTED:
        return True
    if text in UNLISTED:
        return False
    raise KefuError(f"unknown status {text!r}; use 在售/出售中/active or 下架/仓库中/draft/archived", field=name)


def category_path(text: str) -> str:
    parts = [p for p in CATEGORY_SPLIT.split(text.strip()) if p]
    if any(len(p) > 80 for p in parts):
        raise KefuError("a category name has at most 80 characters", field="category")
    path = "/".join(parts)
    if len(path) > 400:
        raise KefuError("at most 400 characters", field="category")
    return path


def row_clean(raw: dict) -> dict:
    if not isinstance(raw, dict):
        raise KefuError("must be an object", field="row")
    unknown = sorted(k for k in raw if k not in FIELDS and k != "_line")
    if unknown:
        raise KefuError(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
    out = {"product_id": _text(raw, "product_id", 80), "product_title": _text(raw, "product_title", 200),
           "category": category_path(_text(raw, "category", 400)), "sku": _text(raw, "sku", 80),
           "sku_title": _text(raw, "sku_title", 200), "price": _price(raw, "price"), "stock": _whole(raw, "stock"),
           "listed": _listed(raw, "listed"), "batch": _text(raw, "batch", 60),
           "produced_on": _date(raw, "produced_on"), "expires_on": _date(raw, "expires_on")}
    if not out["product_id"]:
        raise KefuError("required (the shop's product id)", field="product_id")
    if not out["sku"]:
        raise KefuError("required (the SKU code that order lines use)", field="sku")
    if not out["batch"] and (out["produced_on"] or out["expires_on"]):
        raise KefuError("a production or expiry date needs a batch code", field="batch")
    if out["produced_on"] and out["expires_on"] and out["expires_on"] < out["produced_on"]:
        raise KefuError("expires before it was produced", field="expires_on")
    return out


def catalog_clean(raws: list, *, first_row: int = 0, names: dict[str, str] | None = None) -> list[dict]:
    """Every row checked, then the rows checked against each other; all problems at once as
    ValidationFailed (row, field, message). `names` maps a field to the file's column for messages."""
    names = names or {}
    rows, errors = [], []

    def fail(row: int, fname: str, message: str) -> None:
        errors.append({"row": row, "field": names.get(fname, fname), "message": message})

    for i, raw in enumerate(raws):
        line = row_number(raw, first_row + i)
        try:
            row = row_clean(raw)
        except KefuError as exc:
            fail(line, exc.field or "row", exc.message)
            continue
        row["_line"] = line
        rows.append(row)
    # Rows against each other: one product per SKU, one title/category per product, a SKU once (or
    # once per batch, never both with and without batches), one stock figure per batch.
    product_of: dict[str, tuple[str, int]] = {}
    facts: dict[tuple[str, str], tuple[str, int]] = {}
    seen: dict[tuple[str, str], int] = {}
    batched: dict[str, bool] = {}
    for r in rows:
        line = r["_line"]
        pid, code = r["product_id"], r["sku"]
        if code in product_of and product_of[code][0] != pid:
            fail(line, "product_id", f"SKU {code} is under product {product_of[code][0]} on line {product_of[code][1]}")
        product_of.setdefault(code, (pid, line))
        for f in ("product_title", "category"):
            if r[f]:
                first = facts.setdefault((pid, f), (r[f], line))
                if first[0] != r[f]:
                    fail(line, f, f"product {pid} has {f} {first[0]!r} on line {first[1]}")
        key = (code, r["batch"])
        if key in seen:
            what = f"batch {r['batch']} of SKU {code}" if r["batch"] else f"SKU {code}"
            fail(line, "batch" if r["batch"] else "sku", f"{what} is on line {seen[key]} already")
        seen.setdefault(key, line)
        has_batch = bool(r["batch"])
        if batched.setdefault(code, has_batch) != has_batch:
            fail(line, "batch", f"SKU {code} has rows with and without a batch code; give every row a batch")
    missing = {pid for pid, _ in product_of.values()} - {pid for pid, f in facts if f == "product_title"}
    for r in rows:
        if r["product_id"] in missing:
            fail(r["_line"], "product_title", f"product {r['product_id']} has no title on any row")
            missing.discard(r["product_id"])
    if not raws:
        errors.append({"row": first_row, "field": "file", "message": "no rows"})
    if errors:
        raise ValidationFailed(sorted(errors, key=lambda e: (e["row"], e["field"])))
    return rows


# ---------------------------------------------------------------- writing

@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class CatalogResult:
    rows: int = 0
    categories: Counts = field(default_factory=Counts)
    products: Counts = field(default_factory=Counts)
    skus: Counts = field(default_factory=Counts)
    batches: Counts = field(default_factory=Counts)
    stock_changes: int = 0
    listing_changes: int = 0
    run_id: int | None = None

    @property
    def created(self) -> int:
        return sum(c.created for c in (self.categories, self.products, self.skus, self.batches))

    @property
    def updated(self) -> int:
        return sum(c.updated for c in (self.categories, self.products, self.skus, self.batches))

    @property
    def unchanged(self) -> int:
        return sum(c.unchanged for c in (self.categories, self.products, self.skus, self.batches))

    def as_dict(self) -> dict:
        return {"rows": self.rows, "categories": self.categories.as_dict(), "products": self.products.as_dict(),
                "skus": self.skus.as_dict(), "batches": self.batches.as_dict(),
                "stock_changes": self.stock_changes, "listing_changes": self.listing_changes}

    def summary(self) -> str:
        def part(name, c):
            return f"{name} {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
        return "; ".join([part("categories", self.categories), part("products", self.products),
                          part("SKUs", self.skus), part("batches", self.batches)]) + \
            f"; stock changed on {self.stock_changes} SKU(s), listing on {self.listing_changes}"


def _categories(shop: Shop, paths: set[str], result: CatalogResult) -> None:
    wanted = set()
    for p in paths:
        parts = p.split("/")
        wanted |= {"/".join(parts[: i + 1]) for i in range(len(parts))}
    have = {c.path: c for c in Category.objects.filter(shop=shop, path__in=wanted)}
    result.categories.unchanged += len(have)
    for path in sorted(wanted, key=lambda p: (p.count("/"), p)):  # parents first
        if path in have:
            continue
        parent = have.get(path.rpartition("/")[0]) if "/" in path else None
        have[path] = Category.objects.create(shop=shop, path=path, name=path.rpartition("/")[2], parent=parent)
        result.categories.created += 1


def _products(shop: Shop, rows: list[dict], result: CatalogResult) -> dict[str, Product]:
    facts: dict[str, dict] = {}
    skus_of: dict[str, set] = {}
    for r in rows:
        f = facts.setdefault(r["product_id"], {"title": "", "category": ""})
        f["title"] = f["title"] or r["product_title"]
        f["category"] = f["category"] or r["category"]
        skus_of.setdefault(r["product_id"], set()).add(r["sku"])
    products = {p.external_id: p for p in Product.objects.select_for_update().filter(shop=shop, external_id__in=facts)}
    # A product first known without an id (the demo's, or one typed in) is adopted when all of this
    # product's SKUs already hang under it: the import gives it its id instead of a twin.
    unowned = {code: pid for code, pid in Sku.objects.filter(
        shop=shop, code__in={c for s in skus_of.values() for c in s}, product__external_id="")
        .values_list("code", "product_id")}
    adopted: set[int] = set()
    for pid, f in facts.items():
        leaf = f["category"].rpartition("/")[2]
        product = products.get(pid)
        if product is None:
            owners = {unowned.get(c) for c in skus_of[pid]}
            if len(owners) == 1 and None not in owners and not owners & adopted:
                adopted |= owners
                product = Product.objects.select_for_update().get(pk=owners.pop())
                product.external_id = pid
                product.save(update_fields=["external_id"])
        if product is None:
            products[pid] = Product.objects.create(shop=shop, external_id=pid, title=f["title"], category=leaf)
            result.products.created += 1
            continue
        products[pid] = product
        # a blank category in the file keeps the one the product has
        new = {"title": f["title"], "category": leaf if f["category"] else product.category}
        if all(getattr(product, k) == v for k, v in new.items()) and product.pk not in adopted:
            result.products.unchanged += 1
            continue
        for k, v in new.items():
            setattr(product, k, v)
        product.save(update_fields=["title", "category"])
        result.products.updated += 1
    return products


def _skus(shop: Shop, rows: list[dict], products: dict[str, Product], actor: Agent | None,
          result: CatalogResult) -> dict[str, Sku]:
    by_code: dict[str, dict] = {}
    for r in rows:
        s = by_code.setdefault(r["sku"], {"product_id": r["product_id"], "title": r["sku_title"], "price": r["price"],
                                          "stock": None, "listed": r["listed"], "batched": bool(r["batch"])})
        s["title"] = s["title"] or r["sku_title"]
        s["price"] = s["price"] if s["price"] is not None else r["price"]
        s["listed"] = s["listed"] if s["listed"] is not None else r["listed"]
        if r["stock"] is not None:  # a batched SKU's stock is the sum of its batches' quantities
            s["stock"] = (s["stock"] or 0) + r["stock"] if s["batched"] else r["stock"]
    existing = {s.code: s for s in Sku.objects.select_for_update().filter(shop=shop, code__in=by_code)}
    now = timezone.now()
    events, out = [], {}
    for code, s in by_code.items():
        sku = existing.get(code)
        product = products[s["product_id"]]
        if sku is None:
            sku = Sku.objects.create(shop=shop, code=code, product=product, title=s["title"],
                                     price=s["price"] if s["price"] is not None else Decimal("0.00"),
                                     stock=s["stock"], stock_updated_at=now if s["stock"] is not None else None,
                                     listed=s["listed"] is not False,
                                     delisted_at=now if s["listed"] is False else None)
            result.skus.created += 1
            if s["stock"] is not None:
                events.append(SkuEvent(shop=shop, sku=sku, action=SkuEvent.Action.STOCK_SET, actor=actor,
                                       before={"stock": None}, after={"stock": s["stock"]}, note="catalogue import"))
                result.stock_changes += 1
            out[code] = sku
            continue
        fields = []
        if sku.product_id != product.pk:
            sku.product = product
            fields.append("product")
        if s["title"] and sku.title != s["title"]:
            sku.title = s["title"]
            fields.append("title")
        if s["price"] is not None and sku.price != s["price"]:
            sku.price = s["price"]
            fields.append("price")
        if s["stock"] is not None and sku.stock != s["stock"]:
            events.append(SkuEvent(shop=shop, sku=sku, action=SkuEvent.Action.STOCK_SET, actor=actor,
                                   before={"stock": sku.stock}, after={"stock": s["stock"]}, note="catalogue import"))
            sku.stock, sku.stock_updated_at = s["stock"], now
            fields += ["stock", "stock_updated_at"]
            result.stock_changes += 1
        if s["listed"] is not None and sku.listed != s["listed"]:
            action = SkuEvent.Action.RELIST if s["listed"] else SkuEvent.Action.DELIST
            events.append(SkuEvent(shop=shop, sku=sku, action=action, actor=actor, before={"listed": sku.listed},
                                   after={"listed": s["listed"], "stock": sku.stock}, note="catalogue import"))
            sku.listed, sku.delisted_at = s["listed"], None if s["listed"] else now
            fields += ["listed", "delisted_at"]
            result.listing_changes += 1
        if fields:
            sku.save(update_fields=fields)
            result.skus.updated += 1
        else:
            result.skus.unchanged += 1
        out[code] = sku
    SkuEvent.objects.bulk_create(events)
    return out


def _batches(shop: Shop, rows: list[dict], skus: dict[str, Sku], result: CatalogResult) -> None:
    batched = [r for r in rows if r["batch"]]
    if not batched:
        return
    have = {(b.sku_id, b.code): b for b in Batch.objects.select_for_update().filter(
        shop=shop, sku__in=[skus[r["sku"]] for r in batched])}
    for r in batched:
        sku = skus[r["sku"]]
        new = {"produced_on": r["produced_on"], "expires_on": r["expires_on"], "quantity": r["stock"]}
        b = have.get((sku.pk, r["batch"]))
        if b is None:
            Batch.objects.create(shop=shop, sku=sku, code=r["batch"], **new)
            result.batches.created += 1
            continue
        # a blank cell keeps what the batch has
        new = {k: v for k, v in new.items() if v is not None}
        if all(getattr(b, k) == v for k, v in new.items()):
            result.batches.unchanged += 1
            continue
        for k, v in new.items():
            setattr(b, k, v)
        b.save()
        result.batches.updated += 1


def catalog_import(*, shop: Shop, rows: list[dict], actor: Agent | None, source: str = "api",
                   run_info: dict | None = None) -> CatalogResult:
    """Write clean rows (from catalog_clean) in one transaction; returns what changed.

    Catalogue imports of one shop run one at a time (the shop row is locked), so two at once
    never create the same product twice. `run_info` (file name, format, SHA-256) records an
    ImportRun for a file."""
    from kefu.importers.models import ImportRun

    if not can_import_catalog(actor):
        raise PermissionDenied("only the warehouse and supervisors and up import the catalogue", field="file")
    result = CatalogResult(rows=len(rows))
    with transaction.atomic():
        Shop.objects.select_for_update().filter(pk=shop.pk).first()
        _categories(shop, {r["category"] for r in rows if r["category"]}, result)
        products = _products(shop, rows, result)
        skus = _skus(shop, rows, products, actor, result)
        _batches(shop, rows, skus, result)
        audit_record(shop=shop, actor=user_of(actor), action="catalog.import", entity=shop,
                     after={**result.as_dict(), "source": source, "by": actor.name if actor else "system"})
        if run_info is not None:
            now = timezone.now()
            run = ImportRun.objects.create(
                shop=shop, kind="catalog", fmt=run_info["fmt"], file_name=run_info["file_name"][-500:],
                file_sha256=run_info["sha256"], rows_total=len(rows), rows_done=len(rows), created=result.created,
                updated=result.updated, duplicates=result.unchanged, state=ImportRun.State.DONE,
                owner=run_info.get("owner", ""), started_at=now, updated_at=now, finished_at=now)
            result.run_id = run.pk
    return result


def catalog_file_import(*, shop: Shop, path: str | Path, fmt: str = "generic", actor: Agent | None = None,
                        file_name: str | None = None) -> CatalogResult:
    """A CSV/XLSX catalogue file in `fmt` (generic or shopify), or 淘宝助理's 宝贝 file (taobao). Row numbers in errors are the file's
    line numbers (the header is line 1) and fields are the file's column names."""
    from kefu.importers.files import read_table
    from kefu.importers.services import _owner, file_sha256

    if fmt not in FILE_FORMATS:
        raise KefuError(f"unknown catalogue format {fmt!r}; known: {', '.join(FILE_FORMATS)}", field="format")
    if not can_import_catalog(actor):
        raise PermissionDenied("only the warehouse and supervisors and up import the catalogue", field="file")
    if fmt == "taobao":
        from .taobao import taobao_rows

        rows, names = taobao_rows(path)
    else:
        headers, raw = read_table(path)
        rows, names = map_file_rows(fmt, headers, raw)
    if not rows:
        raise KefuError("the file has no rows", field="file")
    clean = catalog_clean(rows, first_row=2, names=names)
    return catalog_import(shop=shop, rows=clean, actor=actor, source=f"file:{fmt}", run_info={
        "fmt": fmt, "file_name": file_name or str(path), "sha256": file_sha256(path), "owner": _owner()})
