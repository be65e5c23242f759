"""Authority limits, approval requests and the append-only record of money actions (PRE-4)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.enums import Role
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer
from kefu.orders.models import Order

from .enums import ApprovalAction, ApprovalState, MoneyKind

AMOUNT = {"max_digits": 12, "decimal_places": 2}


class AuthorityLimit(models.Model):
    """A shop's limit for a role (agent empty) or for one person (role empty); NULL limit = unlimited.

    Without a row the defaults of enums.DEFAULT_ROLE_LIMITS apply.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="authority_limits")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, blank=True)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, null=True, blank=True, related_name="authority_limits")
    kind = models.CharField(_("类型"), max_length=20, choices=MoneyKind.choices)
    limit = models.DecimalField(_("权限额度"), null=True, blank=True, **AMOUNT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "role", "kind"], condition=Q(agent__isnull=True),
                                    name="authoritylimit_role_once"),
            models.UniqueConstraint(fields=["shop", "agent", "kind"], condition=Q(agent__isnull=False),
                                    name="authoritylimit_person_once"),
            models.CheckConstraint(condition=(Q(agent__isnull=True) & ~Q(role="")) | (Q(agent__isnull=False) & Q(role="")),
                                   name="authoritylimit_role_xor_person"),
            models.CheckConstraint(condition=Q(limit__isnull=True) | Q(limit__gte=0), name="authoritylimit_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.agent or self.role} {self.kind} {self.limit if self.limit is not None else '∞'}"


class ApprovalRequest(models.Model):
    """A money action above the requester's authority, waiting for (or past) an approver's decision."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="approval_requests")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(_("类型"), max_length=20, choices=MoneyKind.choices)
    amount = models.DecimalField(_("金额"), **AMOUNT)
    reason = models.CharField(_("原因"), max_length=500)
    requested_by = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="approval_requests")
    state = models.CharField(_("状态"), max_length=20, choices=ApprovalState.choices, default=ApprovalState.PENDING)
    decided_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_reason = models.CharField(_("审批意见"), max_length=500, blank=True)
    # The client's idempotency key: a resend with the same key returns the first answer.
    idempotency_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="approvalrequest_key_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="approvalrequest_amount_positive"),
        ]
        indexes = [models.Index(fields=["shop", "state", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.amount}"


class ApprovalEvent(models.Model):
    """One row per step of a request (its timeline): who did what, when, from which state."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=ApprovalAction.choices)
    from_state = models.CharField(max_length=20, choices=ApprovalState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=ApprovalState.choices)
    actor = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class MoneyAction(models.Model):
    """Append-only record of an executed price change, compensation or free order: who, why, who approved."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="money_actions")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True, related_name="money_actions")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(_("类型"), max_length=20, choices=MoneyKind.choices)
    amount = models.DecimalField(_("金额"), **AMOUNT)
    reason = models.CharField(_("原因"), max_length=500)
    requested_by = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="money_actions")
    # Empty when the requester acted within their own authority.
    approved_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The approval it executes; unique, so an approval can never be executed twice.
    request = models.OneToOneField(ApprovalRequest, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="money_action")
    idempotency_key = models.CharField(max_length=64, blank=True)
    executed_at = models.DateTimeField(_("执行时间"), auto_now_add=True)

    class Meta:
        ordering = ["-executed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="moneyaction_key_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="moneyaction_amount_positive"),
        ]
        indexes = [models.Index(fields=["shop", "executed_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("money actions are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("money actions are append-only")


class Notification(models.Model):
    """An in-app note to one person (a request to decide, a decision on their request)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    recipient = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
