"""Shipping issue kinds, states, resolution actions and the error codes of the shipping domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IssueKind(models.TextChoices):
    LATE = "late", _("超时未发货")
    OVERDUE_HARD = "overdue_hard", _("超过发货时限")
    OUT_OF_STOCK = "out_of_stock", _("缺货")
    OVERSOLD = "oversold", _("超卖")
    AFTER_CARE = "after_care", _("售后关怀")


class IssueState(models.TextChoices):
    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已处理")


class IssueAction(models.TextChoices):
    CREATE = "create", _("列入清单")
    # people
    URGE_WAREHOUSE = "urge_warehouse", _("催促仓库")
    BUYER_WAIT = "buyer_wait", _("联系买家：同意等待")
    BUYER_SWAP = "buyer_swap", _("联系买家：换款")
    BUYER_REFUND = "buyer_refund", _("联系买家：退款")
    REISSUE = "reissue", _("补发")
    CANCEL = "cancel", _("取消订单")
    SHIPPED = "shipped", _("已发货")
    AFTERCARE_DONE = "aftercare_done", _("已回访")
    BUYER_UNREACHABLE = "buyer_unreachable", _("联系不上买家")
    # the system
    AUTO_SHIPPED = "auto_shipped", _("自动关闭：订单已发货")
    AUTO_CLOSED = "auto_closed", _("自动关闭：订单已关闭/退款")
    AUTO_RESTOCKED = "auto_restocked", _("自动关闭：已补货")
    ESCALATED = "escalated", _("升级为超过发货时限")


class IssueErrorCode(models.TextChoices):
    INVALID_TRANSITION = "invalid_transition", "the issue is resolved already"
    BAD_ACTION = "bad_action", "action not allowed for this kind of issue"
    NOT_ALLOWED = "not_allowed", "your role may not act on this issue"


K, A = IssueKind, IssueAction
DELAY_ACTIONS = (A.URGE_WAREHOUSE, A.BUYER_WAIT, A.BUYER_REFUND, A.REISSUE, A.CANCEL, A.SHIPPED)
STOCK_ACTIONS = (A.BUYER_WAIT, A.BUYER_SWAP, A.BUYER_REFUND, A.CANCEL, A.SHIPPED)
# What a person may resolve each kind with; there is no plain "dismiss".
ACTIONS_BY_KIND: dict[str, tuple[str, ...]] = {
    K.LATE: DELAY_ACTIONS,
    K.OVERDUE_HARD: DELAY_ACTIONS,
    K.OUT_OF_STOCK: STOCK_ACTIONS,
    K.OVERSOLD: STOCK_ACTIONS,
    K.AFTER_CARE: (A.AFTERCARE_DONE, A.BUYER_UNREACHABLE),
}
PERSON_ACTIONS = tuple(dict.fromkeys(a for acts in ACTIONS_BY_KIND.values() for a in acts))
SYSTEM_ACTIONS = (A.AUTO_SHIPPED, A.AUTO_CLOSED, A.AUTO_RESTOCKED, A.ESCALATED)
DELAY_KINDS = (K.LATE, K.OVERDUE_HARD)
STOCK_KINDS = (K.OUT_OF_STOCK, K.OVERSOLD)
# The warehouse sees the delayed orders and may mark them shipped or reissued.
WAREHOUSE_KINDS = DELAY_KINDS
WAREHOUSE_ACTIONS = (A.SHIPPED, A.REISSUE)
KIND_ORDER = (K.OVERDUE_HARD, K.LATE, K.OVERSOLD, K.OUT_OF_STOCK, K.AFTER_CARE)
