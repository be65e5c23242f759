from django.contrib import admin

from .models import SlaAlert, SlaClock, SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "shop", "priority", "active", "first_reply_minutes", "next_reply_minutes",
                    "resolution_minutes", "business_hours")
    list_filter = ("shop", "active")


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    list_display = ("id", "shop", "target", "conversation", "case", "agent", "due_at", "stopped_at", "state")
    list_filter = ("shop", "target", "state")
    raw_id_fields = ("conversation", "case", "customer", "agent", "policy")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SlaAlert)
class SlaAlertAdmin(admin.ModelAdmin):
    list_display = ("clock_key", "shop", "kind", "recipients", "created_at")
    list_filter = ("shop", "kind")
