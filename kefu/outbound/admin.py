from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin

from .models import OutboundMessage


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("idempotency_key", "shop", "customer", "kind", "state", "created_at")
    list_filter = ("shop", "state", "kind")
    list_select_related = ("shop", "customer")
