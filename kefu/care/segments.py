"""Segments of buyers for revisit plans and care messages: by grade, tag, last purchase, products
bought and paid orders. A segment is a small JSON object stored on the plan or campaign:

    {"grades": ["VIP"], "tag_ids": [3], "paid_within_days": 90, "silent_days": 30,
     "product_ids": [12], "min_orders": 2}

Every condition given must hold (any of the listed grades, tags, products); an empty segment is
every buyer. Spam and merged-away records are never in a segment.
"""

import datetime as dt

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from kefu.catalog.models import Product, Sku
from kefu.core.errors import KefuError
from kefu.core.models import Shop
from kefu.customers.models import Customer, CustomerTag, Tag
from kefu.orders.enums import OrderStatus
from kefu.orders.models import Order, OrderItem

from .enums import CareErrorCode

KEYS = ("grades", "tag_ids", "paid_within_days", "silent_days", "product_ids", "min_orders")
LIST_MAX = 50


def _ids(raw, field: str) -> list[int]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > LIST_MAX:
        raise KefuError(f"a list of at most {LIST_MAX} ids", field=field, code=CareErrorCode.BAD_SEGMENT)
    out = []
    for v in raw:
        if isinstance(v, bool):
            raise KefuError("ids are numbers", field=field, code=CareErrorCode.BAD_SEGMENT)
        try:
            out.append(int(v))
        except (TypeError, ValueError) as exc:
            raise KefuError("ids are numbers", field=field, code=CareErrorCode.BAD_SEGMENT) from exc
    return sorted(set(out))


def _days(raw, field: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        n = int(str(raw))
    except ValueError as exc:
        raise KefuError("a whole number of days", field=field, code=CareErrorCode.BAD_SEGMENT) from exc
    if not 1 <= n <= 3650:
        raise KefuError("1–3650", field=field, code=CareErrorCode.BAD_SEGMENT)
    return n


def segment_clean(*, shop: Shop, raw) -> dict:
    """A segment from a form or an API body → the stored object; unknown tags/products are refused."""
    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, dict):
        raise KefuError("must be an object", field="segment", code=CareErrorCode.BAD_SEGMENT)
    unknown = set(raw) - set(KEYS)
    if unknown:
        raise KefuError(f"unknown condition {sorted(unknown)[0]!r}", field=f"segment.{sorted(unknown)[0]}",
                        code=CareErrorCode.BAD_SEGMENT)
    out: dict = {}
    grades = raw.get("grades") or []
    if not isinstance(grades, list) or len(grades) > LIST_MAX or any(not isinstance(g, str) for g in grades):
        raise KefuError("a list of grade names", field="segment.grades", code=CareErrorCode.BAD_SEGMENT)
    if grades:
        from kefu.crm.services import grade_rules_ensure

        known = {r.grade for r in grade_rules_ensure(shop)}
        bad = [g for g in grades if g not in known]
        if bad:
            raise KefuError(f"unknown grade {bad[0]!r}", field="segment.grades", code=CareErrorCode.BAD_SEGMENT)
        out["grades"] = sorted(set(grades))
    for key, model in (("tag_ids", Tag), ("product_ids", Product)):
        ids = _ids(raw.get(key), f"segment.{key}")
        if ids:
            found = set(model.objects.filter(shop=shop, pk__in=ids).values_list("pk", flat=True))
            if found != set(ids):
                raise KefuError(f"no {key[:-4]} {sorted(set(ids) - found)[0]} in this shop", field=f"segment.{key}",
                                code=CareErrorCode.BAD_SEGMENT)
            out[key] = ids
    for key in ("paid_within_days", "silent_days", "min_orders"):
        n = _days(raw.get(key), f"segment.{key}")
        if n is not None:
            out[key] = n
    if out.get("paid_within_days") and out.get("silent_days") and out["silent_days"] >= out["paid_within_days"]:
        raise KefuError("silent for longer than the purchase window leaves nobody", field="segment.silent_days",
                        code=CareErrorCode.BAD_SEGMENT)
    return out


def _paid(shop: Shop):
    return Order.objects.filter(shop=shop, customer=OuterRef("pk"), paid_at__isnull=False).exclude(
        status=OrderStatus.REFUNDED)


def segment_customers(*, shop: Shop, segment: dict, now: dt.datetime | None = None) -> QuerySet[Customer]:
    """The buyers of a (clean) segment, as a queryset of Customer."""
    now = now or timezone.now()
    qs = Customer.objects.filter(shop=shop, merged_into__isnull=True, is_spam=False)
    if segment.get("grades"):
        qs = qs.filter(grade__grade__in=segment["grades"])
    if segment.get("tag_ids"):
        qs = qs.filter(Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag_id__in=segment["tag_ids"])))
    if segment.get("product_ids"):
        codes = Sku.objects.filter(shop=shop, product_id__in=segment["product_ids"]).values("code")
        qs = qs.filter(Exists(OrderItem.objects.filter(order__customer=OuterRef("pk"), order__paid_at__isnull=False,
                                                       sku_code__in=codes)))
    if segment.get("paid_within_days") or segment.get("silent_days"):
        qs = qs.annotate(last_paid=Subquery(_paid(shop).order_by("-paid_at").values("paid_at")[:1]))
        if segment.get("paid_within_days"):
            qs = qs.filter(last_paid__gte=now - dt.timedelta(days=segment["paid_within_days"]))
        if segment.get("silent_days"):
            qs = qs.filter(last_paid__lt=now - dt.timedelta(days=segment["silent_days"]))
    if segment.get("min_orders"):
        counts = _paid(shop).values("customer").annotate(n=Count("id")).values("n")
        qs = qs.annotate(paid_n=Subquery(counts)).filter(paid_n__gte=segment["min_orders"])
    return qs


def segment_describe(*, shop: Shop, segment: dict) -> list[str]:
    """The segment in words, for the pages."""
    from django.utils.translation import gettext as _

    out = []
    if segment.get("grades"):
        out.append(_("等级：%(v)s") % {"v": "、".join(segment["grades"])})
    if segment.get("tag_ids"):
        names = Tag.objects.filter(shop=shop, pk__in=segment["tag_ids"]).values_list("name", flat=True)
        out.append(_("标签：%(v)s") % {"v": "、".join(names)})
    if segment.get("product_ids"):
        names = Product.objects.filter(shop=shop, pk__in=segment["product_ids"]).values_list("title", flat=True)
        out.append(_("买过：%(v)s") % {"v": "、".join(n[:16] for n in names)})
    if segment.get("paid_within_days"):
        out.append(_("%(n)s 天内有购买") % {"n": segment["paid_within_days"]})
    if segment.get("silent_days"):
        out.append(_("超过 %(n)s 天未购买") % {"n": segment["silent_days"]})
    if segment.get("min_orders"):
        out.append(_("至少 %(n)s 笔付款订单") % {"n": segment["min_orders"]})
    return out or [_("全部买家")]
