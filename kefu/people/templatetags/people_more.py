"""Cards of the later people parts on the agent's own page: typing (WF-9) and the buyers still to greet
from a handover (CONV-8). Inclusion tags, so the page's view stays as it is."""

from django import template

from ..enums import HandoverItemKind
from ..models import HandoverItem
from ..typing_results import typing_trend

register = template.Library()


@register.inclusion_tag("people/_more_cards.html", takes_context=True)
def people_more_cards(context, agent, month):
    from django.utils import timezone

    from ..months import month_start, shop_today

    shop = context["request"].shop
    today = shop_today(shop, timezone.now())
    shown = month if month_start(month) <= month_start(today) else today
    trend = typing_trend(shop=shop, agent=agent, months=2, today=shown)
    # One query for the count and the latest handover (a handover's buyers, a few dozen at most).
    to_greet = list(HandoverItem.objects.filter(shop=shop, to_agent=agent, kind=HandoverItemKind.BUYER,
                                                greeted_at__isnull=True)
                    .order_by("-handover_id").values_list("handover_id", flat=True))
    return {"agent": agent, "typing": trend[-1], "to_greet": len(to_greet),
            "greet_handover": to_greet[0] if to_greet else None}
