"""Read-only data browser (writes go through the services and their audit rows)."""

from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin

from .models import CustomerGrade, GradeRule, ProductPair, Promotion


@admin.register(GradeRule)
class GradeRuleAdmin(ReadOnlyAdmin):
    list_display = ("shop", "position", "grade", "min_spend", "min_orders", "match", "window_days")
    list_filter = ("shop",)


@admin.register(CustomerGrade)
class CustomerGradeAdmin(ReadOnlyAdmin):
    list_display = ("shop", "customer", "grade", "computed", "override", "spend", "orders", "computed_at")
    list_filter = ("shop", "grade")


@admin.register(Promotion)
class PromotionAdmin(ReadOnlyAdmin):
    list_display = ("shop", "name", "discount_text", "category", "starts_on", "ends_on", "active")
    list_filter = ("shop", "active")


@admin.register(ProductPair)
class ProductPairAdmin(ReadOnlyAdmin):
    list_display = ("shop", "product", "related", "note")
    list_filter = ("shop",)
