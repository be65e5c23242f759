"""Account handover (CONV-8, seed 001): when an agent leaves, or a dormant 客服号 goes to a new agent, a
supervisor hands the former owner's buyers, open follow-ups, revisits, cases, complaints, open
conversations and platform accounts to the new owner. One AccountHandover row per handover, one
HandoverItem per thing moved. Buyer items are also the new owner's list of buyers to greet, and the
sticky routing reads them (a buyer handed over goes to the new owner until someone else serves them)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from ..enums import HandoverItemKind


class AccountHandover(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    from_agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+", verbose_name=_("原负责人"))
    to_agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+", verbose_name=_("接手人"))
    reason = models.CharField(_("原因"), max_length=500)
    # {kind: n} of what moved, for lists (the items are the record)
    counts = models.JSONField(default=dict)
    by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by_label = models.CharField(max_length=120, blank=True)
    # The sender's id (API): the same id again returns this handover instead of running another.
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("交接时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "request_id"], condition=~Q(request_id=""),
                                               name="handover_request_once")]
        indexes = [models.Index(fields=["shop", "to_agent", "-created_at"]),
                   models.Index(fields=["shop", "from_agent", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.from_agent_id} → {self.to_agent_id}"


class HandoverItem(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    handover = models.ForeignKey(AccountHandover, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("类型"), max_length=20, choices=HandoverItemKind.choices)
    object_id = models.BigIntegerField()
    label = models.CharField(max_length=200, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    to_agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    # Buyers only: the buyer's last contact before the handover, and when the new owner greeted them.
    last_contact_at = models.DateTimeField(null=True, blank=True)
    greeted_at = models.DateTimeField(_("已问候"), null=True, blank=True)
    greeted_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["shop", "customer", "kind", "-created_at"]),
                   models.Index(fields=["shop", "to_agent", "kind", "greeted_at"])]
