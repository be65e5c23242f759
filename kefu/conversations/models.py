from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from .enums import Sender


class Message(models.Model):
    """One chat message, idempotent by the sender's own message id."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="messages")
    message_id = models.CharField(_("消息ID"), max_length=120)
    channel = models.CharField(_("渠道"), max_length=40, default="generic")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages")
    # For a buyer message: the agent it was routed to; for an agent message: who sent it.
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    sender = models.CharField(_("发送方"), max_length=10, choices=Sender.choices)
    sent_at = models.DateTimeField(_("时间"))
    text = models.TextField(_("内容"), blank=True)
    order_ref = models.CharField(_("订单卡片"), max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "message_id"], name="message_unique_per_shop")]
        indexes = [models.Index(fields=["shop", "customer", "sent_at"])]

    def __str__(self) -> str:
        return self.message_id


class Conversation(models.Model):
    """Messages of one buyer with no idle gap longer than the shop's setting (default 30 min).

    A grouping for people; metrics never depend on it. Rebuilt as messages arrive, keyed by its
    first message so its id stays stable when later messages join it.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="conversations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="conversations")
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations")
    first_message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(_("开始"))
    ended_at = models.DateTimeField(_("最后消息"))
    message_count = models.PositiveIntegerField(default=0)
    buyer_message_count = models.PositiveIntegerField(default=0)
    # True when the last buyer message has no later human reply.
    waiting = models.BooleanField(_("待回复"), default=False)

    class Meta:
        ordering = ["-ended_at", "-id"]
        indexes = [models.Index(fields=["shop", "-ended_at"]), models.Index(fields=["shop", "agent", "-ended_at"])]

    def __str__(self) -> str:
        return f"{self.customer} {self.started_at:%Y-%m-%d %H:%M}"
