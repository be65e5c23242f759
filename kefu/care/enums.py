"""Choices and error codes of customer care (CRM-2 … CRM-5)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RevisitState(models.TextChoices):
    OPEN = "open", _("待回访")
    DONE = "done", pgettext_lazy("care", "已回访")
    CANCELLED = "cancelled", _("已取消")


class RevisitOutcome(models.TextChoices):
    """What a revisit call came to (seed 001: 肌肤状况, 产品使用情况)."""

    SATISFIED = "satisfied", _("满意")
    ISSUE = "issue", _("有问题需跟进")
    NO_ANSWER = "no_answer", _("未接通")
    DECLINED = "declined", _("不愿回访")
    WRONG_NUMBER = "wrong_number", _("号码错误")


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SCHEDULED = "scheduled", _("已排期")
    SENDING = "sending", _("发送中")
    DONE = "done", _("已发送")
    CANCELLED = "cancelled", _("已取消")


class SendOutcome(models.TextChoices):
    """What became of one buyer of a campaign. Delivery of a queued one is the outbox's state."""

    QUEUED = "queued", _("已交发件箱")
    OPTED_OUT = "opted_out", _("已退订，未发送")
    CAPPED = "capped", _("超过频次，未发送")
    NO_PHONE = "no_phone", _("无手机号，未发送")


class OptOutSource(models.TextChoices):
    REPLY = "reply", _("买家回复退订")
    AGENT = "agent", _("客服登记")
    API = "api", _("接口")


class SurpriseKind(models.TextChoices):
    """Seed 001 授权: a gift, something handmade, a card or another gesture."""

    GIFT = "gift", _("礼物")
    HANDMADE = "handmade", _("手工小物")
    CARD = "card", _("贺卡/手写信")
    OTHER = "other", _("其他心意")


class SurpriseState(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤回")


class ChurnReason(models.TextChoices):
    """Seed 003 §6.2.3: why a buyer may leave."""

    COMPLAINT = "complaint", _("投诉未解决")
    CASE = "case", _("售后未解决")
    REVIEW = "review", _("中差评未修改")
    SILENT = "silent", _("复购客户超期未购")


class CareErrorCode(models.TextChoices):
    BAD_SEGMENT = "bad_segment", "the segment is invalid"
    CONTENT_WARNINGS = "content_warnings", "the text names products, prices or links"
    BAD_STATE = "invalid_state", "not allowed in this state"
    NOT_OWNER = "not_owner", "only the owner records this revisit"
    ALREADY_DONE = "already_done", "already done"
    REQUEST_ID_REUSED = "request_id_reused", "request_id already used for another surprise"
