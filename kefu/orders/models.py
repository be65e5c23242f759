from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from .enums import (
    OrderEventKind,
    OrderStatus,
    RemarkType,
    RequestKind,
    RequestState,
    TaskKind,
    TaskOutcome,
    TaskState,
)

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
    # Sum of executed price changes / free orders (OrderAdjustment rows); not touched by ingestion.
    adjustment_amount = models.DecimalField(_("改价/免单金额"), max_digits=12, decimal_places=2, default=ZERO)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["shop", "order_id"], name="order_unique_per_shop")]
        indexes = [models.Index(fields=["shop", "customer", "created_at"]), models.Index(fields=["shop", "paid_at"])]

    def __str__(self) -> str:
        return self.order_id

    @property
    def net_amount(self):
        """What the shop keeps: paid less refunded."""
        return self.paid_amount - self.refund_amount


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku_code = models.CharField(_("SKU"), max_length=80)
    quantity = models.PositiveIntegerField(_("数量"), default=1)
    price = models.DecimalField(_("单价"), max_digits=12, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["id"]


# ---------------------------------------------------------------- requests, warehouse tasks, remarks, timeline

class OrderRequest(models.Model):
    """A buyer's cancellation or change request on an order (PRE-5, PRE-6), routed by the order's state."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="order_requests")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(_("类型"), max_length=20, choices=RequestKind.choices)
    state = models.CharField(_("状态"), max_length=20, choices=RequestState.choices, default=RequestState.OPEN)
    # The order's status when asked: the routing was decided from it.
    order_status = models.CharField(_("申请时订单状态"), max_length=20, choices=OrderStatus.choices)
    route = models.CharField(_("处理方式"), max_length=30)
    new_value = models.CharField(_("新内容"), max_length=255, blank=True)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    result = models.CharField(_("结果"), max_length=500, blank=True)
    requested_by = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="order_requests")
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "state", "created_at"]), models.Index(fields=["shop", "requested_by"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.state}"


class WarehouseTask(models.Model):
    """Work for the warehouse on a request: find the slip, stop the parcel, change, confirm shipped."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="warehouse_tasks")
    request = models.ForeignKey(OrderRequest, on_delete=models.CASCADE, related_name="tasks")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="warehouse_tasks")
    kind = models.CharField(_("任务"), max_length=20, choices=TaskKind.choices)
    state = models.CharField(_("状态"), max_length=20, choices=TaskState.choices, default=TaskState.OPEN)
    outcome = models.CharField(_("结果"), max_length=20, choices=TaskOutcome.choices, blank=True)
    tracking_no = models.CharField(_("物流单号"), max_length=64, blank=True)
    courier = models.CharField(_("快递公司"), max_length=40, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    done_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["shop", "state", "created_at"]), models.Index(fields=["shop", "done_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.state}"


class OrderRemark(models.Model):
    """A structured seller remark (PRE-7): type, reason, who and when; `text` is what goes to the platform."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="order_remarks")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="remarks")
    type = models.CharField(_("备注类型"), max_length=20, choices=RemarkType.choices)
    reason = models.CharField(_("原因"), max_length=100, blank=True)
    author = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="order_remarks")
    text = models.CharField(_("备注内容"), max_length=200)
    request = models.ForeignKey(OrderRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("备注时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["shop", "order"])]


class OrderAdjustment(models.Model):
    """What an executed price change or free order did to the order; one per money action."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="adjustments")
    money_action = models.OneToOneField("approvals.MoneyAction", on_delete=models.PROTECT, related_name="adjustment")
    kind = models.CharField(_("类型"), max_length=20)
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2)
    payable_before = models.DecimalField(_("调整前应付"), max_digits=12, decimal_places=2)
    payable_after = models.DecimalField(_("调整后应付"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class OrderEvent(models.Model):
    """The order's timeline: every request step, warehouse task, remark and money change."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=OrderEventKind.choices)
    request = models.ForeignKey(OrderRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    action = models.CharField(max_length=30, blank=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["shop", "order", "created_at"])]
