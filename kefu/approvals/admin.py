"""Read-only data browser (writes go through the services and their audit rows)."""

from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import ApprovalEvent, ApprovalRequest, AuthorityLimit, MoneyAction, Notification


@admin.register(AuthorityLimit)
class AuthorityLimitAdmin(ReadOnlyAdmin):
    list_display = ("shop", "role", "agent", "kind", "limit", "updated_at")
    list_filter = ("shop", "kind")


class EventInline(ReadOnlyInline):
    model = ApprovalEvent


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "kind", "amount", "state", "requested_by", "decided_by", "created_at")
    list_filter = ("shop", "state", "kind")
    inlines = [EventInline]


@admin.register(MoneyAction)
class MoneyActionAdmin(ReadOnlyAdmin):
    list_display = ("executed_at", "shop", "kind", "amount", "order", "requested_by", "approved_by", "request")
    list_filter = ("shop", "kind")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "recipient", "text", "read_at")
    list_filter = ("shop",)
