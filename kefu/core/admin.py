"""The Django admin is a read-only data browser: every write goes through a service (and its audit row)."""

from django.contrib import admin

from .models import Agent, AgentAccount, AuditLog, IntegrationToken, SchedulerRun, Shop


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccountInline(ReadOnlyInline):
    model = AgentAccount


@admin.register(Shop)
class ShopAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "timezone", "attribution_window_days", "slow_turn_seconds")


@admin.register(Agent)
class AgentAdmin(ReadOnlyAdmin):
    list_display = ("name", "shop", "group", "roles", "active", "user")
    list_filter = ("shop", "group", "active")
    search_fields = ("name",)
    inlines = [AccountInline]


@admin.register(IntegrationToken)
class TokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "shop", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("token_hash",)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "actor_label", "action", "entity_type", "entity_id")
    list_filter = ("shop", "action")


@admin.register(SchedulerRun)
class SchedulerRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "period", "shop", "fired_at")
