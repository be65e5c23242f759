"""SLA reads, each scoped to the shop and to what the person may see (agents: their own clocks)."""


import datetime as dt

from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop

from . import clock as C
from .enums import ClockState
from .models import SlaClock, SlaPolicy

RUNNING_STATES = (ClockState.ACTIVE, ClockState.WARNED, ClockState.MISSED)


def policy_list(*, shop: Shop):
    return SlaPolicy.objects.filter(shop=shop).order_by("priority", "id")


def policy_get(*, shop: Shop, id: int) -> SlaPolicy:
    p = SlaPolicy.objects.filter(shop=shop, pk=id).first()
    if p is None:
        raise Http404("policy")
    return p


def clocks_for(*, shop: Shop, member: Agent | None, agent_id: int | None = None, group: str | None = None,
               state: str | None = None, target: str | None = None, running: bool | None = None,
               conversation_id: int | None = None, case_id: int | None = None):
    """Clocks by due time. An agent sees only the clocks they are responsible for."""
    qs = SlaClock.objects.filter(shop=shop).select_related("customer", "agent", "policy").order_by("due_at", "id")
    if member is not None and not sees_whole_shop(member):
        qs = qs.filter(agent=member)
    if agent_id is not None:
        qs = qs.filter(agent_id=agent_id)
    if group:
        qs = qs.filter(agent__group=group)
    if state:
        qs = qs.filter(state=state)
    if target:
        qs = qs.filter(target=target)
    if running is not None:
        qs = qs.filter(stopped_at__isnull=running)
    if conversation_id is not None:
        qs = qs.filter(conversation_id=conversation_id)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    return qs


BOARD_RECENT_DAYS = 7  # an open breach older than this is stale: shown only when asked for ("全部")


def _board_qs(*, shop, member, agent_id, group, open_only: bool):
    qs = clocks_for(shop=shop, member=member, agent_id=agent_id, group=group, running=True)
    if open_only:
        # What someone can still act on: the conversation or case is open and the clock fell due recently.
        qs = qs.filter(Q(conversation__isnull=True) | Q(conversation__closed_at__isnull=True),
                       Q(case__isnull=True) | ~Q(case__state="closed"),
                       due_at__gte=timezone.now() - dt.timedelta(days=BOARD_RECENT_DAYS))
    return qs


def board(*, shop: Shop, member: Agent | None, agent_id: int | None = None, group: str | None = None,
          limit: int = 200, open_only: bool = True) -> list[SlaClock]:
    """Running clocks soonest due first (already missed ones lead)."""
    return list(_board_qs(shop=shop, member=member, agent_id=agent_id, group=group, open_only=open_only)[:limit])


def board_counts(*, shop: Shop, member: Agent | None, agent_id=None, group=None, open_only: bool = True) -> dict:
    qs = _board_qs(shop=shop, member=member, agent_id=agent_id, group=group, open_only=open_only)
    return qs.aggregate(active=Count("id", filter=Q(state=ClockState.ACTIVE)),
                        warned=Count("id", filter=Q(state=ClockState.WARNED)),
                        missed=Count("id", filter=Q(state=ClockState.MISSED)))


def subject_clocks(*, shop: Shop, conversation_id: int | None = None, case_id: int | None = None) -> dict:
    """The clocks of one conversation or case and its SPEC §12 outcome (None when no policy applied)."""
    if conversation_id is None and case_id is None:
        return {"clocks": [], "outcome": None}
    qs = SlaClock.objects.filter(shop=shop).select_related("policy", "agent", "customer").order_by(
        "started_at", "target", "seq")
    qs = qs.filter(conversation_id=conversation_id) if conversation_id is not None else qs.filter(case_id=case_id)
    clocks = list(qs)
    return {"clocks": clocks, "outcome": C.outcome(clocks)}
