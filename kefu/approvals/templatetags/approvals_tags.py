from django import template

from ..selectors import notifications_unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """The header's notification count for the person of this request (one COUNT query)."""
    request = context.get("request")
    return notifications_unread_count(member=getattr(request, "member", None))
