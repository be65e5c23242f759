"""Writes of customer care: grading rules, grade recomputation, manual grades (audited),
promotions and product pairs."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from kefu.catalog.models import Product
from kefu.core.access import sees_whole_shop
from kefu.core.db import bulk_update_rows
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import parse_day
from kefu.customers.models import Customer
from kefu.orders.enums import OrderStatus
from kefu.orders.models import Order

from .enums import CrmErrorCode, RuleMatch
from .models import ZERO, CustomerGrade, GradeRule, ProductPair, Promotion

# PRE-9 defaults (002 §2.9 asks for grades; the thresholds are the shop's to change).
DEFAULT_RULES = (
    {"grade": "VIP", "min_spend": Decimal("2000"), "min_orders": 5, "match": RuleMatch.ANY, "window_days": 365},
    {"grade": "A", "min_spend": Decimal("500"), "min_orders": 2, "match": RuleMatch.ANY, "window_days": 365},
    {"grade": "B", "min_spend": None, "min_orders": 1, "match": RuleMatch.ANY, "window_days": 365},
    {"grade": "C", "min_spend": None, "min_orders": None, "match": RuleMatch.ANY, "window_days": 365},
)
MAX_RULES = 20


def _user(actor: Agent | None):
    return actor.user if actor is not None and actor.user_id else None


def _supervisor_only(actor: Agent | None, what: str) -> None:
    if actor is not None and not sees_whole_shop(actor):
        raise PermissionDenied(f"only supervisors and managers change {what}", field=what)


# ---------------------------------------------------------------- rules

def grade_rules_ensure(shop: Shop) -> list[GradeRule]:
    """The shop's rules; the default table the first time."""
    rules = list(GradeRule.objects.filter(shop=shop).order_by("position"))
    if rules:
        return rules
    GradeRule.objects.bulk_create([GradeRule(shop=shop, position=i, **r) for i, r in enumerate(DEFAULT_RULES)],
                                  ignore_conflicts=True)
    return list(GradeRule.objects.filter(shop=shop).order_by("position"))


def _rule_clean(raw, i: int) -> dict:
    if not isinstance(raw, dict):
        raise KefuError("must be an object", field=f"rules.{i}")
    grade = clean_text(raw.get("grade"), field=f"rules.{i}.grade", max_len=20, required=True)
    out = {"grade": grade, "match": raw.get("match") or RuleMatch.ANY}
    if out["match"] not in RuleMatch.values:
        raise KefuError("any or all", field=f"rules.{i}.match", code=CrmErrorCode.BAD_RULE)
    spend = raw.get("min_spend")
    if spend in (None, ""):
        out["min_spend"] = None
    else:
        try:
            out["min_spend"] = Decimal(str(spend)).quantize(Decimal("0.01"))
        except InvalidOperation as exc:
            raise KefuError("a number of yuan", field=f"rules.{i}.min_spend", code=CrmErrorCode.BAD_RULE) from exc
        if not (0 <= out["min_spend"] < Decimal("1e10")):
            raise KefuError("0 or more", field=f"rules.{i}.min_spend", code=CrmErrorCode.BAD_RULE)
    for f, lo, hi in (("min_orders", 0, 100000), ("window_days", 1, 3650)):
        v = raw.get(f)
        if v in (None, "") and f == "min_orders":
            out[f] = None
            continue
        if v in (None, ""):
            out[f] = 365
            continue
        try:
            n = int(str(v))
        except ValueError as exc:
            raise KefuError("a whole number", field=f"rules.{i}.{f}", code=CrmErrorCode.BAD_RULE) from exc
        if not lo <= n <= hi:
            raise KefuError(f"{lo}–{hi}", field=f"rules.{i}.{f}", code=CrmErrorCode.BAD_RULE)
        out[f] = n
    return out


def grade_rules_set(*, shop: Shop, rules: list, actor: Agent | None) -> list[GradeRule]:
    """Replace the shop's grading table (first matching row wins) and recompute every grade."""
    _supervisor_only(actor, "rules")
    if not isinstance(rules, list) or not rules:
        raise KefuError("at least one rule", field="rules", code=CrmErrorCode.BAD_RULE)
    if len(rules) > MAX_RULES:
        raise KefuError(f"at most {MAX_RULES} rules", field="rules", code=CrmErrorCode.BAD_RULE)
    clean = [_rule_clean(r, i) for i, r in enumerate(rules)]
    seen = set()
    for i, r in enumerate(clean):
        if r["grade"] in seen:
            raise KefuError(f"grade {r['grade']} appears twice", field=f"rules.{i}.grade", code=CrmErrorCode.BAD_RULE)
        seen.add(r["grade"])
    with transaction.atomic():
        Shop.objects.select_for_update().get(pk=shop.pk)  # one table edit at a time
        before = [_rule_dict(r) for r in GradeRule.objects.filter(shop=shop).order_by("position")]
        GradeRule.objects.filter(shop=shop).delete()
        created = GradeRule.objects.bulk_create([GradeRule(shop=shop, position=i, **r) for i, r in enumerate(clean)])
        audit_record(shop=shop, actor=_user(actor), action="grade.rules", entity=shop, before={"rules": before},
                     after={"rules": [_rule_dict(r) for r in created]})
    grades_recompute(shop=shop)
    return list(GradeRule.objects.filter(shop=shop).order_by("position"))


