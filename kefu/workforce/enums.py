from django.db import models
from django.utils.translation import gettext_lazy as _


class ShiftGroup(models.TextChoices):
    """Which group a shift type is for; `any` fits every agent."""

    ANY = "any", _("全部")
    PRESALES = "presales", _("售前接待组")
    AFTERSALES = "aftersales", _("售后退货退款组")


class PresenceStatus(models.TextChoices):
    ONLINE = "online", _("在线")
    AWAY = "away", _("离开")
    OFFLINE = "offline", _("离线")


class PresenceSource(models.TextChoices):
    WEB = "web", _("网页")
    API = "api", _("接口")
    SYSTEM = "system", _("系统")


class SwapStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤回")


# The swap state machine: state → states it may move to.
SWAP_TRANSITIONS: dict[str, set[str]] = {
    SwapStatus.REQUESTED: {SwapStatus.APPROVED, SwapStatus.REJECTED, SwapStatus.CANCELLED},
    SwapStatus.APPROVED: set(),
    SwapStatus.REJECTED: set(),
    SwapStatus.CANCELLED: set(),
}


class WorkforceError(models.TextChoices):
    """Error codes of this domain (KefuError.code)."""

    INVALID = "invalid", "invalid"
    OVERLAP = "shift_overlap", "shift overlap"
    GROUP = "wrong_group", "wrong group"
    EXISTS = "exists", "exists"
    STATE = "invalid_state", "invalid state"
    FORBIDDEN = "forbidden", "forbidden"
