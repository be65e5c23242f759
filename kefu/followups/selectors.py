"""Reads of the follow-ups domain, always through the shop and the person asking."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import day_bounds, shop_day
from kefu.metrics.ranges import ids_arg, sums_per_range

from .enums import ACTIVE_STATES, CLOSED_STATES, FollowUpKind, FollowUpState
from .models import FollowUp

RELATED = ("owner", "customer", "order")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def followup_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> FollowUp:
    """One follow-up: its owner, the shop's supervisors and up, or the shop's integration token."""
    fu = FollowUp.objects.filter(shop=shop, pk=id).select_related(*RELATED).first()
    if fu is None or (member is not None and not sees_whole_shop(member) and fu.owner_id != member.pk):
        raise Http404("follow-up")
    return fu


def followups_for(*, shop: Shop, member: Agent | None, owner_id: int | None = None, kind: str | None = None,
                  state: str | None = None) -> QuerySet[FollowUp]:
    """Everyone's follow-ups for supervisors and integrations, one's own for an agent."""
    qs = FollowUp.objects.filter(shop=shop).select_related(*RELATED)
    if member is not None and not sees_whole_shop(member):
        qs = qs.filter(owner=member)
    elif owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


@dataclass
class Worklist:
    overdue: list[FollowUp] = field(default_factory=list)  # past the deadline (due_at)
    due_now: list[FollowUp] = field(default_factory=list)  # to contact now (no later contact time set)
    later: list[FollowUp] = field(default_factory=list)  # next contact time still ahead
    done_today: list[FollowUp] = field(default_factory=list)  # closed or cancelled today (shop day)

    @property
    def active_count(self) -> int:
        return len(self.overdue) + len(self.due_now) + len(self.later)


def worklist(*, shop: Shop, owner: Agent | None, now: dt.datetime | None = None) -> Worklist:
    """One person's worklist (owner None = the whole shop), in one query."""
    now = now or timezone.now()
    start, end = day_bounds(shop_day(now, shop.tz), shop.tz)
    qs = FollowUp.objects.filter(shop=shop).filter(
        Q(state__in=ACTIVE_STATES) | Q(state__in=CLOSED_STATES, closed_at__gte=start, closed_at__lt=end))
    if owner is not None:
        qs = qs.filter(owner=owner)
    wl = Worklist()
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    for fu in qs.select_related(*RELATED):
        if not fu.is_active:
            wl.done_today.append(fu)
        elif fu.due_at is not None and fu.due_at < now:
            wl.overdue.append(fu)
        elif fu.next_contact_at is None or fu.next_contact_at <= now:
            wl.due_now.append(fu)
        else:
            wl.later.append(fu)
    wl.overdue.sort(key=lambda f: (f.due_at, f.pk))
    wl.due_now.sort(key=lambda f: (f.due_at or far, f.created_at, f.pk))
    wl.later.sort(key=lambda f: (f.next_contact_at, f.pk))
    wl.done_today.sort(key=lambda f: (f.closed_at, f.pk), reverse=True)
    return wl


@dataclass
class ReminderFigures:
    agent_id: int
    name: str
    closed: int  # payment reminders closed won or lost (cancelled ones do not count)
    won: int
    lost: int
    recovered_sales: Decimal  # paid amount of the orders whose reminder closed won

    @property
    def success_rate(self) -> float | None:
        return round(self.won / self.closed, 4) if self.closed else None


def payment_reminder_figures(*, shop: Shop, date_from: dt.date, date_to: dt.date,
                             member: Agent | None = None, agent_ids=None) -> list[ReminderFigures]:
    """催付 success rate and recovered sales per agent, over reminders closed in [date_from, date_to]
    (shop days). An agent sees their own row; supervisors and integrations everyone's."""
    return payment_reminder_figures_per_range(shop=shop, ranges=[(date_from, date_to)], member=member,
                                              agent_ids=agent_ids)[0]


_WON = Q(state=FollowUpState.CLOSED_WON)
_REMINDER_SUMS = {"closed": Count("id"), "won": Count("id", filter=_WON),
                  "recovered": Sum("order__paid_amount", filter=_WON)}


def _closed_reminders(*, shop_id: int, owner_id: int | None, agent_ids: list[int] | None) -> QuerySet[FollowUp]:
    qs = FollowUp.objects.filter(shop_id=shop_id, kind=FollowUpKind.PAYMENT_REMINDER,
                                 state__in=(FollowUpState.CLOSED_WON, FollowUpState.CLOSED_LOST))
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    return qs if agent_ids is None else qs.filter(owner_id__in=agent_ids)


def payment_reminder_figures_per_range(*, shop: Shop, ranges, member: Agent | None = None,
                                       agent_ids=None) -> list[list[ReminderFigures]]:
    """payment_reminder_figures of several (from, to) ranges in one query (the KPI report's)."""
    owner_id = member.id if member is not None and not sees_whole_shop(member) else None
    per_range = sums_per_range(
        _closed_reminders, args={"shop_id": shop.id, "owner_id": owner_id, "agent_ids": ids_arg(agent_ids)},
        key=("owner_id", "owner__name"), ranges=ranges, field="closed_at", tz=shop.tz, aggregates=_REMINDER_SUMS)
    return [sorted((ReminderFigures(agent_id=agent_id, name=name, closed=r["closed"], won=r["won"],
                                    lost=r["closed"] - r["won"],
                                    # SQLite sums decimals without their scale; money always shows cents
                                    recovered_sales=(r["recovered"] or ZERO).quantize(CENT))
                    for (agent_id, name), r in rows.items()), key=lambda f: (f.name is None, f.name or "", f.agent_id or 0))
            for rows in per_range]


def agents_of_shop(*, shop: Shop) -> list[Agent]:
    return list(Agent.objects.filter(shop=shop, active=True).order_by("name", "id"))


def agent_get_in_shop(*, shop: Shop, id) -> Agent:
    agent = Agent.objects.filter(shop=shop, pk=id, active=True).first() if isinstance(id, int) else None
    if agent is None:
        raise Http404("agent")
    return agent
