"""Production alerts (AFT-8): the shop's rule, batch numbers of returned items, alerts, their cases
and timeline."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.aftersales.enums import CaseReason
from kefu.aftersales.models import Case
from kefu.core.models import Agent, Shop

from .enums import DEFAULT_REASONS, DEFAULT_THRESHOLD, DEFAULT_WINDOW_DAYS, AlertAction, AlertState


def default_reasons() -> list[str]:
    return [str(r) for r in DEFAULT_REASONS]


class AlertRule(models.Model):
    """When to raise a production alert: `threshold` buyers reporting one of `reasons` for the same
    SKU (and batch) within `window_days` shop days."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="defect_rule")
    reasons = models.JSONField(_("计入质量问题的原因"), default=default_reasons)
    threshold = models.PositiveSmallIntegerField(_("反馈人数阈值"), default=DEFAULT_THRESHOLD)
    window_days = models.PositiveSmallIntegerField(_("时间窗口（天）"), default=DEFAULT_WINDOW_DAYS)
    updated_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    # The newest case id the last scan saw; the scheduler fires only when a newer counted case exists.
    scanned_case_id = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.threshold} in {self.window_days} days"


class ItemBatch(models.Model):
    """The production batch (批次) of a returned SKU on a case. After-sales cases carry no batch, so
    the warehouse or an agent records it here; a SKU without a row is batch '' (unknown)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="defect_batches")
    sku = models.CharField(_("SKU"), max_length=80)
    batch = models.CharField(_("批次"), max_length=60)
    set_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "sku"], name="itembatch_once_per_case_sku")]


class ProductionAlert(models.Model):
    """One burst of quality reports for a (SKU, batch, reason). While it is open, later reports join it."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="production_alerts")
    sku = models.CharField(_("SKU"), max_length=80)
    batch = models.CharField(_("批次"), max_length=60, blank=True)
    reason = models.CharField(_("售后原因"), max_length=30, choices=CaseReason.choices)
    state = models.CharField(_("状态"), max_length=20, choices=AlertState.choices, default=AlertState.OPEN)
    case_count = models.PositiveIntegerField(_("售后单数"), default=0)
    buyer_count = models.PositiveIntegerField(_("反馈人数"), default=0)
    threshold = models.PositiveSmallIntegerField(_("阈值"))
    window_days = models.PositiveSmallIntegerField(_("时间窗口（天）"))
    first_case_at = models.DateTimeField(_("首次反馈"))
    last_case_at = models.DateTimeField(_("最近反馈"))
    raised_at = models.DateTimeField(_("预警时间"), auto_now_add=True)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    closed_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(_("处理说明"), max_length=500, blank=True)
    notified = models.PositiveSmallIntegerField(_("已通知人数"), default=0)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            # One open alert per (SKU, batch, reason): later reports bump it instead of raising another.
            models.UniqueConstraint(fields=["shop", "sku", "batch", "reason"], condition=Q(state=AlertState.OPEN),
                                    name="productionalert_one_open"),
        ]
        indexes = [models.Index(fields=["shop", "state", "raised_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.sku}/{self.batch or '-'} {self.reason} {self.state}"


class AlertCase(models.Model):
    """A case (for one of its SKUs) counted in an alert. Each (case, SKU) counts in one alert ever."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    alert = models.ForeignKey(ProductionAlert, on_delete=models.CASCADE, related_name="alert_cases")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    sku = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["case", "sku"], name="alertcase_once_per_case_sku")]


class AlertEvent(models.Model):
    """One row per step of an alert (its timeline)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    alert = models.ForeignKey(ProductionAlert, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=AlertAction.choices)
    from_state = models.CharField(max_length=20, choices=AlertState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=AlertState.choices)
    actor = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    case_count = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
