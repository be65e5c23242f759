"""After-sales case types, reasons, parties, states, money lines and error codes (AFT-1, AFT-11)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseType(models.TextChoices):
    RETURN_REFUND = "return_refund", _("退货退款")
    EXCHANGE = "exchange", _("换货")
    REFUND_ONLY = "refund_only", _("仅退款")
    RESHIP = "reship", _("补发")
    COMPENSATION = "compensation", _("补偿/折价")
    REPAIR = "repair", _("维修")


class CaseReason(models.TextChoices):
    QUALITY = "quality", _("质量问题")
    WRONG_ITEM = "wrong_item", _("发错货")
    MISSING_ITEM = "missing_item", _("少件/缺配件")
    EXTRA_ITEM = "extra_item", _("多发货")
    DAMAGED_PARCEL = "damaged_parcel", _("包裹破损")
    LOST_PARCEL = "lost_parcel", _("包裹丢失")
    UNDELIVERABLE = "undeliverable", _("地址无法送达")
    WRONG_SIZE_ORDERED = "wrong_size_ordered", _("拍错尺码/颜色")
    CHANGED_MIND = "changed_mind", _("七天无理由")
    ALLERGY = "allergy", _("过敏或不良反应")


class Party(models.TextChoices):
    SHOP = "shop", _("店铺")
    WAREHOUSE = "warehouse", _("仓库")
    COURIER = "courier", _("快递")
    SUPPLIER = "supplier", _("供应商")
    BUYER = "buyer", _("买家")


class CaseState(models.TextChoices):
    OPEN = "open", _("待处理")
    WAITING_BUYER = "waiting_buyer", _("等待买家")
    WAITING_RETURN = "waiting_return", _("等待退货")
    RECEIVED = "received", _("已收到退货")
    INSPECTED = "inspected", _("已验货")
    REFUNDED = "refunded", _("已退款")
    RESHIPPED = "reshipped", _("已补发/换货")
    COMPENSATED = "compensated", _("已补偿")
    REJECTED = "rejected", _("已拒绝")
    ESCALATED = "escalated", _("已升级")
    CLOSED = "closed", _("已关闭")


class MoneyLineKind(models.TextChoices):
    GOODS = "goods", _("货款")
    SHIPPING = "shipping", _("运费")
    CASH_BACK = "cash_back", _("返现")
    COMPENSATION = "compensation", _("补偿")


class Direction(models.TextChoices):
    SHOP_TO_BUYER = "shop_to_buyer", _("店铺→买家")
    BUYER_TO_SHOP = "buyer_to_shop", _("买家→店铺")


class MoneyLineState(models.TextChoices):
    PLANNED = "planned", _("待执行")
    DONE = "done", _("已完成")


class EventAction(models.TextChoices):
    """Timeline steps that do not change the state (CaseEvent.action)."""

    LINE_ADD = "line_add", _("新增款项")
    LINE_CHANGE = "line_change", _("修改款项")
    LINE_REMOVE = "line_remove", _("删除款项")
    ITEM_ADD = "item_add", _("新增商品")
    ITEM_CHANGE = "item_change", _("修改商品")
    ITEM_REMOVE = "item_remove", _("删除商品")
    APPROVAL_ASKED = "approval_asked", _("提交审批")
    APPROVAL_REJECTED = "approval_rejected", _("审批驳回")
    RETURN_SHIPPED = "return_shipped", _("买家已寄回")
    RETURN_ARRIVED = "return_arrived", _("退货已到")
    EVIDENCE = "evidence", _("上传凭证")
    CLAIM = "claim", _("快递索赔")
    RETENTION = "retention", _("挽留")
    SECOND_SERVICE = "second_service", _("二次服务回访")
    OVERRIDE = "override", _("破例")
    REMINDED = "reminded", _("跟进提醒")
    HANDOVER = "handover", _("账号交接")


class CaseApprovalState(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class ClaimState(models.TextChoices):
    FILED = "filed", _("已提交")
    ACCEPTED = "accepted", _("已受理")
    PAID = "paid", _("已赔付")
    REJECTED = "rejected", _("已拒赔")


class RetentionOutcome(models.TextChoices):
    OFFERED = "offered", _("已提出")
    ACCEPTED = "accepted", _("买家接受")
    DECLINED = "declined", _("买家拒绝")


class EvidenceKind(models.TextChoices):
    IMAGE = "image", _("图片")
    PDF = "pdf", _("PDF")
    VIDEO = "video", _("视频")


class CaseErrorCode(models.TextChoices):
    INVALID_TRANSITION = "invalid_transition", "transition not allowed"
    STALE_VERSION = "stale_version", "the case changed since it was read"
    ABOVE_AUTHORITY = "above_authority", "above the person's authority"
    PERSON_REQUIRED = "person_required", "a logged-in person must do this"
    APPROVAL_PENDING = "approval_pending", "an approval for this case's money is pending"
    LINE_DONE = "line_done", "the money line is already paid"
    NOT_OPEN = "not_open", "the case is finished"
    FILE_TYPE = "file_type", "file type not allowed"
    FILE_SIZE = "file_size", "file too large"
    NOT_ELIGIBLE = "not_eligible", "not eligible for an early refund"
    INVALID_CLAIM_TRANSITION = "invalid_claim_transition", "claim transition not allowed"
