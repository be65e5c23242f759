from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin

from .models import Message


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("message_id", "shop", "customer", "agent", "sender", "sent_at")
    list_filter = ("shop", "sender", "channel")
    search_fields = ("message_id",)
    list_select_related = ("shop", "customer", "agent")
