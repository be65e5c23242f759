from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    UNPAID = "unpaid", _("等待买家付款")
    PAID = "paid", _("买家已付款")
    PRINTED = "printed", _("已打单")
    SHIPPED = "shipped", _("卖家已发货")
    SIGNED = "signed", _("买家已签收")
    COMPLETED = "completed", _("交易成功")
    CLOSED = "closed", _("交易关闭")
    REFUNDING = "refunding", _("退款中")
    REFUNDED = "refunded", _("已退款")
