"""States, kinds and error codes of people management (WF-2 … WF-9, CONV-8)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# ---------------------------------------------------------------- attendance (WF-2)

class ClockKind(models.TextChoices):
    IN = "in", _("上班打卡")
    OUT = "out", _("下班打卡")


class ClockSource(models.TextChoices):
    WEB = "web", _("网页")
    API = "api", _("接口")


class AttendanceStatus(models.TextChoices):
    """One agent's shop day, as the month sheet colours it."""

    REST = "rest", _("休息")
    PENDING = "pending", _("未结束")
    ON_TIME = "on_time", _("正常")
    LATE = "late", _("迟到")
    ABSENT = "absent", _("缺勤")
    UNAUTHORISED = "unauthorised", _("旷工")
    LEAVE = "leave", _("请假")
    REST_ADJUSTED = "rest_adjusted", _("调休")
    FORGOT = "forgot", _("漏打卡")


# A supervisor's correction may set these states by hand (the others follow from the clock).
CORRECTABLE_STATUSES = (AttendanceStatus.ON_TIME, AttendanceStatus.LATE, AttendanceStatus.ABSENT,
                        AttendanceStatus.UNAUTHORISED, AttendanceStatus.LEAVE, AttendanceStatus.REST_ADJUSTED,
                        AttendanceStatus.FORGOT, AttendanceStatus.REST)


class LeaveKind(models.TextChoices):
    LEAVE = "leave", _("请假")
    REST_ADJUSTED = "rest_adjusted", _("调休")


