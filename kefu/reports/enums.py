"""States, periods and error codes of the reports (WF-6 daily sales reports, WF-8 reports up)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyState(models.TextChoices):
    PENDING = "pending", _("待签字")
    SIGNED = "signed", _("已签字")


class Period(models.TextChoices):
    DAY = "day", _("日报")
    WEEK = "week", _("周报")
    MONTH = "month", _("月报")


class AgentReportState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    ANSWERED = "answered", _("已回复")


class ReportError(models.TextChoices):
    """Error codes (KefuError.code); kefu.core.errors maps them to HTTP statuses."""

    INVALID = "invalid", "invalid"
    NOT_OWNER = "not_owner", "not the owner"
    SUPERVISOR_ONLY = "supervisor_only", "supervisor only"
    STATE = "invalid_state", "invalid state"
    DONE = "already_done", "already done"
