"""Complaints (CMP-1), reviews and review tasks (CMP-2), platform disputes (CMP-3) and service
ratings (AUTO-3), each with its timeline."""

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.conversations.models import Conversation
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer
from kefu.orders.models import Order

from .enums import (
    BuyerType,
    ComplaintAction,
    ComplaintCategory,
    ComplaintSource,
    ComplaintState,
    ComplaintStep,
    DisputeAction,
    DisputeKind,
    DisputeState,
    InvitationState,
    RatingScore,
    RemedyKind,
    ReviewLevel,
    ReviewOutcome,
    ReviewTaskAction,
    ReviewTaskState,
    Verdict,
)

AMOUNT = {"max_digits": 12, "decimal_places": 2}


class Complaint(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="complaints")
    source = models.CharField(_("来源"), max_length=20, choices=ComplaintSource.choices)
    category = models.CharField(_("类别"), max_length=20, choices=ComplaintCategory.choices)
    buyer_type = models.CharField(_("客户类型"), max_length=20, choices=BuyerType.choices, default=BuyerType.UNKNOWN)
    state = models.CharField(_("阶段"), max_length=20, choices=ComplaintState.choices, default=ComplaintState.ACCEPT)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    against = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints_against")
    reported_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    owner = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="complaints_owned")
    summary = models.CharField(_("投诉内容"), max_length=1000)
    remedy_kind = models.CharField(_("补救措施"), max_length=20, choices=RemedyKind.choices, blank=True)
    remedy_text = models.CharField(_("补救说明"), max_length=500, blank=True)
    remedy_amount = models.DecimalField(_("补偿金额"), null=True, blank=True, **AMOUNT)
    # The money went through the approvals module: executed at once, or waiting for approval.
    remedy_money_action = models.ForeignKey("approvals.MoneyAction", on_delete=models.SET_NULL, null=True,
                                            blank=True, related_name="+")
    remedy_approval = models.ForeignKey("approvals.ApprovalRequest", on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="+")
    revisit_on = models.DateField(_("回访日期"), null=True, blank=True)
    revisit_notified_at = models.DateTimeField(null=True, blank=True)
    negativity = models.PositiveSmallIntegerField(_("情绪分"), default=0)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "state"]),
            models.Index(fields=["shop", "revisit_on"]),
            models.Index(fields=["shop", "owner", "state"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state != ComplaintState.CLOSED


class ComplaintCheck(models.Model):
    """One done step of the seven (who ticked it and when)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="checks")
    step = models.CharField(max_length=20, choices=ComplaintStep.choices)
    done_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["complaint", "step"], name="complaint_step_once")]


class ComplaintEvent(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=ComplaintAction.choices)
    from_state = models.CharField(max_length=20, choices=ComplaintState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=ComplaintState.choices)
    actor = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class AgentComplaint(models.Model):
    """A complaint against an agent, for the penalty rules (read via selectors.complaints_against)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    complaint = models.OneToOneField(Complaint, on_delete=models.CASCADE, related_name="agent_record")
    day = models.DateField(_("投诉日期"))  # shop day the complaint was registered
    category = models.CharField(max_length=20, choices=ComplaintCategory.choices)
    verdict = models.CharField(_("判定"), max_length=20, choices=Verdict.choices, default=Verdict.PENDING)
    decided_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "agent", "day"])]


# ---------------------------------------------------------------- reviews (CMP-2)

class Review(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="reviews")
    review_id = models.CharField(_("评价ID"), max_length=120)
    order_ref = models.CharField(_("订单编号"), max_length=64, blank=True)
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    sku = models.CharField(_("SKU"), max_length=80, blank=True)
    rating = models.PositiveSmallIntegerField(_("星级"), null=True, blank=True)
    level = models.CharField(_("评价"), max_length=10, choices=ReviewLevel.choices)
    text = models.TextField(_("评价内容"), blank=True)
    created_at = models.DateTimeField(_("评价时间"))
    # The agent answerable for it: the import's agent_id, else the order's credited agent (§12).
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    agent_source = models.CharField(max_length=10, blank=True)  # "import" | "credit" | "" (silent)
    negativity = models.PositiveSmallIntegerField(_("负面分"), default=0)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "review_id"], name="review_unique_per_shop")]
        indexes = [models.Index(fields=["shop", "level", "created_at"])]


class ReviewTask(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="review_tasks")
    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="task")
    owner = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    state = models.CharField(_("状态"), max_length=20, choices=ReviewTaskState.choices, default=ReviewTaskState.OPEN)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=0)
    contact_count = models.PositiveSmallIntegerField(_("联系次数"), default=0)
    resolution = models.CharField(_("处理结果"), max_length=500, blank=True)
    outcome = models.CharField(_("改评结果"), max_length=20, choices=ReviewOutcome.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "created_at", "id"]
        indexes = [models.Index(fields=["shop", "state", "priority"]), models.Index(fields=["shop", "closed_at"])]

    @property
    def is_open(self) -> bool:
        return self.state != ReviewTaskState.CLOSED


class ReviewTaskEvent(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    task = models.ForeignKey(ReviewTask, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=ReviewTaskAction.choices)
    from_state = models.CharField(max_length=20, choices=ReviewTaskState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=ReviewTaskState.choices)
    actor = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


# ---------------------------------------------------------------- disputes (CMP-3)

class EvidenceStorage(FileSystemStorage):
    """Evidence files under MEDIA_ROOT when set, else KEFU_DATA_DIR/media (read at each use)."""

    @property
    def base_location(self):
        return str(getattr(settings, "MEDIA_ROOT", "") or Path(settings.DATA_DIR) / "media")

    @property
    def location(self):
        return str(Path(self.base_location).resolve())


evidence_storage = EvidenceStorage()


def _evidence_storage():
    return evidence_storage


class Dispute(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="disputes")
    kind = models.CharField(_("类型"), max_length=30, choices=DisputeKind.choices)
    state = models.CharField(_("状态"), max_length=20, choices=DisputeState.choices, default=DisputeState.OPEN)
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    review = models.ForeignKey(Review, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    platform_ref = models.CharField(_("平台单号"), max_length=64, blank=True)
    description = models.CharField(_("说明"), max_length=1000)
    outcome = models.CharField(_("结果说明"), max_length=500, blank=True)
    owner = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "state"])]

    @property
    def is_open(self) -> bool:
        return self.state in (DisputeState.OPEN, DisputeState.SUBMITTED)


class DisputeEvidence(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="evidence/%Y/%m", storage=_evidence_storage, max_length=255)
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=80)
    note = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]


class DisputeEvent(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=DisputeAction.choices)
    from_state = models.CharField(max_length=20, choices=DisputeState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=DisputeState.choices)
    actor = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


# ---------------------------------------------------------------- service ratings (AUTO-3, §12 CSAT)

class RatingInvitation(models.Model):
    """One invitation per reception (agent, buyer, shop day): 'once per cycle'."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="rating_invitations")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("接待日"))
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    state = models.CharField(_("状态"), max_length=10, choices=InvitationState.choices, default=InvitationState.QUEUED)
    outbox_ref = models.CharField(max_length=64, blank=True)  # the outbound message, when sent through it
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [models.UniqueConstraint(fields=["agent", "customer", "day"], name="rating_invitation_once")]
        indexes = [models.Index(fields=["shop", "day", "agent"])]


class ServiceRating(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    invitation = models.OneToOneField(RatingInvitation, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(_("评分"), choices=RatingScore.choices)
    comment = models.CharField(_("留言"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("评价时间"))
    created_at = models.DateTimeField(auto_now_add=True)
