"""Reads of the integrations app; every one takes the shop (404 for another shop's ids)."""

from django.http import Http404

from kefu.core.models import Shop

from .models import AutomationRule, RuleFiring, TrackingEvent, WebhookDelivery, WebhookSubscription


def subscriptions(*, shop: Shop):
    return WebhookSubscription.objects.filter(shop=shop).order_by("id")


def subscription_get(*, shop: Shop, id: int) -> WebhookSubscription:
    s = WebhookSubscription.objects.filter(shop=shop, pk=id).first()
    if s is None:
        raise Http404("webhook")
    return s


def deliveries(*, subscription: WebhookSubscription, state: str | None = None):
    qs = WebhookDelivery.objects.filter(subscription=subscription).select_related("event").order_by("-id")
    return qs.filter(state=state) if state else qs


def delivery_get(*, shop: Shop, id: int) -> WebhookDelivery:
    d = WebhookDelivery.objects.filter(shop=shop, pk=id).select_related("event", "subscription").first()
    if d is None:
        raise Http404("delivery")
    return d


def rules(*, shop: Shop):
    return AutomationRule.objects.filter(shop=shop).order_by("position", "id")


def rule_get(*, shop: Shop, id: int) -> AutomationRule:
    r = AutomationRule.objects.filter(shop=shop, pk=id).first()
    if r is None:
        raise Http404("rule")
    return r


def firings(*, shop: Shop, subject: str, subject_id: int):
    return RuleFiring.objects.filter(shop=shop, subject=subject, subject_id=subject_id).select_related("rule")


def order_tracking(*, order) -> list[TrackingEvent]:
    """The order's scans, newest first (its own tracking number's, also those stored before the order)."""
    qs = TrackingEvent.objects.filter(shop_id=order.shop_id)
    if order.tracking_no:
        qs = qs.filter(tracking_no=order.tracking_no)
    else:
        qs = qs.filter(order=order)
    return list(qs.order_by("-at", "-id"))
