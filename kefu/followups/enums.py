"""Follow-up kinds, states, actions, reason codes and the error codes of the follow-ups domain."""

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _


class FollowUpKind(models.TextChoices):
    LEAD = "lead", _("咨询未拍")
    PAYMENT_REMINDER = "payment_reminder", _("催付")
    PROMISED_ANSWER = "promised_answer", _("待查问题")


class FollowUpState(models.TextChoices):
    OPEN = "open", _("待跟进")
    CONTACTED = "contacted", _("已联系")
    CLOSED_WON = "closed_won", _("成功")
    CLOSED_LOST = "closed_lost", _("未成功")
    CANCELLED = "cancelled", _("已取消")


class FollowUpAction(models.TextChoices):
    CREATE = "create", _("创建")
    CONTACT = "contact", _("联系")
    WIN = "win", _("关闭：成功")
    LOSE = "lose", _("关闭：未成功")
    CANCEL = "cancel", _("取消")
    AUTO_WIN = "auto_win", _("自动关闭：已付款/已下单")
    AUTO_LOSE = "auto_lose", _("自动关闭：订单关闭")
    HANDOVER = "handover", _("账号交接")  # the owner changed (kefu.people.handover); the state did not


class FollowUpReason(models.TextChoices):
    # 咨询未拍 (PRE-1)
    SIZE_UNSURE = "size_unsure", _("尺码不确定")
    PRICE = "price", _("嫌贵")
    WAITING_PROMOTION = "waiting_promotion", _("等活动")
    COMPARING = "comparing", _("货比三家")
    STOCK = "stock", _("缺货/等到货")
    # 催付 (PRE-2)
    CANNOT_PAY = "cannot_pay", _("无法付款")
    PAY_LATER = "pay_later", _("稍后再付")
    AGREED_TIME = "agreed_time", _("约定时间付款")
    FRIEND_PAYS = "friend_pays", _("找朋友代付")
    VERIFY_ORDER = "verify_order", _("核对地址/数量/款式")
    # 待查问题 (PRE-3)
    CHECK_STOCK = "check_stock", _("查库存")
    CHECK_SHIPPING = "check_shipping", _("查物流")
    CHECK_PRODUCT = "check_product", _("查商品细节")
    ASK_WAREHOUSE = "ask_warehouse", _("问仓库")
    OTHER = "other", _("其他")


K, R = FollowUpKind, FollowUpReason
REASONS_BY_KIND: dict[str, tuple[str, ...]] = {
    K.LEAD: (R.SIZE_UNSURE, R.PRICE, R.WAITING_PROMOTION, R.COMPARING, R.STOCK, R.OTHER),
    K.PAYMENT_REMINDER: (R.CANNOT_PAY, R.PAY_LATER, R.AGREED_TIME, R.FRIEND_PAYS, R.VERIFY_ORDER, R.OTHER),
    K.PROMISED_ANSWER: (R.CHECK_STOCK, R.CHECK_SHIPPING, R.CHECK_PRODUCT, R.ASK_WAREHOUSE, R.OTHER),
}


class FollowUpErrorCode(models.TextChoices):
    INVALID_TRANSITION = "invalid_transition", "transition not allowed"
    NOT_OWNER = "not_owner", "only the owner or a supervisor may act on this follow-up"
    BAD_REASON = "bad_reason", "reason code not allowed for this kind"
    DEADLINE = "deadline", "promised answer deadline out of range"


ACTIVE_STATES = (FollowUpState.OPEN, FollowUpState.CONTACTED)
CLOSED_STATES = (FollowUpState.CLOSED_WON, FollowUpState.CLOSED_LOST, FollowUpState.CANCELLED)
# Kinds a person (page or API) may create; payment reminders come from the scheduler rule.
MANUAL_KINDS = (FollowUpKind.LEAD, FollowUpKind.PROMISED_ANSWER)

# PRE-2: orders older than this are history (an import of last month), never reminded.
PAYMENT_REMINDER_LOOKBACK = dt.timedelta(hours=24)
# The agent should contact the buyer within this time of the task being created.
PAYMENT_REMINDER_DUE = dt.timedelta(hours=1)
# PRE-3: a promised answer is due at most 24 h after it was promised.
PROMISED_ANSWER_MAX = dt.timedelta(hours=24)
