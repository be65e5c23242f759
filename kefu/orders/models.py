from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop
from kefu.customers.models import Customer

from .enums import OrderStatus

ZERO = Decimal("0.00")


class Order(models.Model):
    """A platform order with the time of every step (empty = not happened)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    order_id = models.CharField(_("订单编号"), max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(_("状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.UNPAID)
    title = models.CharField(_("宝贝标题"), max_length=255, blank=True)
    total_amount = models.DecimalField(_("应付金额"), max_digits=12, decimal_places=2, default=ZERO)
    paid_amount = models.DecimalField(_("实付金额"), max_digits=12, decimal_places=2, default=ZERO)
    refund_amount = models.DecimalField(_("退款金额"), max_digits=12, decimal_places=2, default=ZERO)
    created_at = models.DateTimeField(_("下单时间"))
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    printed_at = models.DateTimeField(_("打单时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("退款时间"), null=True, blank=True)
    courier = models.CharField(_("快递公司"), max_length=40, blank=True)
    tracking_no = models.CharField(_("物流单号"), max_length=64, blank=True)
    address = models.CharField(_("收货地址"), max_length=255, blank=True)
    buyer_note = models.CharField(_("买家留言"), max_length=500, blank=True)
    seller_remark = models.CharField(_("订单备注"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["shop", "order_id"], name="order_unique_per_shop")]
        indexes = [models.Index(fields=["shop", "customer", "created_at"]), models.Index(fields=["shop", "paid_at"])]

    def __str__(self) -> str:
        return self.order_id


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku_code = models.CharField(_("SKU"), max_length=80)
    quantity = models.PositiveIntegerField(_("数量"), default=1)
    price = models.DecimalField(_("单价"), max_digits=12, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["id"]
