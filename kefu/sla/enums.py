"""SLA targets, clock states, outcomes, alert kinds and error codes (AFT-4, AUTO-1)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Target(models.TextChoices):
    FIRST_REPLY = "first_reply", _("首次响应")
    NEXT_REPLY = "next_reply", _("后续响应")
    RESOLUTION = "resolution", _("解决时限")


# Reply targets run on conversations, the resolution target on after-sales cases.
CONVERSATION_TARGETS = (Target.FIRST_REPLY, Target.NEXT_REPLY)
CASE_TARGETS = (Target.RESOLUTION,)


class ClockState(models.TextChoices):
    ACTIVE = "active", _("计时中")
    WARNED = "warned", _("即将超时")
    HIT = "hit", _("达标")
    MISSED = "missed", _("超时")


class Outcome(models.TextChoices):
    """SPEC §12 SLA outcome of a conversation or case under its policy."""

    HIT = "hit", _("达标")
    MISSED = "missed", _("未达标")
    ACTIVE = "active", _("计时中")
    ACTIVE_MISSED = "active_missed", _("计时中（已有超时）")


class AlertKind(models.TextChoices):
    WARNING = "warning", _("即将超时提醒")
    BREACH = "breach", _("超时升级")


class ConversationKind(models.TextChoices):
    AFTERSALES = "aftersales", _("售后")
    PRESALES = "presales", _("售前/询单")


class SlaErrorCode(models.TextChoices):
    NOT_MANAGER = "not_manager", "managers and admins edit SLA policies"
    DUPLICATE_NAME = "duplicate_name", "a policy of this name exists"
    NO_TARGET = "no_target", "a policy needs at least one target"
