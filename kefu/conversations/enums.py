from django.db import models
from django.utils.translation import gettext_lazy as _


class Sender(models.TextChoices):
    BUYER = "buyer", _("买家")
    AGENT = "agent", _("客服")
    BOT = "bot", _("机器人/自动回复")
    SYSTEM = "system", _("系统")


class QueueReason(models.TextChoices):
    OFFLINE = "offline", _("无人在班")
    BUSY = "busy", _("客服已满")


class ConversationEventKind(models.TextChoices):
    ROUTED = "routed", _("自动分配")
    STICKY = "sticky", _("分配给上次的客服")
    QUEUED = "queued", _("排队")
    HANDED_OUT = "handed_out", _("上班后分配")
    ASSIGNED = "assigned", _("指派")
    TRANSFERRED = "transferred", _("转接")
    CLOSED = "closed", _("关闭")
    REOPENED = "reopened", _("重新打开")
    MERGED = "merged", _("合并")
    GREETED = "greeted", _("发送离线问候")


class ConversationError(models.TextChoices):
    """Error codes of this domain (KefuError.code)."""

    INVALID = "invalid", "invalid"
    STATE = "invalid_state", "invalid state"
    FORBIDDEN = "forbidden", "forbidden"
    EXISTS = "exists", "exists"
