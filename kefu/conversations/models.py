from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.enums import Group
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from .enums import ConversationEventKind, QueueReason, Sender


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
    # Routing state (CONV-2/3/6), written only by kefu.conversations.routing/services; the message
    # rebuild above never touches these. `assignee` is who owns the conversation now (routed,
    # handed out or transferred); `agent` stays the last agent named on its messages.
    assignee = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    group = models.CharField(_("组"), max_length=20, choices=Group.choices, blank=True, default="")
    assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    queued_at = models.DateTimeField(_("排队时间"), null=True, blank=True)
    queue_reason = models.CharField(_("排队原因"), max_length=10, choices=QueueReason.choices, blank=True, default="")
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # 0 normal, 1 high, 2 urgent: set by automation rules (set priority, escalate) or a supervisor
    priority = models.PositiveSmallIntegerField(_("优先级"), default=0)

    class Meta:
        ordering = ["-ended_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "-ended_at"]), models.Index(fields=["shop", "agent", "-ended_at"]),
            models.Index(fields=["shop", "assignee", "ended_at"]), models.Index(fields=["shop", "queued_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.started_at:%Y-%m-%d %H:%M}"


class ConversationEvent(models.Model):
    """The conversation's timeline: routed, queued, handed out, transferred, closed, merged."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=20, choices=ConversationEventKind.choices)
    from_agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    to_agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by_label = models.CharField(max_length=120, blank=True)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["conversation", "at"])]

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.kind}"

    @property
    def by_text(self) -> str:
        """Who did it, for people: the routing's own steps are stored as "system" (the API keeps the code)."""
        return str(Sender.SYSTEM.label) if self.by_label == "system" else self.by_label

    @property
    def reason_text(self) -> str:
        """The reason for people: a queue reason code ("offline", "busy") reads as its label."""
        return str(QueueReason(self.reason).label) if self.reason in QueueReason.values else self.reason


class ConversationNote(models.Model):
    """An internal note: shown to the shop's people, never sent to the buyer."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    author_label = models.CharField(max_length=120, blank=True)
    text = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.author_label}"


class SavedView(models.Model):
    """A person's own saved filter of the conversation list (CONV-6)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("名称"), max_length=40)
    params = models.JSONField(_("筛选条件"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="savedview_unique_name_per_owner")]

    def __str__(self) -> str:
        return self.name


def default_offline_greeting() -> str:
    # 000 §5 话术 5): "回複離線信息,第一句是,mm你好---我是**家的客服**(笑臉圖標),你問的。。。"
    return "mm你好---我是{shop}家的客服{agent}:)，你问的问题我来为你解答。"


DEFAULT_AFTERSALES_WORDS = "退,换,售后,破损,坏了,质量,少件,漏发,错发,没收到,维修"


class RoutingSettings(models.Model):
    """A shop's routing settings, and its round-robin cursor: the row routing locks (race safety)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="routing_settings")
    default_cap = models.PositiveSmallIntegerField(_("每人同时接待上限"), default=5)
    sticky = models.BooleanField(_("老客户优先分配给上次的客服"), default=True)
    offline_greeting = models.TextField(_("离线问候语"), default=default_offline_greeting)
    aftersales_words = models.CharField(_("售后关键词"), max_length=500, default=DEFAULT_AFTERSALES_WORDS)
    # The last agent each group's round robin gave a conversation to.
    cursor_presales = models.IntegerField(default=0)
    cursor_aftersales = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"routing {self.shop_id}"


class AgentCap(models.Model):
    """A per-agent concurrency cap overriding the shop default."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="routing_cap")
    cap = models.PositiveSmallIntegerField(_("同时接待上限"))

    def __str__(self) -> str:
        return f"{self.agent_id} cap {self.cap}"
