"""Attendance (WF-2): clock events, leave and 调休 requests, supervisors' corrections, and the
derived attendance day the month sheet and the penalty ledger read.

Clock events, leave requests and corrections are the sources; AttendanceDay is recomputed from them
(and from the roster and the presence history) whenever one changes, so a corrected clock-in
corrects the day and whatever followed from it.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop

from ..enums import AttendanceStatus, ClockKind, ClockSource, LeaveKind, RequestState


class PeopleSettings(models.Model):
    """The shop's attendance and ledger settings; the defaults are seed 002 §五's numbers."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="people_settings")
    # 002 §五.2: 超过30分钟以上算缺勤 — late by more than this many minutes is an absence.
    absent_after_minutes = models.PositiveSmallIntegerField(
        _("迟到超过(分钟)算缺勤"), default=30, validators=[MinValueValidator(1), MaxValueValidator(600)])
    late_grace_minutes = models.PositiveSmallIntegerField(
        _("迟到宽限(分钟)"), default=0, validators=[MaxValueValidator(120)])
    # 002 §五.2: 客服人员每月可有4次调休.
    rest_days_per_month = models.PositiveSmallIntegerField(
        _("每月调休次数"), default=4, validators=[MaxValueValidator(31)])
    # 002 §五.3: 私自离岗 — clocking out this much before the shift ends is leaving the post.
    early_leave_minutes = models.PositiveSmallIntegerField(
        _("提前离岗超过(分钟)算旷工"), default=30, validators=[MinValueValidator(1), MaxValueValidator(600)])
    # A missing clock-out counts as forgotten (002 §五.1: 按调休记录) this long after the shift's end.
    forgot_after_hours = models.PositiveSmallIntegerField(
        _("下班后多久未打卡算漏打卡(小时)"), default=2, validators=[MinValueValidator(1), MaxValueValidator(12)])
    # 002 §五.4: a stretch of the shift not online at least this long is one occurrence (one per day).
    not_online_minutes = models.PositiveSmallIntegerField(
        _("未在线持续(分钟)记一次"), default=10, validators=[MinValueValidator(1), MaxValueValidator(600)])
    # The 10-point ledger (002 §五); seed 001's team runs on incentives only and switches it off.
    ledger_enabled = models.BooleanField(_("启用10分制"), default=True)
    start_points = models.DecimalField(_("每月初始分"), max_digits=5, decimal_places=2, default=10)
    warn_verbal_points = models.DecimalField(_("口头警告(≤分)"), max_digits=5, decimal_places=2, default=5)
    warn_penalty_points = models.DecimalField(_("处罚(≤分)"), max_digits=5, decimal_places=2, default=2)
    # ≤ severe_points this many months running → severe penalty referred to the general manager.
    severe_points = models.DecimalField(_("严厉处罚(≤分)"), max_digits=5, decimal_places=2, default=5)
    severe_months = models.PositiveSmallIntegerField(
        _("连续月数"), default=3, validators=[MinValueValidator(2), MaxValueValidator(12)])
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"people settings of {self.shop_id}"


class ClockEvent(models.Model):
    """One clock-in or clock-out (the 考勤本 of 002 §五.1). Append-only; corrections are separate rows."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="clock_events")
    kind = models.CharField(_("类型"), max_length=4, choices=ClockKind.choices)
    at = models.DateTimeField(_("时间"))
    source = models.CharField(max_length=4, choices=ClockSource.choices, default=ClockSource.WEB)
    # The sender's id: a resend of the same clock never records it twice.
    request_id = models.CharField(max_length=80, blank=True, default="")
    by_label = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["shop", "agent", "at"])]
        constraints = [models.UniqueConstraint(fields=["agent", "request_id"], condition=~Q(request_id=""),
                                               name="clockevent_request_once")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.kind} {self.at}"


class LeaveRequest(models.Model):
    """请假 or 调休 for shop days [date_from, date_to], asked by the agent, approved beforehand (002 §五.2)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="leave_requests")
    kind = models.CharField(_("类型"), max_length=20, choices=LeaveKind.choices)
    date_from = models.DateField(_("开始日期"))
    date_to = models.DateField(_("结束日期"))
    reason = models.CharField(_("原因"), max_length=300)
    state = models.CharField(_("状态"), max_length=20, choices=RequestState.choices, default=RequestState.REQUESTED)
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by_label = models.CharField(max_length=120, blank=True)
    decided_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_by_label = models.CharField(max_length=120, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        ordering = ["-date_from", "-id"]
        indexes = [models.Index(fields=["shop", "agent", "date_from"]), models.Index(fields=["shop", "state"])]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.kind} {self.date_from}–{self.date_to} {self.state}"


class AttendanceCorrection(models.Model):
    """A supervisor's correction of one agent-day, with its reason (audited). The latest one applies."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("日期"))
    clock_in = models.DateTimeField(_("上班时间"), null=True, blank=True)
    clock_out = models.DateTimeField(_("下班时间"), null=True, blank=True)
    # Blank: the status follows from the (corrected) clock times; else the supervisor's decision.
    status = models.CharField(_("状态"), max_length=20, choices=AttendanceStatus.choices, blank=True)
    # 002 §五.4 "且无特别原因": a special reason excuses the day's time not online.
    excuse_not_online = models.BooleanField(_("未在线有特别原因"), default=False)
    reason = models.CharField(_("原因"), max_length=300)
    by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by_label = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "agent", "date"])]


class AttendanceDay(models.Model):
    """One agent's shop day as it follows from roster, clock, leave, corrections and presence."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="attendance_days")
    date = models.DateField(_("日期"))
    status = models.CharField(_("状态"), max_length=20, choices=AttendanceStatus.choices)
    shift_label = models.CharField(_("班次"), max_length=120, blank=True)
    shift_start = models.DateTimeField(null=True, blank=True)
    shift_end = models.DateTimeField(null=True, blank=True)
    clock_in = models.DateTimeField(_("上班"), null=True, blank=True)
    clock_out = models.DateTimeField(_("下班"), null=True, blank=True)
    late_minutes = models.PositiveIntegerField(_("迟到(分钟)"), default=0)
    left_early_minutes = models.PositiveIntegerField(_("早退(分钟)"), default=0)
    # A missing clock-in or clock-out of a worked day: counts as a 调休 (002 §五.1).
    forgot_clock = models.BooleanField(_("漏打卡"), default=False)
    leave = models.ForeignKey(LeaveRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The n-th use of the month's 调休 allowance (leave, 调休, forgotten clock), in date order.
    allowance_no = models.PositiveSmallIntegerField(null=True, blank=True)
    over_allowance = models.BooleanField(_("超出调休次数"), default=False)
    not_online_minutes = models.PositiveIntegerField(_("未在线(分钟)"), default=0)
    not_online_from = models.DateTimeField(null=True, blank=True)
    not_online_to = models.DateTimeField(null=True, blank=True)
    not_online = models.BooleanField(_("未在线记一次"), default=False)
    corrected = models.BooleanField(_("已更正"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "agent_id"]
        constraints = [models.UniqueConstraint(fields=["agent", "date"], name="attendanceday_unique")]
        indexes = [models.Index(fields=["shop", "date"])]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.date} {self.status}"
