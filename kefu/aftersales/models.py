"""After-sales cases (售后单), their items, money lines and timeline (AFT-1, AFT-11)."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop
from kefu.orders.models import Order

from .enums import (
    CaseApprovalState,
    CaseReason,
    CaseState,
    CaseType,
    ClaimState,
    Direction,
    EventAction,
    EvidenceKind,
    MoneyLineKind,
    MoneyLineState,
    Party,
    RetentionOutcome,
)

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
    # The buyer's parcel back (AFT-6): once it is on its way an early refund is possible.
    return_courier = models.CharField(_("退货快递"), max_length=40, blank=True)
    return_tracking_no = models.CharField(_("退货单号"), max_length=64, blank=True)
    return_received_at = models.DateTimeField(_("退货签收时间"), null=True, blank=True)
    # Early refund: the returned parcel must arrive by this time, else it is a follow-up.
    return_due_at = models.DateTimeField(_("退货应到时间"), null=True, blank=True)
    # The reason the shop lifted the policy's window for this case (AFT-2), empty = not overridden.
    override_reason = models.CharField(_("破例原因"), max_length=500, blank=True)
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
    # Paid before the returned parcel arrived (AFT-6): the shop carries the risk until it does.
    early = models.BooleanField(_("提前退款"), default=False)
    # Waiting for an approver's decision (above the person's authority); locked for edits meanwhile.
    approval = models.ForeignKey("CaseApproval", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="lines")
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
    # "" = a state change; else what happened without one (money line edit, evidence, claim …).
    action = models.CharField(max_length=30, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    @property
    def action_label(self) -> str:
        return EventAction(self.action).label if self.action in EventAction.values else self.action


class CaseApproval(models.Model):
    """A case's refund above the person's authority, waiting in the approvals queue (AFT-6, PRE-4).

    The approval request executes the money action exactly once (approvals app); its decision hook
    (services.on_approval_decided) then pays the lines bound here and moves the case to `to_state`.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="approvals")
    request = models.OneToOneField("approvals.ApprovalRequest", on_delete=models.PROTECT, related_name="case_link")
    to_state = models.CharField(max_length=20, choices=CaseState.choices)
    amount = models.DecimalField(_("金额"), **AMOUNT)
    state = models.CharField(_("状态"), max_length=10, choices=CaseApprovalState.choices,
                             default=CaseApprovalState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # One pending approval per case: a second ask while one waits is refused.
        constraints = [models.UniqueConstraint(fields=["case"], condition=Q(state="pending"),
                                               name="caseapproval_one_pending")]


class CategoryPolicy(models.Model):
    """A shop's return window for one product category (AFT-12), days counted from signing."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="category_policies")
    category = models.CharField(_("类目"), max_length=80)
    return_days = models.PositiveIntegerField(_("无理由退货天数"), default=7)
    quality_days = models.PositiveIntegerField(_("质量问题处理天数"), default=3)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category"]
        constraints = [models.UniqueConstraint(fields=["shop", "category"], name="categorypolicy_once")]


class ReturnHoliday(models.Model):
    """Holidays (shop days, both ends included) that extend the return windows by their length."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="return_holidays")
    name = models.CharField(_("名称"), max_length=80)
    date_from = models.DateField(_("开始日期"))
    date_to = models.DateField(_("结束日期"))

    class Meta:
        ordering = ["date_from"]
        constraints = [models.CheckConstraint(condition=Q(date_to__gte=models.F("date_from")),
                                              name="returnholiday_order")]


class Evidence(models.Model):
    """A photo, PDF or video attached to a case (AFT-5); findable by buyer id and SKU."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    buyer_id = models.CharField(_("买家ID"), max_length=120, blank=True, db_index=True)
    sku = models.CharField(_("SKU"), max_length=80, blank=True)
    kind = models.CharField(_("类型"), max_length=10, choices=EvidenceKind.choices)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    # Names in the evidence storage (evidence.storage(): an alias or DATA_DIR/evidence), read at use
    # time so that the storage can be switched (S3) without a migration.
    file_name = models.CharField(max_length=300)
    thumbnail_name = models.CharField(max_length=300, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "buyer_id"]), models.Index(fields=["shop", "sku", "created_at"])]


class CourierClaim(models.Model):
    """A claim against the courier for a lost or damaged parcel (AFT-7), tracked to its money outcome."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="claims")
    courier = models.CharField(_("快递公司"), max_length=40)
    tracking_no = models.CharField(_("物流单号"), max_length=64)
    amount_claimed = models.DecimalField(_("索赔金额"), **AMOUNT)
    amount_recovered = models.DecimalField(_("实际赔付"), default=Decimal("0.00"), **AMOUNT)
    state = models.CharField(_("状态"), max_length=10, choices=ClaimState.choices, default=ClaimState.FILED)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_claimed__gt=0), name="courierclaim_amount_positive"),
            models.CheckConstraint(condition=Q(amount_recovered__gte=0), name="courierclaim_recovered_not_negative"),
        ]


class RetentionAttempt(models.Model):
    """A refund retention attempt (AFT-10): what was offered instead of the refund and the answer."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="retentions")
    offer = models.CharField(_("挽留方案"), max_length=300)
    offer_amount = models.DecimalField(_("补偿金额"), null=True, blank=True, **AMOUNT)
    outcome = models.CharField(_("结果"), max_length=10, choices=RetentionOutcome.choices,
                               default=RetentionOutcome.OFFERED)
    by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class SecondService(models.Model):
    """The second-service follow-up after a refund (AFT-10): due on a shop day, then done with a note."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="second_service")
    due_on = models.DateField(_("回访日期"))
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(_("回访记录"), max_length=500, blank=True)
    satisfied = models.BooleanField(_("买家满意"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["shop", "due_on"])]
