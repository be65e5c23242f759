from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin

from .models import Order, OrderRemark, OrderRequest, WarehouseTask


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("order_id", "shop", "customer", "status", "paid_amount", "created_at", "paid_at")
    list_filter = ("shop", "status")
    search_fields = ("order_id",)
    list_select_related = ("shop", "customer")


@admin.register(OrderRequest)
class OrderRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "order", "kind", "state", "requested_by", "created_at")
    list_filter = ("shop", "kind", "state")
    list_select_related = ("shop", "order", "requested_by")


@admin.register(WarehouseTask)
class WarehouseTaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "order", "kind", "state", "outcome", "tracking_no", "done_by", "done_at")
    list_filter = ("shop", "kind", "state")
    list_select_related = ("shop", "order", "done_by")


@admin.register(OrderRemark)
class OrderRemarkAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "order", "type", "text", "author", "created_at")
    list_filter = ("shop", "type")
    list_select_related = ("shop", "order", "author")
