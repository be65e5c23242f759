"""`{% qa_panel conversation=conv %}`: the conversation's automatic flags, the product knowledge of what
the buyer ordered or asks about, and (for supervisors) review / typical-case buttons."""

from django import template

from kefu.core.access import sees_whole_shop

from ..enums import CaseKind
from ..knowledge import knowledge_for_conversation
from ..models import ConversationFlag

register = template.Library()


@register.inclusion_tag("quality/_conversation.html", takes_context=True)
def qa_panel(context, conversation=None, texts=None):
    shop = context.get("current_shop") or getattr(context.get("request"), "shop", None)
    member = context.get("current_member") or getattr(context.get("request"), "member", None)
    if shop is None or conversation is None:
        return {"conv": None}
    flags = list(ConversationFlag.objects.filter(shop=shop, conversation=conversation).order_by("at", "id"))
    texts = texts if texts is not None else [m.text for m in context.get("chat_messages", []) if m.sender == "buyer"]
    return {"conv": conversation, "flags": flags, "request": context.get("request"),
            "cards": knowledge_for_conversation(shop=shop, customer_id=conversation.customer_id, texts=texts),
            "reviewer": sees_whole_shop(member), "case_kinds": CaseKind.choices, "csrf_token": context.get("csrf_token")}