def _rule_dict(r: GradeRule) -> dict:
    return {"grade": r.grade, "min_spend": None if r.min_spend is None else str(r.min_spend),
            "min_orders": r.min_orders, "match": r.match, "window_days": r.window_days}


def rule_matches(rule: GradeRule, spend: Decimal, orders: int) -> bool:
    conds = []
    if rule.min_spend is not None:
        conds.append(spend >= rule.min_spend)
    if rule.min_orders is not None:
        conds.append(orders >= rule.min_orders)
    if not conds:
        return True
    return any(conds) if rule.match == RuleMatch.ANY else all(conds)


# ---------------------------------------------------------------- grades

def _figures(shop: Shop, window_days: int, now: dt.datetime, customer_ids=None) -> dict[int, tuple[Decimal, int]]:
    """Per buyer over the last `window_days`: paid orders (paid in the window, not fully refunded)
    and spend = Σ(paid − refunded) of those."""
    qs = Order.objects.filter(shop=shop, paid_at__isnull=False, paid_at__gt=now - dt.timedelta(days=window_days),
                              paid_at__lte=now).exclude(status=OrderStatus.REFUNDED)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    rows = qs.values("customer_id").annotate(spend=Sum(F("paid_amount") - F("refund_amount")), n=Count("id"))
    return {r["customer_id"]: (r["spend"] or ZERO, r["n"]) for r in rows}


def grades_recompute(*, shop: Shop, now: dt.datetime | None = None, customer_ids=None) -> int:
    """Grade every buyer of the shop (or these buyers) by the rules; a manual grade still wins.
    Returns how many grades changed. Called nightly by the scheduler and on demand."""
    now = now or timezone.now()
    rules = grade_rules_ensure(shop)
    figures = {w: _figures(shop, w, now, customer_ids) for w in {r.window_days for r in rules}}
    customers = Customer.objects.filter(shop=shop)
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    ids = list(customers.values_list("pk", flat=True))
    with transaction.atomic():
        existing = {g.customer_id: g for g in CustomerGrade.objects.select_for_update().filter(
            shop=shop, customer_id__in=ids)}
        new, changed, regraded = [], [], []
        for cid in ids:
            computed, spend, orders = "", ZERO, 0
            for rule in rules:
                spend, orders = figures[rule.window_days].get(cid, (ZERO, 0))
                if rule_matches(rule, spend, orders):
                    computed = rule.grade
                    break
            # The list shows the figures of the first rule's window (the usual single window).
            spend, orders = figures[rules[0].window_days].get(cid, (ZERO, 0))
            g = existing.get(cid)
            if g is None:
                new.append(CustomerGrade(shop=shop, customer_id=cid, computed=computed, grade=computed,
                                         spend=spend, orders=orders, computed_at=now))
                continue
            grade = g.override or computed
            if grade != g.grade:
                regraded.append(cid)
            if (g.computed, g.grade, g.spend, g.orders) != (computed, grade, spend, orders):
                g.computed, g.grade, g.spend, g.orders, g.computed_at = computed, grade, spend, orders, now
                changed.append(g)
        CustomerGrade.objects.bulk_create(new, batch_size=1000)
        bulk_update_rows(CustomerGrade, changed, ["computed", "grade", "spend", "orders", "computed_at"])
        _sla_regrade_on_commit(shop, regraded + [g.customer_id for g in new if g.grade])
    return len(new) + len(changed)


def grades_after_merge(*, shop: Shop, customer_ids: list[int]) -> None:
    """Two buyer records were merged (or a merge undone): their orders moved, so their grades did."""
    grades_recompute(shop=shop, customer_ids=customer_ids)


def _sla_regrade_on_commit(shop: Shop, customer_ids: list[int]) -> None:
    """SLA policies may match on the buyer's grade: re-time the regraded buyers' clocks."""
    if customer_ids:
        from kefu.sla.services import sla_regrade

        transaction.on_commit(lambda: sla_regrade(shop=shop, customer_ids=customer_ids))


