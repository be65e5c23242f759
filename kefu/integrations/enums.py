"""Webhook delivery states, rule vocabulary, tracking states and error codes (AUTO-2, AUTO-4, IN-4)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SUCCEEDED = "succeeded", _("已送达")
    FAILED = "failed", _("已放弃")  # retries for 24 h did not succeed (manual redelivery still possible)


class TrackingState(models.TextChoices):
    """What a courier scan means for the parcel (kuaidi100's state codes map onto these)."""

    SHIPPED = "shipped", _("已揽收")
    IN_TRANSIT = "in_transit", _("运输中")
    EXCEPTION = "exception", _("异常")
    SIGNED = "signed", _("已签收")
    RETURNED = "returned", _("退回")


class RuleErrorCode(models.TextChoices):
    MANAGER_ONLY = "manager_only", "managers and admins edit rules and webhooks"
    BAD_RULE = "bad_rule", "the rule's event, conditions or actions are not valid"
    BAD_URL = "bad_url", "the webhook URL is not allowed"
