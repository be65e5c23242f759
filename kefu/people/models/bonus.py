"""Bonuses and incentives (WF-5): special bonuses with a reason and an approver (seed 002 §四.2, optionally
the after-sales case they came from), ranking incentives for the top N of a month (rules a manager edits,
awards made once per rule and month), and the 惊喜 wish list (seed 001: each agent's wishes, kept private,
one granted as a reward). Approved bonuses and awards are BONUS / RANKING lines of the month's statement."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop

from ..enums import BonusKind, BonusState, RankingMetric, WishState

MONEY = {"max_digits": 14, "decimal_places": 2}


class SpecialBonus(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="special_bonuses")
    kind = models.CharField(_("类型"), max_length=20, choices=BonusKind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    reason = models.CharField(_("原因"), max_length=500)
    # The month whose statement pays it: the month asked for, or the first open month after a locked one.
    month = models.DateField(_("计入月份"))
    case = models.ForeignKey("aftersales.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("关联售后单"))
    state = models.CharField(_("状态"), max_length=10, choices=BonusState.choices, default=BonusState.PROPOSED)
    proposed_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    proposed_label = models.CharField(max_length=120, blank=True)
    decided_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_label = models.CharField(max_length=120, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "request_id"], condition=~Q(request_id=""), name="bonus_request_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bonus_amount_positive"),
        ]
        indexes = [models.Index(fields=["shop", "month", "state"])]


class RankingRule(models.Model):
    """Top N of a month by a metric get the amounts in order ([first, second, …]); ties share a rank."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("名称"), max_length=60)
    metric = models.CharField(_("排名依据"), max_length=20, choices=RankingMetric.choices)
    group = models.CharField(_("组"), max_length=40, blank=True)  # "" = every group together
    amounts = models.JSONField(_("奖金"), default=list)  # ["500", "300", "100"]: N = its length
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-active", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="rankingrule_name_once")]


class RankingAward(models.Model):
    """One agent's place in one rule's ranking of one month (made once per rule and month)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(RankingRule, on_delete=models.PROTECT, related_name="awards")
    month = models.DateField(_("月份"))  # the month ranked
    pay_month = models.DateField(_("计入月份"))  # the statement that pays it
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveSmallIntegerField(_("名次"))
    value = models.DecimalField(_("成绩"), max_digits=16, decimal_places=2)
    amount = models.DecimalField(_("奖金"), **MONEY)
    metric = models.CharField(max_length=20, choices=RankingMetric.choices)
    awarded_by_label = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["month", "rule_id", "rank", "agent_id"]
        constraints = [models.UniqueConstraint(fields=["rule", "month", "agent"], name="rankingaward_once")]
        indexes = [models.Index(fields=["shop", "pay_month"])]


class Wish(models.Model):
    """An agent's wish for a surprise (惊喜, seed 001). Seen by the agent and their supervisors only."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="wishes")
    text = models.CharField(_("心愿"), max_length=200)
    state = models.CharField(_("状态"), max_length=10, choices=WishState.choices, default=WishState.OPEN)
    granted_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    granted_at = models.DateTimeField(null=True, blank=True)
    granted_for = models.CharField(_("奖励原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["state", "-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "agent", "state"])]
