from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin

from .models import ConversationEvent, ConversationNote, Message, RoutingSettings


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("message_id", "shop", "customer", "agent", "sender", "sent_at")
    list_filter = ("shop", "sender", "channel")
    search_fields = ("message_id",)
    list_select_related = ("shop", "customer", "agent")


@admin.register(ConversationEvent)
class ConversationEventAdmin(ReadOnlyAdmin):
    list_display = ("conversation", "kind", "from_agent", "to_agent", "by_label", "at")
    list_filter = ("shop", "kind")
    list_select_related = ("conversation", "from_agent", "to_agent")


@admin.register(ConversationNote)
class ConversationNoteAdmin(ReadOnlyAdmin):
    list_display = ("conversation", "author_label", "created_at")
    list_filter = ("shop",)


@admin.register(RoutingSettings)
class RoutingSettingsAdmin(ReadOnlyAdmin):
    list_display = ("shop", "default_cap", "sticky")
