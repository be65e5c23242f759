from django.db import models
from django.utils.translation import gettext_lazy as _

CHANNEL = "webchat"  # Message.channel of every message held in the widget


class EventKind(models.TextChoices):
    MESSAGE = "message", _("消息")
    TYPING = "typing", _("正在输入")
    READ = "read", _("已读")
    ASSIGNED = "assigned", _("分配")
    CLOSED = "closed", _("关闭")
    RATING = "rating", _("邀请评价")
    NOTE = "note", _("内部备注")
    PRESENCE = "presence", _("在线状态")
    SPAM = "spam", _("标记骚扰")


class Audience(models.TextChoices):
    """Who may receive an event: the shop's people, the buyer's widget, or both."""

    STAFF = "staff", _("客服")
    BUYER = "buyer", _("买家")
    BOTH = "both", _("双方")


class IdentityKind(models.TextChoices):
    ANONYMOUS = "anonymous", _("匿名访客")
    VERIFIED = "verified", _("已验证会员")


class SpamReportState(models.TextChoices):
    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("已驳回")


class LiveError(models.TextChoices):
    """Error codes of the live channel (KefuError.code)."""

    INVALID = "invalid", "invalid"
    IDENTITY = "identity_refused", "identity refused"
    RATE_LIMITED = "rate_limited", "rate limited"
    BLOCKED = "blocked", "blocked"
    DISABLED = "widget_disabled", "widget disabled"
    UNFILLED = "unfilled_variable", "unfilled variable"
    FORBIDDEN = "forbidden", "forbidden"
    FILE_TYPE = "file_type", "file type"
    FILE_SIZE = "file_size", "file size"
    DECIDED = "already_decided", "already decided"
