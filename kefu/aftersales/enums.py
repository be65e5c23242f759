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


class CaseErrorCode(models.TextChoices):
    INVALID_TRANSITION = "invalid_transition", "transition not allowed"
    STALE_VERSION = "stale_version", "the case changed since it was read"
    ABOVE_AUTHORITY = "above_authority", "above the person's authority"
    PERSON_REQUIRED = "person_required", "a logged-in person must do this"
