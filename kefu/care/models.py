"""Customer care (seed 001 and 003 §6.2.3): revisit plans and revisits (CRM-2), care messages with
opt-out and a frequency cap (CRM-3), surprises through the approval queue (CRM-4), churn watch
(CRM-5). Settings are the shop's, the seeds' numbers the defaults."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer, CustomerNote

from .enums import (
    CampaignState,
    ChurnReason,
    OptOutSource,
    RevisitOutcome,
    RevisitState,
    SendOutcome,
    SurpriseKind,
    SurpriseState,
)

AMOUNT = {"max_digits": 12, "decimal_places": 2}


class CareSettings(models.Model):
    """One row per shop (created with the defaults on first use)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="care_settings")
    # 专属客服 (seed 001): the dedicated agents who plan revisits, run care messages and watch churn.
    owners = models.ManyToManyField(Agent, blank=True, related_name="+", verbose_name=_("专属客服"))
    cap_count = models.PositiveSmallIntegerField(_("每位买家最多条数"), default=2)
    cap_days = models.PositiveSmallIntegerField(_("频次周期(天)"), default=30)
    reply_window_days = models.PositiveSmallIntegerField(_("回复统计窗口(天)"), default=3)
    repeat_min_orders = models.PositiveSmallIntegerField(_("复购客户最少订单数"), default=2)
    silent_factor = models.DecimalField(_("沉默倍数"), max_digits=4, decimal_places=2, default=Decimal("1.50"))
    silent_min_days = models.PositiveSmallIntegerField(_("最短沉默天数"), default=30)
    review_watch_days = models.PositiveSmallIntegerField(_("中差评关注天数"), default=90)
    updated_at = models.DateTimeField(auto_now=True)


class RevisitPlan(models.Model):
    """A periodic plan of buyers to call back (seed 001: 专属客服定期制定回访计划)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="revisit_plans")
    name = models.CharField(_("计划名称"), max_length=80)
    # {"grades": [], "tag_ids": [], "paid_within_days": n, "silent_days": n, "product_ids": []}
    segment = models.JSONField(_("客户范围"), default=dict)
    cadence_days = models.PositiveSmallIntegerField(_("回访周期(天)"), default=30)
    questions = models.JSONField(_("回访问题"), default=list)
    assignees = models.ManyToManyField(Agent, related_name="+", verbose_name=_("回访客服"))
    per_owner_daily = models.PositiveSmallIntegerField(_("每人每天最多"), default=20)
    active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-active", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Revisit(models.Model):
    """One buyer to call back for a plan. `owner` is a plain field: a handover reassigns it
    (revisits_reassign)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="revisits")
    plan = models.ForeignKey(RevisitPlan, on_delete=models.CASCADE, related_name="revisits")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="revisits")
    owner = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="revisits")
    due_on = models.DateField(pgettext_lazy("care", "回访日期"))
    state = models.CharField(_("状态"), max_length=10, choices=RevisitState.choices, default=RevisitState.OPEN)
    outcome = models.CharField(_("结果"), max_length=20, choices=RevisitOutcome.choices, blank=True)
    answers = models.JSONField(_("问题回答"), default=dict, blank=True)
    # The phone note (电话记录) the call left on the buyer's timeline.
    note = models.ForeignKey(CustomerNote, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "customer", "due_on"], name="revisit_once_per_day")]
        indexes = [models.Index(fields=["shop", "owner", "state", "due_on"]),
                   models.Index(fields=["plan", "customer"])]


class CareCampaign(models.Model):
    """A care message (seasonal advice, no product content) to a segment, sent at a time."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="care_campaigns")
    name = models.CharField(pgettext_lazy("care", "活动名称"), max_length=80)
    text = models.CharField(_("短信内容"), max_length=300)
    segment = models.JSONField(_("客户范围"), default=dict)
    channel = models.CharField(_("渠道"), max_length=20, default="sms")
    state = models.CharField(_("状态"), max_length=10, choices=CampaignState.choices, default=CampaignState.DRAFT)
    scheduled_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    # The product-content check's findings the scheduler accepted: [{"kind", "text"}].
    warnings = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "state", "scheduled_at"])]

    def __str__(self) -> str:
        return self.name


class CareSend(models.Model):
    """What a campaign did for one buyer: queued to the outbox, or skipped and why."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    campaign = models.ForeignKey(CareCampaign, on_delete=models.CASCADE, related_name="sends")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="care_sends")
    outcome = models.CharField(_("结果"), max_length=10, choices=SendOutcome.choices)
    outbound = models.OneToOneField("outbound.OutboundMessage", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="care_send")
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "customer"], name="caresend_once")]
        indexes = [models.Index(fields=["customer", "outcome", "created_at"])]


class CareReply(models.Model):
    """A buyer's answer to a care message, reported by the SMS connector (or typed by an agent)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    reply_id = models.CharField(_("回复ID"), max_length=120)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="care_replies")
    send = models.ForeignKey(CareSend, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies")
    text = models.CharField(_("内容"), max_length=500)
    is_opt_out = models.BooleanField(_("退订"), default=False)
    received_at = models.DateTimeField(_("收到时间"))

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "reply_id"], name="carereply_once")]


class CareOptOut(models.Model):
    """退订: the buyer gets no care message again, ever. There is no way to remove the row."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="care_opt_out")
    source = models.CharField(_("来源"), max_length=10, choices=OptOutSource.choices)
    reply = models.ForeignKey(CareReply, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("退订时间"))

    def delete(self, *args, **kwargs):
        raise ValueError("an opt-out is honoured forever")


class Surprise(models.Model):
    """授权 (seed 001): a gift or gesture for a buyer, with the reason, the cost and who approved.
    A cost goes through the authority check and the approval queue as a gift money action."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="surprises")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surprises")
    kind = models.CharField(_("类型"), max_length=10, choices=SurpriseKind.choices)
    description = models.CharField(_("内容"), max_length=200)
    reason = models.CharField(_("原因"), max_length=500)
    cost = models.DecimalField(_("成本"), **AMOUNT)
    state = models.CharField(_("状态"), max_length=10, choices=SurpriseState.choices, default=SurpriseState.PENDING)
    requested_by = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approval = models.OneToOneField("approvals.ApprovalRequest", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="surprise")
    money_action = models.OneToOneField("approvals.MoneyAction", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="surprise")
    idempotency_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("登记时间"))
    decided_at = models.DateTimeField(_("批准时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="surprise_key_once"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="surprise_cost_not_negative"),
        ]
        indexes = [models.Index(fields=["shop", "state", "decided_at"])]


class ChurnFlag(models.Model):
    """流失预警: a buyer at risk for one cause (a complaint, a case, a review, silence). Open while
    the cause lasts; `cleared_at` set by the scan when it is gone."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="churn_flags")
    reason = models.CharField(_("原因"), max_length=10, choices=ChurnReason.choices)
    ref_id = models.PositiveBigIntegerField(default=0)  # the complaint, case or review; 0 for silence
    detail = models.CharField(_("说明"), max_length=200, blank=True)
    raised_at = models.DateTimeField(_("预警时间"))
    cleared_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["customer", "reason", "ref_id"],
                                               condition=Q(cleared_at__isnull=True), name="churnflag_open_once")]
        indexes = [models.Index(fields=["shop", "cleared_at", "raised_at"])]
