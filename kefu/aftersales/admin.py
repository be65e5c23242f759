from django.contrib import admin

from .models import (
    Case,
    CaseApproval,
    CaseEvent,
    CaseItem,
    CaseMoneyLine,
    CategoryPolicy,
    CourierClaim,
    Evidence,
    RetentionAttempt,
    ReturnHoliday,
    SecondService,
)


class ItemInline(admin.TabularInline):
    model = CaseItem
    extra = 0


class MoneyInline(admin.TabularInline):
    model = CaseMoneyLine
    extra = 0


class EventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    readonly_fields = ("actor", "from_state", "to_state", "note", "created_at")


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "shop", "type", "reason", "state", "owner", "created_at")
    list_filter = ("state", "type", "reason")
    inlines = [ItemInline, MoneyInline, EventInline]


@admin.register(CourierClaim)
class CourierClaimAdmin(admin.ModelAdmin):
    list_display = ("id", "shop", "case", "courier", "tracking_no", "amount_claimed", "amount_recovered", "state")
    list_filter = ("state",)


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ("id", "shop", "case", "buyer_id", "sku", "kind", "name", "size", "created_at")
    search_fields = ("buyer_id", "sku")


admin.site.register([CategoryPolicy, ReturnHoliday, RetentionAttempt, SecondService, CaseApproval])
