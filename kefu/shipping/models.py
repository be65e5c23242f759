"""Shipping audit (SHIP-1, SHIP-2, SHIP-3): the shop's shipping settings, the daily issues and their timeline."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop
from kefu.orders.models import Order

from .enums import IssueAction, IssueKind, IssueState


class ShippingSettings(models.Model):
    """One row per shop (created with the defaults on first use)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="shipping_settings")
    # SHIP-1: promised ship time after payment, and the platform's hard limit (000, 002).
    promise_hours = models.PositiveSmallIntegerField(_("承诺发货时间（小时）"), default=24)
    hard_limit_hours = models.PositiveSmallIntegerField(_("发货时限（小时）"), default=48)
    # The daily list is built once per shop day, at or after this hour (shop time).
    audit_hour = models.PositiveSmallIntegerField(_("每日清单生成时间（点）"), default=9)
    # Orders paid longer ago than this are history (an old import), never listed.
    lookback_days = models.PositiveSmallIntegerField(_("回溯天数"), default=14)
    # SHIP-3: orders shipped within this many days get an after-care follow-up.
    after_care_days = models.PositiveSmallIntegerField(_("售后关怀回溯天数"), default=7)
    # SHIP-2: delist a listed SKU by itself when its stock is gone.
    auto_delist = models.BooleanField(_("库存为零自动下架"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"shipping settings of {self.shop_id}"


class ShippingIssue(models.Model):
    """One order on the daily shipping-audit list for one reason; resolved only with an action."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="shipping_issues")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipping_issues")
    kind = models.CharField(_("类型"), max_length=20, choices=IssueKind.choices)
    state = models.CharField(_("状态"), max_length=20, choices=IssueState.choices, default=IssueState.OPEN)
    # The SKU at fault for stock and after-care issues (the first one if several).
    sku_code = models.CharField(_("SKU"), max_length=80, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    detected_day = models.DateField(_("清单日期"))  # shop day of the audit that listed it
    detected_at = models.DateTimeField(_("发现时间"))
    due_at = models.DateTimeField(_("应发货时间"), null=True, blank=True)
    resolution = models.CharField(_("处理方式"), max_length=20, choices=IssueAction.choices, blank=True)
    resolved_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=500, blank=True)

    class Meta:
        ordering = ["detected_at", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "kind"], name="shipping_issue_once_per_order_kind")]
        indexes = [models.Index(fields=["shop", "state", "kind"]), models.Index(fields=["shop", "detected_day"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state == IssueState.OPEN


class ShippingIssueEvent(models.Model):
    """The timeline of an issue: listed, resolved by whom with which action, or closed by the system."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    issue = models.ForeignKey(ShippingIssue, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=IssueAction.choices)
    from_state = models.CharField(max_length=20, choices=IssueState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=IssueState.choices)
    actor = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
