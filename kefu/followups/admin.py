"""Read-only data browser (writes go through the services and their audit rows)."""

from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import FollowUp, FollowUpEvent


class EventInline(ReadOnlyInline):
    model = FollowUpEvent


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "kind", "state", "owner", "customer", "order", "due_at", "created_at")
    list_filter = ("shop", "kind", "state")
    inlines = [EventInline]
