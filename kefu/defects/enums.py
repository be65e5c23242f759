"""Production alert states and actions, report groupings, and the error codes of the defects domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.aftersales.enums import CaseReason
from kefu.core.enums import Role


class AlertState(models.TextChoices):
    OPEN = "open", _("待处理")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    CLOSED = "closed", _("已关闭")


class AlertAction(models.TextChoices):
    RAISE = "raise", _("触发预警")
    ATTACH = "attach", _("新增反馈")
    ACKNOWLEDGE = "acknowledge", _("确认")
    CLOSE = "close", _("关闭")


class Aspect(models.TextChoices):
    STYLE = "style", _("款式")
    SIZE = "size", _("尺码")
    COLOUR = "colour", _("颜色")
    QUALITY = "quality", _("质量")


class Polarity(models.TextChoices):
    POSITIVE = "positive", _("好评")
    NEGATIVE = "negative", _("差评")


class GroupBy(models.TextChoices):
    DAY = "day", _("按日")
    WEEK = "week", _("按周")
    MONTH = "month", _("按月")


class DefectErrorCode(models.TextChoices):
    INVALID_TRANSITION = "invalid_transition", "transition not allowed"
    MANAGER_ONLY = "manager_only", "only a manager may do this"


# Reasons a shop counts as a production/quality problem unless it sets its own (AFT-8, 001 allergy).
DEFAULT_REASONS = (CaseReason.QUALITY, CaseReason.ALLERGY)
DEFAULT_THRESHOLD = 3
DEFAULT_WINDOW_DAYS = 7
THRESHOLD_RANGE = (2, 100)
WINDOW_RANGE = (1, 90)

# Who sees alerts and the report; who may act on alerts and edit the rule.
VIEW_ROLES = (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
MANAGE_ROLES = (Role.MANAGER, Role.ADMIN)
# Who is notified when an alert is raised.
NOTIFY_ROLES = (Role.MANAGER,)

ACTIVE_STATES = (AlertState.OPEN,)
