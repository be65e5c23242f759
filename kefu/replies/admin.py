"""Read-only data browser (writes go through the services, which keep the search index in sync)."""

from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Script, ScriptVersion


class VersionInline(ReadOnlyInline):
    model = ScriptVersion


@admin.register(Script)
class ScriptAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "category", "title", "key", "owner", "active", "usage_count", "version")
    list_filter = ("shop", "category", "active")
    search_fields = ("title", "body", "key")
    inlines = [VersionInline]
