"""Daily sales reports (WF-6) and reports up (WF-8).

A daily report holds the figures of one agent's shop day as the KPI report computes them and the
credited orders behind them; both are refreshed by the scheduler while they can still change (late
orders, refunds). When the agent signs, the figures and orders are copied into `signed_*`: the page
then shows what changed since the signature instead of silently changing the signed report.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kefu.core.models import Agent, Shop

from .enums import AgentReportState, DailyState, Period


class DailyReport(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="daily_reports")
    day = models.DateField(_("日期"))
    group = models.CharField(_("组"), max_length=20, blank=True)
    figures = models.JSONField(_("指标"), default=dict)  # the KPI report's row of this agent and day
    orders = models.JSONField(_("订单"), default=list)  # the credited orders behind it, with their lines
    computed_at = models.DateTimeField(_("生成时间"))
    state = models.CharField(_("状态"), max_length=10, choices=DailyState.choices, default=DailyState.PENDING)
    note = models.CharField(_("说明"), max_length=1000, blank=True)
    signed_at = models.DateTimeField(_("签字时间"), null=True, blank=True)
    signed_figures = models.JSONField(null=True, blank=True)
    signed_orders = models.JSONField(null=True, blank=True)
    changed = models.BooleanField(_("签字后有变化"), default=False)  # kept in step by the refresh

    class Meta:
        ordering = ["-day", "agent__name"]
        constraints = [models.UniqueConstraint(fields=["shop", "agent", "day"], name="dailyreport_once")]
        indexes = [models.Index(fields=["shop", "day", "state"])]


class DeptReport(models.Model):
    """The customer-service department's report to the general manager for a day, week or month."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(pgettext_lazy("report", "周期"), max_length=10, choices=Period.choices)
    start = models.DateField(_("开始"))
    end = models.DateField(_("结束"))
    data = models.JSONField(default=dict)  # the figures, computed by kefu.reports.dept
    computed_at = models.DateTimeField(_("生成时间"))
    problems = models.TextField(_("问题"), max_length=4000, blank=True)
    measures = models.TextField(_("措施"), max_length=4000, blank=True)
    written_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    written_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start", "period"]
        constraints = [models.UniqueConstraint(fields=["shop", "period", "start"], name="deptreport_once")]


class AgentMonthReport(models.Model):
    """An agent's monthly report to the supervisor (seed 002 §三.6): figures filled in, the agent's
    own analysis, the supervisor's answer."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="month_reports")
    month = models.DateField(_("月份"))
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField(_("生成时间"))
    state = models.CharField(_("状态"), max_length=10, choices=AgentReportState.choices,
                             default=AgentReportState.DRAFT)
    analysis = models.TextField(_("工作分析"), max_length=4000, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(_("主管回复"), max_length=4000, blank=True)
    replied_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "agent__name"]
        constraints = [models.UniqueConstraint(fields=["shop", "agent", "month"], name="agentmonthreport_once")]
