"""The outbox: every message the shop sends to a buyer, waiting for a platform connector."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from .enums import OutboundKind, OutboundState


class OutboundMessage(models.Model):
    """One message to a buyer. Kefu never delivers it itself: a connector drains the outbox
    (the rows, or the JSONL file the default backend writes) and reports sent/failed."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="outbound_messages")
    # The caller's key: a second send with the same key returns the first row (no double send).
    idempotency_key = models.CharField(_("幂等键"), max_length=120)
    channel = models.CharField(_("渠道"), max_length=40, default="generic")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="outbound_messages")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="outbound_messages")
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The address on the channel when it is not the buyer's chat id: the phone number of an SMS.
    recipient = models.CharField(_("收件号码"), max_length=40, blank=True)
    kind = models.CharField(_("类型"), max_length=20, choices=OutboundKind.choices, default=OutboundKind.OTHER)
    text = models.TextField(_("内容"))
    state = models.CharField(_("状态"), max_length=10, choices=OutboundState.choices, default=OutboundState.QUEUED)
    backend = models.CharField(max_length=120, blank=True)
    error = models.CharField(_("失败原因"), max_length=500, blank=True)
    # The platform's id of the delivered message, reported by the connector.
    external_id = models.CharField(_("平台消息ID"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "idempotency_key"], name="outbound_unique_key_per_shop")]
        indexes = [models.Index(fields=["shop", "state", "created_at"]), models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.state}"
