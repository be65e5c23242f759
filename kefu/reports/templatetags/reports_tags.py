"""What other apps' pages show of the reports (the agent's own page: daily reports to sign)."""

from django import template
from django.db.models import Q

register = template.Library()


@register.simple_tag
def daily_to_sign(agent) -> int:
    """The agent's daily sales reports waiting for their signature (new, or changed since signed)."""
    from ..enums import DailyState
    from ..models import DailyReport

    return DailyReport.objects.filter(agent=agent).filter(Q(state=DailyState.PENDING) | Q(changed=True)).count()
