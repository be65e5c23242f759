"""Writes of the catalog: stock, listing (delist/relist) and imported item ratings (IN-5, SHIP-2, SHIP-3).

Every change locks the SKU row, writes a SkuEvent (the SKU's timeline) and an AuditLog row.
Ratings come from the platform (the shop's rating per item); a batch is validated whole first
and a bad row names its row and field: nothing is written then.
"""

from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from kefu.core.access import user_of
from kefu.core.enums import Role
from kefu.core.errors import KefuError, NotFound, PermissionDenied, ValidationFailed, row_number
from kefu.core.inputs import cell_text, clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .models import Sku, SkuEvent

# People who may change stock and listing: the warehouse and supervisors and up.
STOCK_ROLES = (Role.WAREHOUSE, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
# People who may import ratings (an integration token may too).
RATING_ROLES = (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
STOCK_MAX = 10_000_000
RATING_MIN, RATING_MAX = Decimal("1"), Decimal("5")
RATING_COLUMNS = {"sku": "sku", "SKU": "sku", "商家编码": "sku", "rating": "rating", "评分": "rating",
                  "count": "count", "评价数": "count", "category_average": "category_average",
                  "类目平均": "category_average", "同行平均": "category_average"}
A = SkuEvent.Action


def can_manage_stock(member: Agent | None) -> bool:
    return member is None or member.has_role(*STOCK_ROLES)


def can_import_ratings(member: Agent | None) -> bool:
    return member is None or member.has_role(*RATING_ROLES)


def _lock(shop: Shop, code: str) -> Sku:
    sku = Sku.objects.select_for_update().filter(shop=shop, code=code).first()
    if sku is None:
        raise NotFound("SKU not found", field="code")
    return sku


def _record(sku: Sku, *, action: str, actor: Agent | None, before: dict, after: dict, note: str = "") -> None:
    SkuEvent.objects.create(shop_id=sku.shop_id, sku=sku, action=action, actor=actor, before=before, after=after,
                            note=note)
    audit_record(shop=sku.shop, actor=user_of(actor), action=f"sku.{action}", entity=sku, before=before,
                 after={**after, "code": sku.code, "note": note, "by": actor.name if actor else "system"})


def _quantity(value, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise KefuError("must be a whole number", field=field)
    if abs(value) > STOCK_MAX:
        raise KefuError(f"must be between -{STOCK_MAX} and {STOCK_MAX}", field=field)
    return value


def sku_stock_set(*, shop: Shop, code: str, actor: Agent | None, quantity: int | None = None,
                  delta: int | None = None, note: str | None = None) -> Sku:
    """Set the stock on hand (`quantity`) or add to it (`delta`, negative to take away)."""
    if not can_manage_stock(actor):
        raise PermissionDenied("only the warehouse and supervisors change stock", field="code")
    if (quantity is None) == (delta is None):
        raise KefuError("give either quantity or delta", field="quantity")
    if quantity is not None:
        quantity = _quantity(quantity, field="quantity")
        if quantity < 0:
            raise KefuError("stock on hand cannot be negative", field="quantity")
    else:
        delta = _quantity(delta, field="delta")
    note = clean_text(note, field="note", max_len=500)
    with transaction.atomic():
        sku = _lock(shop, code)
        before = {"stock": sku.stock}
        new = quantity if quantity is not None else (sku.stock or 0) + delta
        if new < 0:
            raise KefuError(f"stock would drop below zero ({new})", field="delta")
        sku.stock = new
        sku.stock_updated_at = timezone.now()
        sku.save(update_fields=["stock", "stock_updated_at"])
        _record(sku, action=A.STOCK_SET if quantity is not None else A.STOCK_ADJUST, actor=actor, before=before,
                after={"stock": new}, note=note)
        return sku


def sku_delist(*, shop: Shop, code: str, actor: Agent | None, note: str | None = None) -> Sku:
    """Take the item off sale (stock gone, 002 §7). Delisting a delisted SKU is refused."""
    if not can_manage_stock(actor) and not (actor is not None and actor.has_role(Role.AGENT)):
        raise PermissionDenied("you may not delist items", field="code")
    note = clean_text(note, field="note", max_len=500)
    with transaction.atomic():
        sku = _lock(shop, code)
        if not sku.listed:
            raise KefuError("the SKU is already delisted", field="code", code="already_delisted")
        sku.listed, sku.delisted_at = False, timezone.now()
        sku.save(update_fields=["listed", "delisted_at"])
        _record(sku, action=A.DELIST, actor=actor, before={"listed": True},
                after={"listed": False, "stock": sku.stock}, note=note)
        return sku


def sku_relist(*, shop: Shop, code: str, actor: Agent | None, note: str | None = None) -> Sku:
    if not can_manage_stock(actor):
        raise PermissionDenied("only the warehouse and supervisors relist items", field="code")
    note = clean_text(note, field="note", max_len=500)
    with transaction.atomic():
        sku = _lock(shop, code)
        if sku.listed:
            raise KefuError("the SKU is on sale already", field="code", code="already_listed")
        sku.listed, sku.delisted_at = True, None
        sku.save(update_fields=["listed", "delisted_at"])
        _record(sku, action=A.RELIST, actor=actor, before={"listed": False}, after={"listed": True}, note=note)
        return sku


# ---------------------------------------------------------------- ratings (IN-5)

def rating_clean(raw: dict) -> dict:
    code = cell_text(raw, "sku")
    if not code:
        raise KefuError("required", field="sku")
    if len(code) > 80:
        raise KefuError("at most 80 characters", field="sku")
    rating = _stars(raw, "rating", required=True)
    average = _stars(raw, "category_average")
    count_text = cell_text(raw, "count")
    count = 0
    if count_text:
        if not count_text.isdigit():
            raise KefuError(f"must be a whole number ≥ 0, got {count_text!r}", field="count")
        count = int(count_text)
    return {"sku": code, "rating": rating, "count": count, "category_average": average}


def _stars(raw: dict, name: str, *, required: bool = False) -> Decimal | None:
    text = cell_text(raw, name)
    if not text:
        if required:
            raise KefuError("required", field=name)
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise KefuError(f"not a number: {text!r}", field=name) from exc
    if not value.is_finite() or not RATING_MIN <= value <= RATING_MAX:
        raise KefuError("must be between 1 and 5", field=name)
    if value != value.quantize(Decimal("0.01")):
        raise KefuError("at most 2 decimals", field=name)
    return value


def ratings_clean(raws: list[dict], *, first_row: int = 0) -> list[dict]:
    """Every row checked; all problems at once as ValidationFailed (row, field, message)."""
    rows, errors = [], []
    for i, raw in enumerate(raws):
        try:
            row = rating_clean(raw)
            row["_line"] = row_number(raw, first_row + i)  # for the errors found after cleaning
            rows.append(row)
        except KefuError as exc:
            errors.append({"row": row_number(raw, first_row + i), "field": exc.field, "message": exc.message})
    if errors:
        raise ValidationFailed(errors)
    return rows


def ratings_import(*, shop: Shop, rows: list[dict], actor: Agent | None, first_row: int = 0) -> int:
    """Store the ratings of clean rows (the last row of a SKU wins). Unknown SKUs fail the batch."""
    if not can_import_ratings(actor):
        raise PermissionDenied("only supervisors and up import ratings", field="sku")
    with transaction.atomic():
        skus = {s.code: s for s in Sku.objects.select_for_update().filter(shop=shop, code__in={r["sku"] for r in rows})}
        errors = [{"row": r.get("_line", first_row + i), "field": "sku", "message": f"no SKU {r['sku']!r} in this shop"}
                  for i, r in enumerate(rows) if r["sku"] not in skus]
        if errors:
            raise ValidationFailed(errors)
        now = timezone.now()
        changed = {}
        for r in rows:
            sku = skus[r["sku"]]
            before = {"rating": _str(sku.rating), "count": sku.rating_count,
                      "category_average": _str(sku.category_average)}
            sku.rating, sku.rating_count, sku.rated_at = r["rating"], r["count"], now
            sku.category_average = r.get("category_average")
            changed[sku.code] = (sku, before)
        Sku.objects.bulk_update([s for s, _ in changed.values()],
                                ["rating", "rating_count", "rated_at", "category_average"])
        SkuEvent.objects.bulk_create([
            SkuEvent(shop=shop, sku=s, action=A.RATING, actor=actor, before=before,
                     after={"rating": str(s.rating), "count": s.rating_count,
                            "category_average": _str(s.category_average)}) for s, before in changed.values()])
        audit_record(shop=shop, actor=user_of(actor), action="sku.ratings_import", entity=shop,
                     after={"skus": len(changed), "by": actor.name if actor else "system"})
    return len(changed)


def _str(value) -> str | None:
    return None if value is None else str(value)


def ratings_file_import(*, shop: Shop, path: str | Path, actor: Agent | None = None) -> int:
    """A CSV/XLSX with columns sku (or SKU/商家编码), rating (评分), optional count (评价数) and optional
    category_average (类目平均/同行平均: the platform's average of the item's category).

    Row numbers in errors are the file's line numbers (the header is line 1)."""
    from kefu.importers.files import read_table

    headers, raw = read_table(path)
    known = {RATING_COLUMNS[h] for h in headers if h in RATING_COLUMNS}
    missing = [c for c in ("sku", "rating") if c not in known]
    if missing:
        raise KefuError(f"the file lacks the column(s): {', '.join(missing)}", field="header")
    mapped = [{**{RATING_COLUMNS[h]: v for h, v in r.items() if h in RATING_COLUMNS}, "_line": r["_line"]} for r in raw]
    if not mapped:
        raise KefuError("the file has no rows", field="file")
    rows = ratings_clean(mapped, first_row=2)
    return ratings_import(shop=shop, rows=rows, actor=actor, first_row=2)
