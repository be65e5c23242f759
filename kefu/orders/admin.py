from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin

from .models import Order


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("order_id", "shop", "customer", "status", "paid_amount", "created_at", "paid_at")
    list_filter = ("shop", "status")
    search_fields = ("order_id",)
    list_select_related = ("shop", "customer")
