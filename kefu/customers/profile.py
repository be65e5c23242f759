"""The buyer 360 (CRM-1): everything the shop knows about one buyer, for the page and the API.

Each section is the latest SECTION rows (with the section's total where it matters); the timeline
merges the sections already loaded, newest first, so it costs no query of its own.
"""

import datetime as dt

from django.db.models import Count
from django.utils import timezone

from kefu.core.models import Agent, Shop

from .merge import UNDO_HOURS
from .models import Customer, CustomerEvent, CustomerMerge, CustomerNote
from .selectors import (
    SECTION,
    customer_contacts,
    customer_orders,
    customer_tags,
    merges_of,
    sees_all_buyers,
    with_figures,
)


def platform_ids(*, shop: Shop, customer: Customer) -> list[dict]:
    """The buyer's ids on each platform: its own and those of the records merged into it, each
    with the chat channels its messages came through."""
    from kefu.conversations.models import Message

    own = sorted(set(Message.objects.filter(shop=shop, customer=customer).values_list("channel", flat=True)))
    out = [{"buyer_id": customer.buyer_id, "channels": own, "alias": False}]
    aliases = list(Customer.objects.filter(shop=shop, merged_into=customer).order_by("buyer_id"))
    if aliases:
        moved = {m.source_id: m.moved.get("conversations.Message.customer", [])
                 for m in CustomerMerge.objects.filter(shop=shop, source__in=aliases, undone_at__isnull=True)}
        for a in aliases:
            ids = moved.get(a.pk, [])
            channels = sorted(set(Message.objects.filter(pk__in=ids[:5000]).values_list("channel", flat=True))) \
                if ids else []
            out.append({"buyer_id": a.buyer_id, "channels": channels, "alias": True})
    return out


def reorder_interval_days(paid_times: list[dt.datetime]) -> float | None:
    """The buyer's usual reorder interval: the median gap in days between consecutive paid orders."""
    times = sorted(paid_times)
    gaps = sorted((b - a).total_seconds() / 86400 for a, b in zip(times, times[1:], strict=False))
    if not gaps:
        return None
    mid = len(gaps) // 2
    return round(gaps[mid] if len(gaps) % 2 else (gaps[mid - 1] + gaps[mid]) / 2, 1)


def buyer_profile(*, shop: Shop, member: Agent | None, customer: Customer, now: dt.datetime | None = None) -> dict:
    from kefu.aftersales.models import Case
    from kefu.care.selectors import buyer_care
    from kefu.complaints.models import Complaint, Review
    from kefu.conversations.selectors import conversation_list
    from kefu.followups.models import FollowUp
    from kefu.orders.models import Order

    now = now or timezone.now()
    figures = with_figures(Customer.objects.filter(pk=customer.pk)).select_related("grade").get()
    grade = getattr(figures, "grade", None)  # no grade row yet: None
    orders = customer_orders(shop=shop, customer_id=customer.pk, member=member, limit=SECTION)
    order_count = Order.objects.filter(shop=shop, customer=customer).count()
    paid_times = list(Order.objects.filter(shop=shop, customer=customer, paid_at__isnull=False)
                      .values_list("paid_at", flat=True))
    cases = list(Case.objects.filter(shop=shop, order__customer=customer).select_related("order", "owner")
                 .order_by("-created_at", "-id")[:SECTION])
    complaints = list(Complaint.objects.filter(shop=shop, customer=customer).select_related("owner", "against")
                      .order_by("-created_at", "-id")[:SECTION])
    reviews = list(Review.objects.filter(shop=shop, customer=customer).select_related("task", "agent")
                   .order_by("-created_at", "-id")[:SECTION])
    review_counts = dict(Review.objects.filter(shop=shop, customer=customer).values_list("level")
                         .annotate(n=Count("id")).order_by())
    conversations = list(conversation_list(shop=shop, member=member).filter(customer=customer)
                         .order_by("-started_at", "-id")[:SECTION])
    notes = list(CustomerNote.objects.filter(shop=shop, customer=customer).select_related("author")
                 .order_by("-created_at", "-id")[:SECTION])
    followups = list(FollowUp.objects.filter(shop=shop, customer=customer).select_related("owner", "order")
                     .order_by("-created_at", "-id")[:SECTION])
    events = list(CustomerEvent.objects.filter(shop=shop, customer=customer).select_related("actor")
                  .order_by("-created_at", "-id")[:SECTION])
    merges = merges_of(shop=shop, customer=customer)
    for m in merges:
        m.can_undo = (m.undone_at is None and m.target_id == customer.pk and sees_all_buyers(member)
                      and now - m.created_at <= dt.timedelta(hours=UNDO_HOURS))
    care = buyer_care(shop=shop, customer=customer)
    profile = {
        "customer": customer, "figures": figures, "grade": grade,
        "platform_ids": platform_ids(shop=shop, customer=customer),
        "contacts": customer_contacts(customer=customer, member=member),
        "tags": customer_tags(customer=customer),
        "reorder_interval_days": reorder_interval_days(paid_times),
        "orders": orders, "order_count": order_count, "cases": cases, "complaints": complaints,
        "reviews": reviews, "review_counts": review_counts, "conversations": conversations, "notes": notes,
        "followups": followups, "events": events, "merges": merges, **care,
        "complaint_revisits": [c for c in complaints if c.revisit_on],
    }
    profile["timeline"] = timeline(profile)
    return profile


def timeline(p: dict, limit: int = 40) -> list[dict]:
    """What happened with the buyer, newest first, from the loaded sections."""
    items = []
    for o in p["orders"]:
        items.append({"at": o["created_at"], "kind": "order", "obj": o})
    for c in p["cases"]:
        items.append({"at": c.created_at, "kind": "case", "obj": c})
    for c in p["complaints"]:
        items.append({"at": c.created_at, "kind": "complaint", "obj": c})
    for r in p["reviews"]:
        items.append({"at": r.created_at, "kind": "review", "obj": r})
    for c in p["conversations"]:
        items.append({"at": c.started_at, "kind": "conversation", "obj": c})
    for n in p["notes"]:
        items.append({"at": n.created_at, "kind": "note", "obj": n})
    for r in p["revisits"]:
        if r.done_at:
            items.append({"at": r.done_at, "kind": "revisit", "obj": r})
    for s in p["surprises"]:
        items.append({"at": s.created_at, "kind": "surprise", "obj": s})
    for s in p["care_sends"]:
        items.append({"at": s.created_at, "kind": "care", "obj": s})
    for e in p["events"]:
        items.append({"at": e.created_at, "kind": "event", "obj": e})
    items.sort(key=lambda i: i["at"], reverse=True)
    return items[:limit]
