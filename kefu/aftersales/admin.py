from django.contrib import admin

from .models import Case, CaseEvent, CaseItem, CaseMoneyLine


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
