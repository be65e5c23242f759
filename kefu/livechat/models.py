"""The live channel's own rows: the widget of a shop, its visitors, chat images, read marks, the
event log the push layer replays, and the rate-limit counters of the public endpoints.

Chat messages themselves are ordinary `conversations.Message` rows (channel "webchat") written by
the one ingestion service, so facts, KPIs, routing, SLA clocks and flags treat them like any other.
"""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from .enums import Audience, EventKind, IdentityKind, SpamReportState


def new_widget_key() -> str:
    return "wk_" + secrets.token_urlsafe(18)


def new_identity_secret() -> str:
    return secrets.token_hex(32)


def default_greeting() -> str:
    return "您好，欢迎光临！有什么可以帮您的吗？"


def default_offline_greeting() -> str:
    return "客服暂时不在线，请留言，我们上班后第一时间回复您。"


class WidgetSettings(models.Model):
    """A shop's chat widget: the public key its <script> tag carries and the identity secret."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="widget_settings")
    # Public: it only names the shop. It never grants reading any chat (a visitor token does).
    key = models.CharField(_("组件密钥"), max_length=40, unique=True, default=new_widget_key)
    # HMAC-SHA256(secret, the shop's user id) signs a logged-in buyer's identity (the shop's server computes it).
    identity_secret = models.CharField(_("身份验证密钥"), max_length=64, default=new_identity_secret)
    enabled = models.BooleanField(_("启用"), default=True)
    title = models.CharField(_("标题"), max_length=60, blank=True)
    greeting = models.TextField(_("欢迎语"), default=default_greeting)
    offline_greeting = models.TextField(_("离线提示"), default=default_offline_greeting)
    # Sites that may embed the widget (one origin a line, e.g. https://shop.example.com); empty = any.
    allowed_origins = models.TextField(_("允许嵌入的网站"), blank=True)
    # An online person whose workspace has been closed (no event stream) this long is set to away,
    # so routing stops giving them chats (kefu.livechat.away); 0 = never.
    away_after_minutes = models.PositiveSmallIntegerField(_("接待台断开后自动离开（分钟）"), default=5)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"widget {self.shop_id}"

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.splitlines() if o.strip()]


class Visitor(models.Model):
    """One browser of a buyer: anonymous (a random token kept in a cookie of the shop's site) or
    verified (the shop's user id, signed by the shop's server)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="visitors")
    # SHA-256 of the visitor token; the token itself lives only in the buyer's browser.
    token_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(_("身份"), max_length=10, choices=IdentityKind.choices, default=IdentityKind.ANONYMOUS)
    external_id = models.CharField(_("会员ID"), max_length=120, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    page = models.CharField(_("所在页面"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "customer"])]

    def __str__(self) -> str:
        return f"visitor {self.pk} of {self.customer_id}"


class WorkspaceHeartbeat(models.Model):
    """When a person's workspace last had its event stream open: written when a stream opens, every
    minute while it stays open and when it ends. The auto-away rule reads it (kefu.livechat.away)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.agent_id} seen {self.seen_at}"


class SpamReport(models.Model):
    """An agent's request to flag a chat's buyer as spam. The buyer is blocked in the widget and
    leaves the agent's workspace at once, but stays in every figure until a supervisor confirms
    (then the buyer is flagged: out of the KPIs) — so an agent cannot take their own slow chats
    out of their figures alone. Rejecting unblocks the buyer. One open report per buyer."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="spam_reports")
    conversation_id = models.BigIntegerField(null=True, blank=True)
    reported_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, related_name="+")
    reporter_label = models.CharField(max_length=120)
    state = models.CharField(_("状态"), max_length=10, choices=SpamReportState.choices,
                             default=SpamReportState.PENDING)
    created_at = models.DateTimeField()
    decided_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer"], condition=models.Q(state="pending"),
                                               name="spamreport_one_pending_per_buyer")]
        indexes = [models.Index(fields=["shop", "state"])]

    def __str__(self) -> str:
        return f"spam report {self.pk} ({self.state})"


class ChatAttachment(models.Model):
    """An image sent in a live chat (by the buyer or an agent), checked by content, stored through
    Django's storage API like case evidence."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("conversations.Message", on_delete=models.CASCADE, related_name="attachments")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=300)
    thumbnail_name = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ReadMark(models.Model):
    """How far a reader has read a buyer's chat: the buyer ("buyer") or an agent ("agent:<id>")."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reader = models.CharField(max_length=30)
    message_pk = models.BigIntegerField(default=0)  # the last Message.pk read
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "reader"], name="readmark_unique_reader")]

    def __str__(self) -> str:
        return f"{self.reader} read {self.customer_id} to {self.message_pk}"


class LiveEvent(models.Model):
    """What the push layer delivers, in id order: written in the transaction of the change it
    reports, so a stream replays exactly what was committed (SSE Last-Event-ID). Pruned after a day;
    typing events are ephemeral (never replayed)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    audience = models.CharField(max_length=5, choices=Audience.choices, default=Audience.STAFF)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    conversation_id = models.BigIntegerField(null=True, blank=True)
    # The agent the event is for (the conversation's owner) and, for a transfer, the one it left.
    agent_id = models.BigIntegerField(null=True, blank=True)
    prev_agent_id = models.BigIntegerField(null=True, blank=True)
    group = models.CharField(max_length=20, blank=True)
    ephemeral = models.BooleanField(default=False)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["shop", "id"]), models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.pk} {self.kind}"


class RateCounter(models.Model):
    """A fixed-window request counter (per visitor, per address) of the widget's public endpoints.
    Incremented with one atomic upsert on both databases (kefu.livechat.ratelimit)."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="ratecounter_unique_window")]
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}={self.count}"