def grade_override_set(*, shop: Shop, customer: Customer, grade: str, reason: str,
                       actor: Agent | None) -> CustomerGrade:
    """Set a buyer's grade by hand (it wins over the rules) or clear it with grade ""; audited.
    Any person of the shop may grade the buyers they serve (002: 对客户分等级加以区别记录)."""
    grade = clean_text(grade, field="grade", max_len=20)
    reason = clean_text(reason, field="reason", max_len=300)
    rules = grade_rules_ensure(shop)
    if grade and grade not in {r.grade for r in rules}:
        raise KefuError(f"unknown grade {grade!r}; one of {', '.join(r.grade for r in rules)}", field="grade",
                        code=CrmErrorCode.UNKNOWN_GRADE)
    if grade and not reason:
        raise KefuError("a reason is required", field="reason", code=CrmErrorCode.REASON_REQUIRED)
    with transaction.atomic():
        g = CustomerGrade.objects.select_for_update().filter(shop=shop, customer=customer).first()
        if g is None:
            grades_recompute(shop=shop, customer_ids=[customer.pk])
            g = CustomerGrade.objects.select_for_update().get(shop=shop, customer=customer)
        before = {"grade": g.grade, "override": g.override, "reason": g.override_reason}
        g.override, g.override_reason = grade, reason if grade else ""
        g.override_by, g.override_at = (actor, timezone.now()) if grade else (None, None)
        g.grade = grade or g.computed
        g.save(update_fields=["override", "override_reason", "override_by", "override_at", "grade"])
        if g.grade != before["grade"]:
            _sla_regrade_on_commit(shop, [customer.pk])
        audit_record(shop=shop, actor=_user(actor), action="customer.grade", entity=customer, before=before,
                     after={"grade": g.grade, "override": g.override, "reason": reason})
    return g


# ---------------------------------------------------------------- promotions and pairs

def _date(v, field: str) -> dt.date | None:
    if v in (None, ""):
        return None
    try:
        return parse_day(v)
    except ValueError as exc:
        raise KefuError(f"a date like 2026-11-11: {exc}", field=field) from exc


def _products(shop: Shop, ids) -> list[Product]:
    ids = list(ids or [])
    if len(ids) > 200:
        raise KefuError("at most 200 products", field="product_ids")
    if any(not isinstance(i, int) for i in ids):
        raise KefuError("product ids are numbers", field="product_ids")
    found = list(Product.objects.filter(shop=shop, pk__in=ids))
    missing = set(ids) - {p.pk for p in found}
    if missing:
        raise KefuError(f"no product {sorted(missing)[0]} in this shop", field="product_ids")
    return found


def promotion_save(*, shop: Shop, actor: Agent | None, promotion_id: int | None = None, **data) -> Promotion:
    """Create or change a promotion. Supervisors and up (or the shop's integration)."""
    _supervisor_only(actor, "promotions")
    allowed = {"name", "discount_text", "category", "product_ids", "starts_on", "ends_on", "active"}
    unknown = set(data) - allowed
    if unknown:
        raise KefuError(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    with transaction.atomic():
        promo = None
        if promotion_id is not None:
            promo = Promotion.objects.select_for_update().filter(shop=shop, pk=promotion_id).first()
            if promo is None:
                raise KefuError("promotion not found", field="promotion_id", code="not_found")
        fields = {}
        if "name" in data or promo is None:
            fields["name"] = clean_text(data.get("name"), field="name", max_len=80, required=True)
        if "discount_text" in data or promo is None:
            fields["discount_text"] = clean_text(data.get("discount_text"), field="discount_text", max_len=300,
                                                 required=True)
        if "category" in data:
            fields["category"] = clean_text(data["category"], field="category", max_len=80)
        for f in ("starts_on", "ends_on"):
            if f in data:
                fields[f] = _date(data[f], f)
        if "active" in data:
            if not isinstance(data["active"], bool):
                raise KefuError("must be true or false", field="active")
            fields["active"] = data["active"]
        starts = fields.get("starts_on", promo.starts_on if promo else None)
        ends = fields.get("ends_on", promo.ends_on if promo else None)
        if starts and ends and ends < starts:
            raise KefuError("the end date is before the start date", field="ends_on", code=CrmErrorCode.BAD_DATES)
        products = _products(shop, data["product_ids"]) if "product_ids" in data else None
        if promo is None:
            promo = Promotion.objects.create(shop=shop, **fields)
        else:
            for k, v in fields.items():
                setattr(promo, k, v)
            promo.save()
        if products is not None:
            promo.products.set(products)
        audit_record(shop=shop, actor=_user(actor), action="promotion.save", entity=promo,
                     after={k: str(v) for k, v in fields.items()} | (
                         {"product_ids": [p.pk for p in products]} if products is not None else {}))
    return promo


def product_pair_add(*, shop: Shop, actor: Agent | None, product_id: int, related_id: int,
                     note: str = "") -> ProductPair:
    _supervisor_only(actor, "pairs")
    if product_id == related_id:
        raise KefuError("a product cannot be paired with itself", field="related_id")
    product = Product.objects.filter(shop=shop, pk=product_id).first()
    related = Product.objects.filter(shop=shop, pk=related_id).first()
    if product is None:
        raise KefuError("no such product in this shop", field="product_id")
    if related is None:
        raise KefuError("no such product in this shop", field="related_id")
    note = clean_text(note, field="note", max_len=120)
    pair, _ = ProductPair.objects.get_or_create(shop=shop, product=product, related=related,
                                                defaults={"note": note})
    return pair
