from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReviewState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    APPEALED = "appealed", _("申诉中")
    DECIDED = "decided", _("申诉已裁定")


# Reviews the agent may see (blind until submitted) and that count in figures.
VISIBLE_STATES = (ReviewState.SUBMITTED, ReviewState.ACKNOWLEDGED, ReviewState.APPEALED, ReviewState.DECIDED)


class ReviewAction(models.TextChoices):
    CREATED = "created", _("开始质检")
    SUBMITTED = "submitted", pgettext_lazy("quality review history", "提交")  # "Submit" is the button
    ACKNOWLEDGED = "acknowledged", _("客服确认")
    APPEALED = "appealed", _("申诉")
    DECIDED = "decided", _("裁定")


class SampleState(models.TextChoices):
    PENDING = "pending", _("待质检")
    REVIEWED = "reviewed", _("已质检")
    SKIPPED = "skipped", _("已跳过")


class AppealState(models.TextChoices):
    OPEN = "open", _("待裁定")
    ACCEPTED = "accepted", _("申诉成立")
    REJECTED = "rejected", _("申诉驳回")


class FlagKind(models.TextChoices):
    UNANSWERED = "unanswered", _("买家未回复")
    SLOW_TURN = "slow_turn", _("响应慢")
    ANGER = "anger", _("买家愤怒")
    RUDE = "rude", _("不文明用语")
    BANNED = "banned", _("违禁词")
    PROMISE = "promise", _("做出承诺")
    AFTER_HOURS = "after_hours", _("服务时间外发送")


class CaseKind(models.TextChoices):
    GOOD = "good", _("优秀案例")
    BAD = "bad", _("反面案例")


class QaError(models.TextChoices):
    """Error codes of quality inspection (core.errors maps them to HTTP statuses)."""

    INVALID = "invalid", _("输入无效")
    FORBIDDEN = "forbidden", _("无权操作")
    NOT_OWNER = "not_owner", _("不是本人")
    ALREADY_DECIDED = "already_decided", _("已裁定")
    ALREADY_DONE = "already_done", _("已处理")
    STALE = "stale_version", _("已被修改")
