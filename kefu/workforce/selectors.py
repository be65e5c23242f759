"""Reads of shift types, rosters, swaps and online status.

`agents_on_shift` is THE answer to "who is on shift now": routing, follow-ups and SLAs use it.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import day_bounds, shop_day

from .enums import PresenceStatus, SwapStatus
from .models import AgentPresence, AgentStatusChange, RosterEntry, Shift, ShiftSwap


def agents_on_shift(*, shop: Shop, at: dt.datetime, group: str | None = None) -> list[Agent]:
    """Active agents whose rostered shift covers the moment `at` (one query).

    A shift of Monday 22:00–06:00 covers Tuesday 03:00: entries store their UTC interval, so
    midnight and DST changes need no special case here. `group` filters by the agent's group.
    """
    if at.tzinfo is None:
        raise ValueError("at must be an aware datetime")
    qs = Agent.objects.filter(shop=shop, active=True, roster_entries__shop=shop,
                              roster_entries__starts_at__lte=at, roster_entries__ends_at__gt=at)
    if group:
        qs = qs.filter(group=group)
    return list(qs.distinct().order_by("name", "id"))


def shop_today(shop: Shop) -> dt.date:
    return shop_day(timezone.now(), shop.tz)


def week_start_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


# ---------------------------------------------------------------- access

def shift_get(*, shop: Shop, id: int) -> Shift:
    shift = Shift.objects.filter(shop=shop, id=id).first()
    if shift is None:
        raise Http404("shift")
    return shift


def agent_get(*, shop: Shop, id: int) -> Agent:
    agent = Agent.objects.filter(shop=shop, id=id).first()
    if agent is None:
        raise Http404("agent")
    return agent


def entry_get(*, shop: Shop, id: int) -> RosterEntry:
    entry = RosterEntry.objects.filter(shop=shop, id=id).select_related("agent", "shift").first()
    if entry is None:
        raise Http404("roster entry")
    return entry


def swap_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> ShiftSwap:
    """A swap of this shop the person may see: their own, or any for shop-wide roles and tokens."""
    swap = ShiftSwap.objects.filter(shop=shop, id=id).select_related("shift_a", "shift_b").first()
    if swap is None or (member is not None and not sees_whole_shop(member)
                        and member.id not in (swap.agent_a_id, swap.agent_b_id)):
        raise Http404("swap")
    return swap


def shifts_list(*, shop: Shop, active_only: bool = False) -> list[Shift]:
    qs = Shift.objects.filter(shop=shop)
    if active_only:
        qs = qs.filter(active=True)
    return list(qs)


def swaps_list(*, shop: Shop, member: Agent | None, status: str | None = None, limit: int = 200) -> list[ShiftSwap]:
    qs = ShiftSwap.objects.filter(shop=shop).select_related("shift_a", "shift_b")
    if member is not None and not sees_whole_shop(member):
        qs = qs.filter(Q(agent_a=member) | Q(agent_b=member))
    if status:
        qs = qs.filter(status=status)
    return list(qs[:limit])


# ---------------------------------------------------------------- roster week

@dataclass
class RosterRow:
    agent: Agent
    cells: list[list[RosterEntry]] = field(default_factory=list)  # 7 days, Monday first
    dates: list[dt.date] = field(default_factory=list)

    @property
    def day_cells(self) -> list[tuple[dt.date, list[RosterEntry]]]:
        return list(zip(self.dates, self.cells, strict=True))

    @property
    def minutes(self) -> int:
        return sum(e.shift.minutes for day in self.cells for e in day)


def roster_week(*, shop: Shop, member: Agent | None, week_start: dt.date, group: str | None = None) -> dict:
    """The roster of one week (Monday first): one row per agent (an agent sees only their own). Two queries."""
    days = [week_start + dt.timedelta(days=i) for i in range(7)]
    agents = Agent.objects.filter(shop=shop, active=True)
    if member is not None and not sees_whole_shop(member):
        agents = agents.filter(pk=member.pk)
    elif group:
        agents = agents.filter(group=group)
    rows = {a.id: RosterRow(agent=a, cells=[[] for _ in days], dates=days)
            for a in agents.order_by("group", "name", "id")}
    entries = (RosterEntry.objects.filter(shop=shop, agent_id__in=list(rows), date__gte=days[0], date__lte=days[-1])
               .select_related("shift").order_by("date", "starts_at"))
    for e in entries:
        rows[e.agent_id].cells[(e.date - week_start).days].append(e)
    return {"days": days, "rows": list(rows.values())}


# ---------------------------------------------------------------- online status

@dataclass
class OnShiftRow:
    agent: Agent
    entries: list[RosterEntry]
    status: str
    since: dt.datetime | None

    @property
    def online(self) -> bool:
        return self.status == PresenceStatus.ONLINE


def on_shift_now(*, shop: Shop, at: dt.datetime | None = None, group: str | None = None) -> list[OnShiftRow]:
    """Agents on shift at `at` with their shift(s) and online status (two queries): WF-3's live panel."""
    at = at or timezone.now()
    qs = (RosterEntry.objects.filter(shop=shop, starts_at__lte=at, ends_at__gt=at, agent__active=True)
          .select_related("agent", "shift").order_by("agent__name", "agent_id", "starts_at"))
    if group:
        qs = qs.filter(agent__group=group)
    by_agent: dict[int, OnShiftRow] = {}
    for e in qs:
        row = by_agent.get(e.agent_id)
        if row is None:
            row = by_agent[e.agent_id] = OnShiftRow(agent=e.agent, entries=[], status=PresenceStatus.OFFLINE, since=None)
        row.entries.append(e)
    for p in AgentPresence.objects.filter(agent_id__in=list(by_agent)):
        by_agent[p.agent_id].status, by_agent[p.agent_id].since = p.status, p.since
    return list(by_agent.values())


