"""SLA policies, the clocks they run on conversations and cases, and the alerts they raised."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.aftersales.models import Case
from kefu.conversations.models import Conversation
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from .enums import AlertKind, ClockState, Target


class SlaPolicy(models.Model):
    """Targets for the conversations and cases it matches (the first active match by priority wins).

    Empty match lists mean "any". Reply targets apply to conversations, the resolution target to
    after-sales cases. Minutes count in calendar time or in the shop's service hours (business).
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="sla_policies")
    name = models.CharField(_("名称"), max_length=80)
    priority = models.PositiveIntegerField(_("优先级"), default=100)  # lower = checked first
    active = models.BooleanField(_("启用"), default=True)
    channels = models.JSONField(_("渠道"), default=list, blank=True)
    conversation_kinds = models.JSONField(_("会话类型"), default=list, blank=True)
    case_types = models.JSONField(_("售后类型"), default=list, blank=True)
    case_reasons = models.JSONField(_("售后原因"), default=list, blank=True)
    grades = models.JSONField(_("买家等级"), default=list, blank=True)
    groups = models.JSONField(_("客服组"), default=list, blank=True)
    first_reply_minutes = models.PositiveIntegerField(_("首次响应(分钟)"), null=True, blank=True)
    next_reply_minutes = models.PositiveIntegerField(_("后续响应(分钟)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("解决时限(分钟)"), null=True, blank=True)
    business_hours = models.BooleanField(_("按服务时间计"), default=False)
    warn_before_minutes = models.PositiveIntegerField(_("提前提醒(分钟)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="slapolicy_unique_name")]

    def __str__(self) -> str:
        return self.name

    def minutes(self, target: str) -> int | None:
        return getattr(self, f"{target}_minutes")


class SlaClock(models.Model):
    """One target running on one conversation or case, rebuilt from the facts (messages, case steps).

    `seq` numbers the clocks of one target on one subject (next replies 0, 1, 2 …), so a rebuild
    updates rows in place. `settled_at` is the moment the outcome became known (the stop of a hit,
    the due time of a miss): the KPI figures count clocks by its shop day.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(_("目标"), max_length=20, choices=Target.choices)
    seq = models.PositiveIntegerField(default=0)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="sla_clocks")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="sla_clocks")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="clocks")
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="sla_clocks")
    started_at = models.DateTimeField(_("开始"))
    warn_at = models.DateTimeField(_("提醒时间"))
    due_at = models.DateTimeField(_("到期"))
    stopped_at = models.DateTimeField(_("停止"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=ClockState.choices, default=ClockState.ACTIVE)
    breached_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "target", "seq"], condition=Q(conversation__isnull=False),
                                    name="slaclock_unique_conversation"),
            models.UniqueConstraint(fields=["case", "target", "seq"], condition=Q(case__isnull=False),
                                    name="slaclock_unique_case"),
            models.CheckConstraint(condition=Q(conversation__isnull=False) ^ Q(case__isnull=False),
                                   name="slaclock_one_subject"),
        ]
        indexes = [
            models.Index(fields=["shop", "stopped_at", "due_at"]),
            models.Index(fields=["shop", "state"]),
            models.Index(fields=["shop", "agent", "settled_at"]),
            models.Index(fields=["shop", "settled_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.subject_key}"

    @property
    def subject_key(self) -> str:
        return f"conversation:{self.conversation_id}" if self.conversation_id else f"case:{self.case_id}"

    @property
    def key(self) -> str:
        return f"{self.subject_key}:{self.target}:{self.seq}"

    @property
    def running(self) -> bool:
        return self.stopped_at is None


class SlaAlert(models.Model):
    """A warning or breach escalation sent for one clock. Unique per (clock key, kind): sent once.

    Keyed by the clock's stable key rather than its row, so a clock rebuilt or re-timed never
    alerts twice.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    clock_key = models.CharField(max_length=80)
    kind = models.CharField(_("类型"), max_length=10, choices=AlertKind.choices)
    clock = models.ForeignKey(SlaClock, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts")
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "clock_key", "kind"], name="slaalert_once")]


class SlaScanState(models.Model):
    """Per shop: how far the periodic scan has read (message, case and case-step ids)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="+")
    last_message_id = models.BigIntegerField(default=0)
    last_case_id = models.BigIntegerField(default=0)
    last_case_event_id = models.BigIntegerField(default=0)
    full_rebuild = models.BooleanField(default=True)  # policies changed: rebuild every subject
    defaults_installed = models.BooleanField(default=False)
    scanned_at = models.DateTimeField(null=True, blank=True)
    rollup_timezone = models.CharField(max_length=64, blank=True)  # the zone SlaAgentDay's days are in


class SlaAgentDay(models.Model):
    """Roll-up of settled clocks per agent and shop day (the day the outcome became known), spam buyers
    left out: the KPI report reads it so its cost stays flat as conversations grow (kefu.sla.rollup)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    hit = models.IntegerField(default=0)
    missed = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "agent", "day"], name="slaagentday_unique")]
        indexes = [models.Index(fields=["shop", "day"])]


class SlaDirty(models.Model):
    """A settled moment whose shop day must be recounted into SlaAgentDay. Written in the same
    transaction as the clock change; the scan recounts those days and deletes exactly the rows it
    read, so a change committed meanwhile stays marked. Until then the report counts the day raw."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["shop", "at"])]
