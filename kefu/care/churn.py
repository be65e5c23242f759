"""Churn watch (CRM-5, seed 003 §6.2.3 导致客户流失的因素): a buyer is at risk while
- a complaint about them is not closed,
- an after-sales case of their order is unresolved (not refunded/reshipped/compensated/closed/rejected),
- a medium or bad review of theirs, written within `review_watch_days`, is not revised or removed,
- they are a repeat buyer (`repeat_min_orders` paid orders) silent past their usual reorder
  interval: days since the last payment > max(median gap × `silent_factor`, `silent_min_days`).
One flag per cause; the scan raises flags for new causes and clears those whose cause is gone. It
runs hourly (scheduler), after a merge, and on demand."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from kefu.approvals.services import notify
from kefu.core.models import Shop
from kefu.customers.profile import reorder_interval_days

from .enums import ChurnReason
from .models import ChurnFlag
from .selectors import care_owner_ids, care_settings

# After-sales states where the buyer's problem is still open.
CASE_UNRESOLVED = ("open", "waiting_buyer", "waiting_return", "received", "inspected", "escalated")
REVIEW_SETTLED = ("revised", "removed")


def churn_causes(*, shop: Shop, customer_ids=None, now: dt.datetime | None = None) -> dict[tuple, str]:
    """{(customer id, reason, ref id): detail} of every current cause (for these buyers or all)."""
    from kefu.aftersales.models import Case
    from kefu.complaints.enums import ComplaintState, ReviewLevel
    from kefu.complaints.models import Complaint, Review
    from kefu.customers.models import Customer
    from kefu.orders.enums import OrderStatus
    from kefu.orders.models import Order

    now = now or timezone.now()
    s = care_settings(shop)
    live = Customer.objects.filter(shop=shop, merged_into__isnull=True, is_spam=False)
    if customer_ids is not None:
        live = live.filter(pk__in=list(customer_ids))
    out: dict[tuple, str] = {}
    for pk, cid, summary in Complaint.objects.filter(shop=shop, customer__in=live).exclude(
            state=ComplaintState.CLOSED).values_list("pk", "customer_id", "summary"):
        out[(cid, ChurnReason.COMPLAINT, pk)] = _("投诉 #%(id)s：%(s)s") % {"id": pk, "s": summary[:60]}
    for pk, cid in Case.objects.filter(shop=shop, order__customer__in=live, state__in=CASE_UNRESOLVED) \
            .values_list("pk", "order__customer_id"):
        out[(cid, ChurnReason.CASE, pk)] = _("售后 #%(id)s 未解决") % {"id": pk}
    since = now - dt.timedelta(days=s.review_watch_days)
    reviews = Review.objects.filter(shop=shop, customer__in=live, level__in=(ReviewLevel.MEDIUM, ReviewLevel.BAD),
                                    created_at__gte=since).exclude(task__outcome__in=REVIEW_SETTLED)
    for pk, cid, level, text in reviews.values_list("pk", "customer_id", "level", "text"):
        out[(cid, ChurnReason.REVIEW, pk)] = f"{ReviewLevel(level).label}：{text[:60]}"
    # Silent repeat buyers: only those whose last payment is old enough can be late.
    paid = Order.objects.filter(shop=shop, customer__in=live, paid_at__isnull=False).exclude(
        status=OrderStatus.REFUNDED)
    quiet_since = now - dt.timedelta(days=s.silent_min_days)
    recent_buyers = paid.filter(paid_at__gt=quiet_since).values("customer_id")
    times: dict[int, list] = defaultdict(list)
    for cid, paid_at in paid.exclude(customer_id__in=recent_buyers).values_list("customer_id", "paid_at"):
        times[cid].append(paid_at)
    factor = Decimal(s.silent_factor)
    for cid, ts in times.items():
        if len(ts) < s.repeat_min_orders:
            continue
        interval = reorder_interval_days(ts)
        days = (now - max(ts)).total_seconds() / 86400
        limit = max(float(Decimal(str(interval)) * factor), float(s.silent_min_days))
        if days > limit:
            out[(cid, ChurnReason.SILENT, 0)] = _("上次购买 %(d)s 天前，通常 %(i)s 天复购") % {
                "d": int(days), "i": round(interval)}
    return out


def churn_scan(*, shop: Shop, customer_ids=None, now: dt.datetime | None = None) -> tuple[int, int]:
    """Raise a flag for each new cause, clear the flags whose cause is gone; returns (raised,
    cleared). The care owners are told how many buyers became at risk."""
    now = now or timezone.now()
    with override(settings.LANGUAGE_CODE):  # stored text: in the shop's language, whoever asks
        causes = churn_causes(shop=shop, customer_ids=customer_ids, now=now)
    with transaction.atomic():
        open_flags = ChurnFlag.objects.select_for_update().filter(shop=shop, cleared_at__isnull=True)
        if customer_ids is not None:
            open_flags = open_flags.filter(customer_id__in=list(customer_ids))
        have = {(f.customer_id, f.reason, f.ref_id): f for f in open_flags}
        gone = [f.pk for k, f in have.items() if k not in causes]
        ChurnFlag.objects.filter(pk__in=gone).update(cleared_at=now)
        new = [ChurnFlag(shop=shop, customer_id=k[0], reason=k[1], ref_id=k[2], detail=d[:200], raised_at=now)
               for k, d in causes.items() if k not in have]
        ChurnFlag.objects.bulk_create(new, ignore_conflicts=True)
        for k, f in have.items():
            if k in causes and f.detail != causes[k][:200]:
                ChurnFlag.objects.filter(pk=f.pk).update(detail=causes[k][:200])
        buyers = {f.customer_id for f in new}
        if buyers:
            with override(settings.LANGUAGE_CODE):
                text = _("%(n)s 位买家有流失风险") % {"n": len(buyers)}
            notify(shop=shop, recipients=sorted(care_owner_ids(shop)), text=text, link=reverse("care:at_risk"))
    return len(new), len(gone)


def churn_after_merge(*, shop: Shop, customer_ids: list[int]) -> None:
    """Two records were merged (or unmerged): their causes moved with their rows."""
    churn_scan(shop=shop, customer_ids=customer_ids)
