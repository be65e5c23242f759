"""Complaints (CMP-1), review tasks (CMP-2), disputes (CMP-3) and service ratings (AUTO-3):
states, actions, the seed-003 buyer types, four stages and seven steps, and error codes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ComplaintSource(models.TextChoices):
    BUYER = "buyer", _("买家投诉")
    COLLEAGUE = "colleague", _("同事反映")


class ComplaintCategory(models.TextChoices):
    SLOW_REPLY = "slow_reply", _("回复慢")
    ATTITUDE = "attitude", _("服务态度")
    PRODUCT = "product", _("商品质量")
    SHIPPING = "shipping", _("物流发货")
    AFTERSALES = "aftersales", _("售后处理")
    OTHER = "other", _("其他")


class BuyerType(models.TextChoices):
    """Seed 003 §6.2.1 投诉类型 (with its 'unknown' for a first contact)."""

    FRIENDLY = "friendly", _("友善型")
    ASSERTIVE = "assertive", _("独断型")
    ANALYTICAL = "analytical", _("分析型")
    SELF_CENTRED = "self_centred", _("自我型")
    UNKNOWN = "unknown", _("未判断")


class ComplaintState(models.TextChoices):
    """Seed 003: 接受投诉阶段、解释澄清阶段、提出解决方案阶段、回访阶段, then closed."""

    ACCEPT = "accept", _("接受投诉")
    CLARIFY = "clarify", _("解释澄清")
    SOLUTION = "solution", _("提出解决方案")
    REVISIT = "revisit", _("回访")
    CLOSED = "closed", _("已结案")


class ComplaintAction(models.TextChoices):
    CREATE = "create", _("登记")
    ADVANCE = "advance", _("进入下一阶段")
    CLOSE = "close", _("结案")
    DISMISS = "dismiss", _("撤销（不成立）")
    CHECK = "check", _("完成步骤")
    REMEDY = "remedy", _("确定补救措施")
    VERDICT = "verdict", _("判定")
    REVISIT_DUE = "revisit_due", _("回访提醒")
    HANDOVER = "handover", _("账号交接")  # the owner changed (kefu.people.handover); the state did not


class ComplaintStep(models.TextChoices):
    """Seed 003 §6.2.1 解决客户投诉的步骤 (1)–(7)."""

    ACCEPT_QUICKLY = "accept_quickly", _("1 迅速接受投诉，决不拖延")
    CALM = "calm", _("2 匹配客户情况，平息怒气")
    CLARIFY = "clarify", _("3 总结并澄清问题，让客户宣泄情绪")
    OPTIONS = "options", _("4 提供选择，关注解决方案")
    AGREE = "agree", _("5 在方案上达成共识并采取行动")
    THANK = "thank", _("6 感谢客户，表示诚意（歉意）")
    TRACK = "track", _("7 跟踪并监控问题的执行")


# The steps a stage must have done before the complaint leaves it.
STEPS_BY_STATE: dict[str, tuple[str, ...]] = {
    ComplaintState.ACCEPT: (ComplaintStep.ACCEPT_QUICKLY, ComplaintStep.CALM),
    ComplaintState.CLARIFY: (ComplaintStep.CLARIFY,),
    ComplaintState.SOLUTION: (ComplaintStep.OPTIONS, ComplaintStep.AGREE, ComplaintStep.THANK),
    ComplaintState.REVISIT: (ComplaintStep.TRACK,),
}
STATE_OF_STEP = {step: state for state, steps in STEPS_BY_STATE.items() for step in steps}
STATE_ORDER = [ComplaintState.ACCEPT, ComplaintState.CLARIFY, ComplaintState.SOLUTION, ComplaintState.REVISIT,
               ComplaintState.CLOSED]


class RemedyKind(models.TextChoices):
    APOLOGY = "apology", _("道歉")
    EXPLANATION = "explanation", _("解释说明")
    EXCHANGE = "exchange", _("换货")
    RESEND = "resend", _("补发")
    REFUND = "refund", _("退款")
    COMPENSATION = "compensation", _("补偿")
    COACHING = "coaching", _("客服整改/培训")
    OTHER = "other", _("其他")


class Verdict(models.TextChoices):
    PENDING = "pending", _("待判定")
    UPHELD = "upheld", _("成立")
    REJECTED = "rejected", _("不成立")


class ReviewLevel(models.TextChoices):
    GOOD = "good", _("好评")
    MEDIUM = "medium", _("中评")
    BAD = "bad", _("差评")


class ReviewTaskState(models.TextChoices):
    OPEN = "open", _("待联系")
    CONTACTED = "contacted", _("已联系")
    RESOLVED = "resolved", _("已解决待改评")
    CLOSED = "closed", _("已关闭")


class ReviewTaskAction(models.TextChoices):
    CREATE = "create", _("创建")
    CONTACT = "contact", _("联系买家")
    RESOLVE = "resolve", _("已解决，请求修改评价")
    CLOSE = "close", _("关闭")


class ReviewOutcome(models.TextChoices):
    """SPEC CMP-2 (revised, explained, refused) and the platform removing the review."""

    REVISED = "revised", _("已改为好评")
    EXPLAINED = "explained", _("未改，已解释/追评")
    REFUSED = "refused", _("买家拒绝修改")
    REMOVED = "removed", _("平台删除")


class DisputeKind(models.TextChoices):
    EXTRA_ITEM_DENIED = "extra_item_denied", _("多发商品买家否认")
    NOT_RECEIVED = "not_received", _("买家称未收到")
    MALICIOUS_REVIEW = "malicious_review", _("恶意评价")
    RETURN_MISMATCH = "return_mismatch", _("退回商品不符")
    PENALTY = "penalty", _("平台处罚申诉")
    OTHER = "other", _("其他")


class DisputeState(models.TextChoices):
    OPEN = "open", _("准备中")
    SUBMITTED = "submitted", _("已提交平台")
    WON = "won", _("申诉成功")
    LOST = "lost", _("申诉失败")
    WITHDRAWN = "withdrawn", _("已撤回")


class DisputeAction(models.TextChoices):
    CREATE = "create", _("创建")
    EVIDENCE = "evidence", _("上传凭证")
    SUBMIT = "submit", _("提交平台")
    WIN = "win", _("结果：成功")
    LOSE = "lose", _("结果：失败")
    WITHDRAW = "withdraw", _("撤回")


class InvitationState(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已交发件箱")  # handed to kefu.outbound; delivery is the connector's to report
    RATED = "rated", _("已评价")


class RatingScore(models.IntegerChoices):
    VERY_DISSATISFIED = 1, _("非常不满意")
    DISSATISFIED = 2, _("不满意")
    NEUTRAL = 3, _("一般")
    SATISFIED = 4, _("满意")
    VERY_SATISFIED = 5, _("非常满意")


# §12: CSAT = ratings in the top two levels / rated invitations.
SATISFIED_SCORES = (RatingScore.SATISFIED, RatingScore.VERY_SATISFIED)


class ComplaintErrorCode(models.TextChoices):
    INVALID_TRANSITION = "invalid_transition", "transition not allowed"
    STEPS_MISSING = "steps_missing", "the stage's checklist steps are not done"
    NOT_OWNER = "not_owner", "only the owner or a supervisor may act"
    SUPERVISOR_ONLY = "supervisor_only", "supervisors and up only"
    ALREADY_RATED = "already_rated", "this invitation is already rated"
    EXISTS = "exists", "already exists"
    BAD_FILE = "bad_file", "file type or size not accepted"


EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
# Evidence of a dispute: what kefu.core.files.sniff recognises, plus plain-text chat transcripts.
EVIDENCE_TYPES = ("jpg", "jpeg", "png", "gif", "webp", "pdf", "mp4", "txt")
REVIEW_BATCH_MAX = 1000
