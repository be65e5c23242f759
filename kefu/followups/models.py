"""Follow-ups of pre-sales work (PRE-1 咨询未拍, PRE-2 催付, PRE-3 待查问题) and their timeline."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer
from kefu.orders.models import Order

from .enums import FollowUpAction, FollowUpKind, FollowUpReason, FollowUpState


class FollowUp(models.Model):
    """One task to get back to a buyer: who owns it, why, when to contact, and how it ended."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="followups")
    kind = models.CharField(_("类型"), max_length=20, choices=FollowUpKind.choices)
    state = models.CharField(_("状态"), max_length=20, choices=FollowUpState.choices, default=FollowUpState.OPEN)
    reason = models.CharField(_("原因"), max_length=30, choices=FollowUpReason.choices, blank=True)
    owner = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="followups")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="followups")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True, related_name="followups")
    next_contact_at = models.DateTimeField(_("下次联系时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=500, blank=True)
    note = models.CharField(_("备注"), max_length=500, blank=True)
    contact_count = models.PositiveSmallIntegerField(_("联系次数"), default=0)
    # Set by the service to the moment the rule or person acted (the scheduler may run late).
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The 催付 rule never fires twice for one order (and one lead per order at most).
            models.UniqueConstraint(fields=["order", "kind"], condition=Q(order__isnull=False),
                                    name="followup_once_per_order_kind"),
        ]
        indexes = [
            models.Index(fields=["shop", "owner", "state"]),
            models.Index(fields=["shop", "state", "due_at"]),
            models.Index(fields=["shop", "kind", "closed_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in (FollowUpState.OPEN, FollowUpState.CONTACTED)


class FollowUpEvent(models.Model):
    """One row per step of a follow-up: who did what, from which state to which, and why."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=FollowUpAction.choices)
    from_state = models.CharField(max_length=20, choices=FollowUpState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=FollowUpState.choices)
    actor = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=30, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
