"""Outbox events, webhook subscriptions and deliveries, automation rules and their firings,
courier tracking events (AUTO-2, AUTO-4, IN-4)."""

import datetime as dt
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop

from .enums import DeliveryState, TrackingState


class OutboxEvent(models.Model):
    """Something that happened, written in the same transaction as the change it describes.

    `event_id` is what receivers de-duplicate on; it never changes across retries and redeliveries.
    `dispatched_at` is set once a delivery row exists for every subscription that wanted it; the
    scheduler sweeps rows still undispatched (a crash between commit and dispatch loses nothing).
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(_("事件"), max_length=60)
    subject = models.CharField(_("对象"), max_length=30, blank=True)  # conversation, order, case …
    subject_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict)
    # the rules whose actions led to this event: they do not run on it (no loops)
    caused_by = models.JSONField(default=list)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    rules_done_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["dispatched_at", "id"]), models.Index(fields=["rules_done_at", "id"]),
                   models.Index(fields=["shop", "type", "-id"])]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class WebhookSubscription(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("名称"), max_length=60)
    url = models.URLField(_("接收地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=100)
    # event type names; ["*"] = every event
    event_types = models.JSONField(_("事件"), default=list)
    active = models.BooleanField(_("启用"), default=True)
    # failed attempts in a row (a success resets it); past the limit the subscription is disabled
    failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)  # first failure after the last success
    disabled_reason = models.CharField(_("停用原因"), max_length=300, blank=True)
    created_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event for one subscription: attempts until a 2xx, with back-off, for 24 hours."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(_("状态"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # a worker that claims the delivery owns it until then (a dead worker's claim expires)
    claimed_until = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("耗时(毫秒)"), null=True, blank=True)
    response = models.CharField(_("响应"), max_length=500, blank=True)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="delivery_once_per_subscription")]
        indexes = [models.Index(fields=["state", "next_attempt_at"]), models.Index(fields=["subscription", "-id"])]


class WebhookAttempt(models.Model):
    """The delivery log: every POST with its answer."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    manual = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["delivery", "-id"])]


class AutomationRule(models.Model):
    """A shop-defined rule: on an event, when every condition holds, run the actions in order."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("名称"), max_length=60)
    event_type = models.CharField(_("事件"), max_length=60)
    conditions = models.JSONField(_("条件"), default=list)
    actions = models.JSONField(_("动作"), default=list)
    position = models.PositiveIntegerField(_("顺序"), default=0)
    stop = models.BooleanField(_("命中后不再执行后面的规则"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    updated_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["shop", "event_type", "position"])]

    def __str__(self) -> str:
        return self.name


class RuleFiring(models.Model):
    """A rule that matched an event and what its actions did; shown on the object's timeline."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="firings")
    event_type = models.CharField(max_length=60)
    event_id = models.UUIDField(null=True, blank=True)
    subject = models.CharField(max_length=30, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    results = models.JSONField(default=list)  # [{"action": "assign", "ok": true, "note": "…"}]
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "subject", "subject_id"]), models.Index(fields=["rule", "-id"])]


class TrackingEvent(models.Model):
    """One courier scan of a parcel (kuaidi100-style push or a file), idempotent by (number, time, state)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    tracking_no = models.CharField(_("物流单号"), max_length=64)
    courier = models.CharField(_("快递公司"), max_length=40, blank=True)
    order = models.ForeignKey("orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="tracking")
    state = models.CharField(_("状态"), max_length=12, choices=TrackingState.choices)
    raw_state = models.CharField(max_length=10, blank=True)
    at = models.DateTimeField(_("时间"))
    context = models.CharField(_("描述"), max_length=500, blank=True)
    location = models.CharField(_("地点"), max_length=100, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "tracking_no", "at", "state"], name="tracking_event_once")]
        indexes = [models.Index(fields=["shop", "tracking_no", "at"]), models.Index(fields=["order", "at"])]

    @property
    def came_late(self) -> bool:
        """Received more than an hour after the scan (a file imported later, a delayed push)."""
        return self.received_at is not None and self.received_at - self.at > dt.timedelta(hours=1)
