"""Script categories, the stable keys other apps render by, and the error codes of the scripts domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScriptCategory(models.TextChoices):
    OPENING = "opening", _("开场")
    BARGAINING = "bargaining", _("议价")
    SHIPPING_FEE = "shipping_fee", _("补邮费")
    PAYMENT_REMINDER = "payment_reminder", _("催付")
    OFFLINE_GREETING = "offline_greeting", _("离线留言回复")
    CLOSING = "closing", _("结束语/求好评")
    SHIPPING = "shipping", _("发货/物流")
    AFTER_SALES = "after_sales", _("售后")
    APOLOGY = "apology", _("致歉")
    COMPLAINT = "complaint", _("投诉安抚")
    CAMPAIGN = "campaign", _("活动")
    OTHER = "other", _("其他")


class ScriptErrorCode(models.TextChoices):
    UNKNOWN_VARIABLE = "unknown_variable", "the body uses a variable that does not exist"
    BAD_BRACES = "bad_braces", "a brace is not closed or not opened"
    KEY_TAKEN = "key_taken", "another script of the shop has this key"
    NOT_ALLOWED = "forbidden", "only supervisors and managers edit shop scripts"
    BAD_DATES = "bad_dates", "the campaign ends before it starts"
    STALE_VERSION = "stale_version", "the script changed since it was read"
