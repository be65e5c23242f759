"""After-sales cases (售后单), their items, money lines and timeline (AFT-1, AFT-11)."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop
from kefu.orders.models import Order

from .enums import CaseReason, CaseState, CaseType, Direction, MoneyLineKind, MoneyLineState, Party

AMOUNT = {"max_digits": 12, "decimal_places": 2}


class Case(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="cases")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True, related_name="cases")
    type = models.CharField(_("售后类型"), max_length=20, choices=CaseType.choices)
    reason = models.CharField(_("售后原因"), max_length=30, choices=CaseReason.choices)
    responsible = models.CharField(_("责任方"), max_length=20, choices=Party.choices, blank=True)
    state = models.CharField(_("状态"), max_length=20, choices=CaseState.choices, default=CaseState.OPEN)
    intercepted = models.BooleanField(_("拦截件"), default=False)
    refused = models.BooleanField(_("拒收"), default=False)
    owner = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="cases")
    note = models.CharField(_("备注"), max_length=500, blank=True)
    # Optimistic locking: every change adds one; a write naming an older version is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "state", "created_at"]), models.Index(fields=["shop", "owner"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type} {self.state}"


class CaseItem(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(_("SKU"), max_length=80)
    qty = models.PositiveIntegerField(_("数量"), default=1)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(qty__gt=0), name="caseitem_qty_positive")]


class CaseMoneyLine(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="money_lines")
    kind = models.CharField(_("款项"), max_length=20, choices=MoneyLineKind.choices)
    direction = models.CharField(_("方向"), max_length=20, choices=Direction.choices)
    amount = models.DecimalField(_("金额"), **AMOUNT)
    state = models.CharField(_("状态"), max_length=10, choices=MoneyLineState.choices, default=MoneyLineState.PLANNED)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=Decimal("0")), name="casemoneyline_amount_positive")]


class CaseEvent(models.Model):
    """One row per step of a case (its timeline): who, when, from which state to which."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    from_state = models.CharField(max_length=20, choices=CaseState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=CaseState.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
