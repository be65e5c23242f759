"""Commissions (WF-5): the shop's plans, and one statement per agent and month whose lines trace every
yuan to its order. A statement is recomputed while its month is open or closed; a locked month's
statements never change — a refund that arrives later is clawed back in the next open month as a
line naming the locked month (origin_month)."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop

from ..enums import LineKind, PlanMode

MONEY = {"max_digits": 14, "decimal_places": 2}


class CommissionPlan(models.Model):
    """A shop's commission plan, for one group or ("" ) for every group without its own.
    tiers: [[threshold ¥, rate %], …]; kpi_tiers: [[min score, factor, label], …];
    points_tiers: [[min points left, factor], …] — all kept as strings of Decimals."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(_("组"), max_length=40, blank=True)
    mode = models.CharField(_("计算方式"), max_length=12, choices=PlanMode.choices, default=PlanMode.PROGRESSIVE)
    tiers = models.JSONField(_("提成阶梯"), default=list, blank=True)
    floor = models.DecimalField(_("保底提成"), default=Decimal("0"), **MONEY)
    kpi_tiers = models.JSONField(_("绩效等级系数"), default=list, blank=True)
    points_tiers = models.JSONField(_("考核分系数"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group"]
        constraints = [models.UniqueConstraint(fields=["shop", "group"], name="commissionplan_per_group")]

    def __str__(self) -> str:
        return f"plan {self.shop_id} {self.group or '*'}"


class CommissionStatement(models.Model):
    """One agent's month: commissionable sales, the plan applied, clawbacks of locked months."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="commission_statements")
    month = models.DateField(_("月份"))
    group = models.CharField(max_length=40, blank=True)
    plan = models.JSONField(default=dict)  # the plan as applied (Plan.snapshot)
    orders = models.PositiveIntegerField(_("订单数"), default=0)
    sales = models.DecimalField(_("销售额"), default=Decimal("0"), **MONEY)
    refunds = models.DecimalField(_("退款"), default=Decimal("0"), **MONEY)
    net_sales = models.DecimalField(_("计提销售额"), default=Decimal("0"), **MONEY)
    base = models.DecimalField(_("阶梯提成"), default=Decimal("0"), **MONEY)
    kpi_score = models.DecimalField(_("绩效分"), null=True, blank=True, max_digits=6, decimal_places=2)
    kpi_tier = models.CharField(_("绩效等级"), max_length=20, blank=True)
    kpi_factor = models.DecimalField(default=Decimal("1"), max_digits=6, decimal_places=3)
    points_left = models.DecimalField(null=True, blank=True, max_digits=6, decimal_places=2)
    points_factor = models.DecimalField(default=Decimal("1"), max_digits=6, decimal_places=3)
    commission = models.DecimalField(_("提成"), default=Decimal("0"), **MONEY)
    clawback = models.DecimalField(_("追回/补发"), default=Decimal("0"), **MONEY)  # Σ clawback lines (signed)
    bonus = models.DecimalField(_("奖金"), default=Decimal("0"), **MONEY)  # Σ bonus and ranking lines
    total = models.DecimalField(_("应发"), default=Decimal("0"), **MONEY)  # commission + clawback + bonus
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["month", "agent_id"]
        constraints = [models.UniqueConstraint(fields=["agent", "month"], name="commissionstatement_once")]
        indexes = [models.Index(fields=["shop", "month"])]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.month:%Y-%m} {self.total}"


class StatementLine(models.Model):
    """An order counted in the statement (its commissionable amount), or a clawback of a locked month."""

    statement = models.ForeignKey(CommissionStatement, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("类型"), max_length=12, choices=LineKind.choices)
    order = models.ForeignKey("orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    order_no = models.CharField(_("订单号"), max_length=64, blank=True)
    day = models.DateField(null=True, blank=True)  # payment day of an order line
    paid = models.DecimalField(default=Decimal("0"), **MONEY)
    refund = models.DecimalField(default=Decimal("0"), **MONEY)
    taken_back = models.BooleanField(default=False)
    amount = models.DecimalField(_("金额"), **MONEY)  # order: commissionable sales; clawback: commission ±
    origin_month = models.DateField(null=True, blank=True)  # clawback: the locked month it corrects
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "day", "id"]
