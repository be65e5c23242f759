"""Typing practice and tests (WF-9, seed 000: 每周的打字练习……每月考核，进步者奖): one row per result an
agent typed — the weekly practice (the agent records it, or a supervisor) and the monthly test (a
supervisor records it). Speed in characters per minute, accuracy in per cent. A wrong row is voided with
a reason, never deleted."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop

from ..enums import TypingKind


class TypingResult(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="typing_results")
    kind = models.CharField(_("类型"), max_length=10, choices=TypingKind.choices)
    taken_on = models.DateField(_("日期"))
    speed = models.PositiveSmallIntegerField(_("速度（字/分钟）"), validators=[MaxValueValidator(600)])
    accuracy = models.DecimalField(_("准确率（%）"), max_digits=5, decimal_places=2,
                                   validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))])
    text = models.CharField(_("练习文章"), max_length=100, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_label = models.CharField(max_length=120, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-taken_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "request_id"], condition=~Q(request_id=""),
                                    name="typing_request_once"),
            models.CheckConstraint(condition=Q(accuracy__gte=0) & Q(accuracy__lte=100), name="typing_accuracy_pct"),
        ]
        indexes = [models.Index(fields=["shop", "agent", "taken_on"]), models.Index(fields=["shop", "taken_on"])]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.kind} {self.taken_on} {self.speed}"

    @property
    def net_speed(self) -> Decimal:
        """Correct characters per minute: speed × accuracy (what the monthly comparison uses)."""
        return (Decimal(self.speed) * self.accuracy / 100).quantize(Decimal("0.1"))
