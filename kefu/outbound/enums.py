from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboundState(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


# The SMS channel (CRM-3 care messages): addressed to `recipient`, a phone number, and drained from
# the outbox by an SMS provider's connector like any other channel.
SMS_CHANNEL = "sms"


class OutboundKind(models.TextChoices):
    REPLY = "reply", _("客服回复")
    OFFLINE_GREETING = "offline_greeting", _("离线问候")
    CARE = "care", _("关怀短信")
    RATING_INVITE = "rating_invite", _("邀请评价")
    OTHER = "other", _("其他")


# A connector reports the result of a queued message; nothing else moves the state.
OUTBOUND_TRANSITIONS: dict[str, set[str]] = {
    OutboundState.QUEUED: {OutboundState.SENT, OutboundState.FAILED},
    OutboundState.FAILED: {OutboundState.QUEUED, OutboundState.SENT},
    OutboundState.SENT: set(),
}


class OutboundError(models.TextChoices):
    INVALID = "invalid", "invalid"
    STATE = "invalid_state", "invalid state"
    FORBIDDEN = "forbidden", "forbidden"
    UNFILLED = "unfilled_variable", "a script variable is not filled in"
