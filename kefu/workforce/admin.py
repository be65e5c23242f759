from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin

from .models import AgentPresence, AgentStatusChange, RosterEntry, Shift, ShiftSwap


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    list_display = ("name", "shop", "hours", "group", "active")
    list_filter = ("shop", "group", "active")


@admin.register(RosterEntry)
class RosterEntryAdmin(ReadOnlyAdmin):
    list_display = ("date", "agent", "shift", "starts_at", "ends_at", "swap", "shop")
    list_filter = ("shop", "date")
    list_select_related = ("agent", "shift", "shop")


@admin.register(ShiftSwap)
class ShiftSwapAdmin(ReadOnlyAdmin):
    list_display = ("date", "agent_a_name", "agent_b_name", "shift_a", "shift_b", "status", "decided_by_label", "shop")
    list_filter = ("shop", "status")


@admin.register(AgentPresence)
class AgentPresenceAdmin(ReadOnlyAdmin):
    list_display = ("agent", "status", "since", "shop")
    list_filter = ("shop", "status")


@admin.register(AgentStatusChange)
class AgentStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "agent", "previous", "status", "source", "actor_label", "shop")
    list_filter = ("shop", "status", "source")
