"""Grading rule modes and the error codes of the customer-care domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleMatch(models.TextChoices):
    ANY = "any", _("满足任一条件")
    ALL = "all", _("同时满足")


class CrmErrorCode(models.TextChoices):
    UNKNOWN_GRADE = "unknown_grade", "the grade is not one of the shop's grading rules"
    REASON_REQUIRED = "reason_required", "a manual grade needs a reason"
    BAD_RULE = "bad_rule", "a grading rule is invalid"
    BAD_DATES = "bad_dates", "the promotion ends before it starts"
