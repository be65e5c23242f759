"""Helpers of the people API: the acting person, months, agents by id."""

import datetime as dt

from django.http import Http404

from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop

from ..access import agent_get_for_user
from ..months import parse_month, shop_today


def actor_of(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def month_of(shop: Shop, raw: str | None) -> dt.date:
    try:
        return parse_month(raw, shop_today(shop))
    except ValueError as exc:
        raise KefuError(str(exc), field="month") from None


def agent_of(shop: Shop, member: Agent | None, agent_id: int | None) -> Agent | None:
    if agent_id is None:
        return None
    try:
        return agent_get_for_user(shop=shop, member=member, id=agent_id)
    except Http404:
        raise Http404("agent") from None
