"""`{% sla_clocks conversation=conv %}` / `{% sla_clocks case=case %}`: the SLA clocks of one subject."""

from django import template
from django.utils import timezone

from ..selectors import subject_clocks
from ..views import decorate

register = template.Library()


@register.inclusion_tag("sla/_clocks.html", takes_context=True)
def sla_clocks(context, conversation=None, case=None):
    shop = context.get("current_shop") or getattr(context.get("request"), "shop", None)
    if shop is None or (conversation is None and case is None):
        return {"clocks": [], "outcome": None}
    got = subject_clocks(shop=shop, conversation_id=getattr(conversation, "pk", None),
                         case_id=getattr(case, "pk", None) if conversation is None else None)
    decorate(got["clocks"], timezone.now())
    return {**got, "shop_tz": context.get("shop_tz")}
