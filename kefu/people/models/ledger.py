"""The 10-point penalty ledger (WF-4) and the month close that locks a month (WF-5).

Derived deductions are recomputed from their sources (attendance days, complaint verdicts, presence);
each row names its source and a stable key, so recomputing changes only what changed. While a month
is open a changed source voids its row; once the month is locked, the difference goes into the next
open month as an adjustment row (origin_month names the locked month).
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop

from ..enums import (
    AppealState,
    DeductionKind,
    DeductionStatus,
    MonthState,
    RuleSource,
    SourceType,
    WarningLevel,
)

POINTS = {"max_digits": 6, "decimal_places": 2}


class PenaltyRule(models.Model):
    """One rule of the shop's table (a manager edits it). The deduction for the n-th event of a month:
    total(n) = max(n × points_each, the highest tier total reached), each event adding the difference."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="penalty_rules")
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("名称"), max_length=80)
    source = models.CharField(_("来源"), max_length=20, choices=RuleSource.choices)
    points_each = models.DecimalField(_("每次扣分"), default=Decimal("0"), **POINTS)
    # [[count, total points], …] ascending: reaching `count` events in a month brings the total to at least `total`.
    tiers = models.JSONField(_("累计档"), default=list, blank=True)
    # Manual rules: the supervisor chooses points within [min_points, max_points] (002 §五.7: 0.5–1).
    min_points = models.DecimalField(_("最少扣分"), default=Decimal("0"), **POINTS)
    max_points = models.DecimalField(_("最多扣分"), default=Decimal("0"), **POINTS)
    active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="penaltyrule_code_per_shop")]

    def __str__(self) -> str:
        return self.name

    @property
    def manual(self) -> bool:
        return self.source == RuleSource.MANUAL


class MonthClose(models.Model):
    """A shop month's close: open → closed (statements computed, may be recomputed) → locked by a
    manager (immutable; later changes go into the next month). Rules and settings are kept as they
    were at the lock, so a locked month is recomputed, for adjustments, by its own rules."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))  # the first day
    state = models.CharField(_("状态"), max_length=10, choices=MonthState.choices, default=MonthState.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    rules_snapshot = models.JSONField(default=list, blank=True)
    settings_snapshot = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["shop", "month"], name="monthclose_once")]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.month:%Y-%m} {self.state}"

    @property
    def locked(self) -> bool:
        return self.state == MonthState.LOCKED


class LedgerMonth(models.Model):
    """One agent's month of the ledger: points left, kept with the deductions (and the row every
    recompute of that agent-month locks first, so two recomputes never write twice)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="ledger_months")
    month = models.DateField()
    start_points = models.DecimalField(default=Decimal("10"), **POINTS)
    deducted = models.DecimalField(default=Decimal("0"), **POINTS)
    points_left = models.DecimalField(default=Decimal("10"), **POINTS)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "month"], name="ledgermonth_unique")]
        indexes = [models.Index(fields=["shop", "month"])]


class PenaltyDeduction(models.Model):
    """One deduction of the ledger, linked to its source. `key` is stable per source event and rule,
    so a recompute matches what it computed before."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="penalty_deductions")
    month = models.DateField(_("月份"))  # the month whose points it takes
    day = models.DateField(_("日期"))  # the day of the event
    rule = models.ForeignKey(PenaltyRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    rule_code = models.CharField(max_length=40)
    rule_name = models.CharField(_("规则"), max_length=80)
    points = models.DecimalField(_("扣分"), **POINTS)  # negative on an adjustment that gives points back
    kind = models.CharField(_("类型"), max_length=12, choices=DeductionKind.choices)
    key = models.CharField(max_length=120)
    source_type = models.CharField(_("来源"), max_length=12, choices=SourceType.choices)
    source_id = models.CharField(max_length=40, blank=True)
    # What the source said (minutes late, the n-th event, the complaint …); the page words it.
    detail = models.JSONField(default=dict, blank=True)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=DeductionStatus.choices, default=DeductionStatus.ACTIVE)
    # Adjustments: the locked month the change belongs to; `waiver` = a reversal or a granted appeal
    # of a locked month's row (its source no longer counts).
    origin_month = models.DateField(null=True, blank=True)
    waiver = models.BooleanField(default=False)
    created_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by_label = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by_label = models.CharField(max_length=120, blank=True)
    change_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["day", "id"]
        indexes = [models.Index(fields=["shop", "agent", "month"]), models.Index(fields=["shop", "month", "status"]),
                   models.Index(fields=["agent", "origin_month"])]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.day} {self.rule_code} {self.points}"

    @property
    def counts(self) -> bool:
        return self.status == DeductionStatus.ACTIVE


class PenaltyAppeal(models.Model):
    """An agent's appeal of a deduction; a supervisor decides it once."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    deduction = models.OneToOneField(PenaltyDeduction, on_delete=models.CASCADE, related_name="appeal")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("申诉理由"), max_length=500)
    state = models.CharField(_("状态"), max_length=10, choices=AppealState.choices, default=AppealState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_by_label = models.CharField(max_length=120, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("处理意见"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "state"])]


class PenaltyWarning(models.Model):
    """A threshold reached in a month (≤ 5 verbal warning, ≤ 2 penalty, ≤ 5 three months running →
    severe): raised once per agent, month and level. Withdrawn when a correction lifts the points again."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="penalty_warnings")
    month = models.DateField()
    level = models.CharField(_("级别"), max_length=10, choices=WarningLevel.choices)
    points = models.DecimalField(_("当时分数"), **POINTS)
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "agent_id", "level"]
        constraints = [models.UniqueConstraint(fields=["agent", "month", "level"], name="penaltywarning_once")]