def presence_of(*, agent: Agent) -> AgentPresence | None:
    return AgentPresence.objects.filter(agent=agent).first()


@dataclass
class NotOnline:
    agent: Agent
    entry: RosterEntry
    start: dt.datetime
    end: dt.datetime
    status: str  # away or offline

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


def not_online_intervals(*, shop: Shop, day: dt.date, group: str | None = None, agent: Agent | None = None,
                         now: dt.datetime | None = None, min_seconds: int = 0) -> list[NotOnline]:
    """WF-3: the stretches of the shifts of shop day `day` during which the agent was not online.

    A shift's time that has not come yet (after `now`) is left out. Three queries.
    """
    now = now or timezone.now()
    qs = (RosterEntry.objects.filter(shop=shop, date=day, agent__active=True)
          .select_related("agent", "shift").order_by("starts_at", "agent__name"))
    if group:
        qs = qs.filter(agent__group=group)
    if agent is not None:
        qs = qs.filter(agent=agent)
    entries = list(qs)
    if not entries:
        return []
    lo, hi = min(e.starts_at for e in entries), min(max(e.ends_at for e in entries), now)
    agent_ids = {e.agent_id for e in entries}
    changes: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for c in AgentStatusChange.objects.filter(shop=shop, agent_id__in=agent_ids, at__lt=hi).filter(at__gte=lo).order_by("at", "id"):
        changes[c.agent_id].append((c.at, c.status))
    # The status each agent had when the window opened: its last change before `lo` (one query).
    latest = (AgentStatusChange.objects.filter(agent=OuterRef("pk"), at__lt=lo).order_by("-at", "-id")
              .values("status")[:1])
    before = {pk: st for pk, st in Agent.objects.filter(pk__in=agent_ids).annotate(st=Subquery(latest))
              .values_list("pk", "st") if st}
    out: list[NotOnline] = []
    for e in entries:
        start, end = e.starts_at, min(e.ends_at, now)
        if end <= start:
            continue
        timeline = changes.get(e.agent_id, [])
        status = before.get(e.agent_id, PresenceStatus.OFFLINE)  # never set = offline
        for at, st in timeline:
            if at <= start:
                status = st
        cursor = start
        for at, st in [(at, st) for at, st in timeline if start < at < end] + [(end, None)]:
            if status != PresenceStatus.ONLINE and at > cursor:
                out.append(NotOnline(agent=e.agent, entry=e, start=cursor, end=at, status=status))
            cursor = at
            if st is not None:
                status = st
    return [n for n in out if n.seconds >= min_seconds]


def day_window(shop: Shop, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return day_bounds(day, shop.tz)


SWAP_OPEN = SwapStatus.REQUESTED