class RequestState(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤回")


LEAVE_TRANSITIONS: dict[str, set[str]] = {
    RequestState.REQUESTED: {RequestState.APPROVED, RequestState.REJECTED, RequestState.CANCELLED},
    # An approved leave may still be withdrawn (by the agent before it starts, by a supervisor any time).
    RequestState.APPROVED: {RequestState.CANCELLED},
    RequestState.REJECTED: set(),
    RequestState.CANCELLED: set(),
}


# ---------------------------------------------------------------- penalty ledger (WF-4)

class RuleSource(models.TextChoices):
    """What feeds a penalty rule: a derived rule reads its source; a manual one is chosen by a supervisor."""

    LATE = "late", _("迟到")
    ABSENT = "absent", _("缺勤")
    UNAUTHORISED = "unauthorised", _("旷工")
    NOT_ONLINE = "not_online", _("在班未在线")
    COMPLAINT_SLOW = "complaint_slow", _("未及时应答投诉")
    COMPLAINT_RUDE = "complaint_rude", _("服务态度投诉")
    KNOWLEDGE = "knowledge", _("业务知识错误（质检追溯）")
    MANUAL = "manual", _("主管扣分")


class DeductionKind(models.TextChoices):
    AUTO = "auto", _("自动")
    MANUAL = "manual", _("手工")
    ADJUSTMENT = "adjustment", _("上月调整")


class DeductionStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    VOIDED = "voided", _("来源已更正")
    REVERSED = "reversed", _("已撤销")
    GRANTED = "granted", _("申诉成功")


class SourceType(models.TextChoices):
    ATTENDANCE = "attendance", _("考勤")
    PRESENCE = "presence", _("在线状态")
    COMPLAINT = "complaint", _("投诉")
    MANUAL = "manual", _("主管")


class AppealState(models.TextChoices):
    PENDING = "pending", _("待处理")
    GRANTED = "granted", _("申诉成功")
    REJECTED = "rejected", _("驳回")


class WarningLevel(models.TextChoices):
    VERBAL = "verbal", _("口头警告")
    PENALTY = "penalty", _("处罚")
    SEVERE = "severe", _("严厉处罚（报总经理）")


class MonthState(models.TextChoices):
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结算")
    LOCKED = "locked", _("已锁定")


# ---------------------------------------------------------------- commissions (WF-5)

class PlanMode(models.TextChoices):
    WHOLE = "whole", _("阶梯全额（达到哪档按哪档比例计全部）")
    PROGRESSIVE = "progressive", _("超额累进（每段按各自比例）")


class BonusKind(models.TextChoices):
    """002 §四.2: 业绩突出, 挽回重大经济损失, 表现突出足为楷模 (and anything else, with its reason)."""

    OUTSTANDING = "outstanding", _("业绩突出")
    LOSS_RECOVERED = "loss_recovered", _("挽回经济损失")
    EXEMPLARY = "exemplary", _("表现突出")
    OTHER = "other", _("其他")


class BonusState(models.TextChoices):
    PROPOSED = "proposed", _("待批准")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class RankingMetric(models.TextChoices):
    """What a ranking incentive ranks a month by (each read by the code that shows it elsewhere)."""

    SALES = "sales", _("计提销售额")
    KPI_SCORE = "kpi_score", _("绩效分")
    TYPING = "typing", _("打字进步（净速度）")


class WishState(models.TextChoices):
    OPEN = "open", _("心愿中")
    GRANTED = "granted", _("已实现")
    WITHDRAWN = "withdrawn", _("已撤回")


class LineKind(models.TextChoices):
    ORDER = "order", _("订单")
    CLAWBACK = "clawback", _("追回/补发")
    BONUS = "bonus", _("奖金")
    RANKING = "ranking", _("排名奖励")
    DEDUCTION = "deduction", _("扣分扣款")


# ---------------------------------------------------------------- onboarding and typing (WF-7, WF-9)

class TraineeState(models.TextChoices):
    TRAINING = "training", _("培训中")
    PROBATION = "probation", _("试岗中")
    CONFIRMED = "confirmed", _("已转正")
    FAILED = "failed", _("未通过")


IN_PROBATION = ("training", "probation")  # plain values: the model's partial unique constraint uses them

# The onboarding state machine (WF-7): the exam passed opens probation; a supervisor confirms (after the
# mentor signed off) or fails the trainee; a failed exam keeps the trainee in training (retake).
TRAINEE_TRANSITIONS: dict[str, set[str]] = {
    TraineeState.TRAINING: {TraineeState.PROBATION, TraineeState.FAILED},
    TraineeState.PROBATION: {TraineeState.CONFIRMED, TraineeState.FAILED},
    TraineeState.CONFIRMED: set(),
    TraineeState.FAILED: set(),
}


class TypingKind(models.TextChoices):
    PRACTICE = "practice", _("每周练习")
    TEST = "test", _("月度测试")


# ---------------------------------------------------------------- account handover (CONV-8)

class HandoverItemKind(models.TextChoices):
    """What a handover moved from the former owner to the new one (one HandoverItem row each)."""

    BUYER = "buyer", _("买家")
    FOLLOWUP = "followup", _("跟进")
    REVISIT = "revisit", _("回访")
    CASE = "case", _("售后单")
    COMPLAINT = "complaint", _("投诉")
    CONVERSATION = "conversation", _("进行中的会话")
    ACCOUNT = "account", _("客服号")


class PeopleError(models.TextChoices):
    """Error codes of this domain (KefuError.code); see kefu.core.errors for their HTTP status."""

    INVALID = "invalid", "invalid"
    FORBIDDEN = "forbidden", "forbidden"
    SUPERVISOR_ONLY = "supervisor_only", "supervisor only"
    MANAGER_ONLY = "manager_only", "manager only"
    STATE = "invalid_state", "invalid state"
    DECIDED = "already_decided", "already decided"
    DONE = "already_done", "already done"
    LOCKED = "month_locked", "month locked"
    LEDGER_OFF = "ledger_off", "ledger switched off"
    REUSED = "request_id_reused", "request id reused"
    MENTOR_TAKEN = "mentor_taken", "mentor already has a mentee"
    SAME_PERSON = "same_person", "the same person"
