"""Writes of shift types, rosters, swaps and online status. Every write is audited.

`by` is the person acting (None: an integration token or the system). Roster and shift-type
writes and swap decisions need a shop-wide role (supervisor, manager, admin).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError, PermissionDenied, ValidationFailed
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import shop_day

from .enums import (
    SWAP_TRANSITIONS,
    PresenceSource,
    PresenceStatus,
    ShiftGroup,
    SwapStatus,
    WorkforceError,
)
from .models import (
    DAY_MINUTES,
    AgentPresence,
    AgentStatusChange,
    RosterEntry,
    Shift,
    ShiftSwap,
    shift_bounds,
)

ONE_DAY = dt.timedelta(days=1)


# ---------------------------------------------------------------- helpers

def _require_supervisor(by: Agent | None) -> None:
    if by is not None and not sees_whole_shop(by):
        raise PermissionDenied("supervisors, managers and admins only", code=WorkforceError.FORBIDDEN)


def parse_minute(value, *, field: str, end: bool = False) -> int:
    """ "08:00" → 480; "24:00" only as an end. Raises KefuError naming the field."""
    if isinstance(value, dt.time):
        return value.hour * 60 + value.minute
    text = str(value or "").strip()
    try:
        hh, mm = text.split(":")[:2] if ":" in text else ("", "")
        h, m = int(hh), int(mm)
    except ValueError:
        raise KefuError(f"{field} must be a time like 08:00, got {text!r}", field=field) from None
    if end and (h, m) == (24, 0):
        return DAY_MINUTES
    if not (0 <= h < 24 and 0 <= m < 60):
        raise KefuError(f"{field} must be between 00:00 and {'24:00' if end else '23:59'}, got {text!r}", field=field)
    return h * 60 + m


def _check_hours(start: int, end: int) -> None:
    if start % DAY_MINUTES == end % DAY_MINUTES:
        raise KefuError("a shift cannot start and end at the same time", field="end")


def _shift_snapshot(shift: Shift) -> dict:
    return {"name": shift.name, "start": shift.start_label, "end": shift.end_label, "group": shift.group,
            "active": shift.active}


def _find_overlap(items: Iterable[tuple[dt.datetime, dt.datetime, str]]) -> tuple[str, str] | None:
    """The first two labels whose [start, end) intervals overlap; touching ends are fine."""
    latest: tuple[dt.datetime, dt.datetime, str] | None = None
    for item in sorted(items):
        if latest is not None and item[0] < latest[1]:
            return latest[2], item[2]
        if latest is None or item[1] > latest[1]:
            latest = item
    return None


def _entry_label(date: dt.date, shift: Shift) -> str:
    return f"{date} {shift.name} {shift.hours}"


def _verify_no_overlap(*, shop: Shop, agents: Iterable[Agent], date_from: dt.date, date_to: dt.date,
                       field: str = "shift") -> None:
    """After writing: no agent works two overlapping shifts (neighbouring days included)."""
    by_id = {a.id: a for a in agents}
    rows = (RosterEntry.objects.filter(shop=shop, agent_id__in=by_id, date__gte=date_from - ONE_DAY,
                                       date__lte=date_to + ONE_DAY)
            .select_related("shift").order_by())
    per_agent: dict[int, list] = defaultdict(list)
    for e in rows:
        per_agent[e.agent_id].append((e.starts_at, e.ends_at, _entry_label(e.date, e.shift)))
    for agent_id, items in per_agent.items():
        clash = _find_overlap(items)
        if clash:
            raise KefuError(f"{by_id[agent_id].name}: {clash[0]} overlaps {clash[1]}", field=field,
                            code=WorkforceError.OVERLAP)


def _check_assignable(*, shop: Shop, agent: Agent, shift: Shift, field: str = "shift") -> None:
    if agent.shop_id != shop.id or not agent.active:
        raise KefuError("no such agent in this shop", field="agent_id")
    if shift.shop_id != shop.id:
        raise KefuError("no such shift in this shop", field=field)
    if not shift.active:
        raise KefuError(f"shift {shift.name} is archived", field=field)
    if shift.group != ShiftGroup.ANY and agent.group and shift.group != agent.group:
        raise KefuError(f"shift {shift.name} is for the {shift.group} group, {agent.name} is in {agent.group}",
                        field=field, code=WorkforceError.GROUP)


def _lock_agents(agent_ids: Iterable[int]) -> None:
    list(Agent.objects.select_for_update().filter(pk__in=sorted(set(agent_ids))).values_list("pk", flat=True))


def _new_entry(*, shop: Shop, agent: Agent, date: dt.date, shift: Shift, swap: ShiftSwap | None = None) -> RosterEntry:
    starts_at, ends_at = shift.bounds(date, shop.tz)
    return RosterEntry(shop=shop, agent=agent, date=date, shift=shift, starts_at=starts_at, ends_at=ends_at, swap=swap)


# ---------------------------------------------------------------- shift types

def shift_create(*, shop: Shop, name: str, start, end, group: str = ShiftGroup.ANY, by: Agent | None = None,
                 actor=None) -> Shift:
    _require_supervisor(by)
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise KefuError("name must be 1–40 characters", field="name")
    if group not in ShiftGroup.values:
        raise KefuError(f"unknown group {group!r} (any, presales, aftersales)", field="group")
    s, e = parse_minute(start, field="start"), parse_minute(end, field="end", end=True)
    _check_hours(s, e)
    with transaction.atomic():
        if Shift.objects.filter(shop=shop, name=name).exists():
            raise KefuError(f"a shift named {name!r} already exists", field="name", code=WorkforceError.EXISTS)
        shift = Shift.objects.create(shop=shop, name=name, start_minute=s, end_minute=e, group=group)
        audit_record(shop=shop, actor=actor, action="shift.create", entity=shift, after=_shift_snapshot(shift))
    return shift


def shift_update(*, shop: Shop, shift: Shift, by: Agent | None = None, actor=None, **changes) -> Shift:
    """Change name, start, end, group or active. New hours apply to roster entries from today on."""
    _require_supervisor(by)
    unknown = set(changes) - {"name", "start", "end", "group", "active"}
    if unknown:
        raise KefuError(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    with transaction.atomic():
        shift = Shift.objects.select_for_update().get(pk=shift.pk, shop=shop)
        before = _shift_snapshot(shift)
        fields = []
        if "name" in changes:
            name = (changes["name"] or "").strip()
            if not name or len(name) > 40:
                raise KefuError("name must be 1–40 characters", field="name")
            if Shift.objects.filter(shop=shop, name=name).exclude(pk=shift.pk).exists():
                raise KefuError(f"a shift named {name!r} already exists", field="name", code=WorkforceError.EXISTS)
            shift.name = name
            fields.append("name")
        if "start" in changes:
            shift.start_minute = parse_minute(changes["start"], field="start")
            fields.append("start_minute")
        if "end" in changes:
            shift.end_minute = parse_minute(changes["end"], field="end", end=True)
            fields.append("end_minute")
        _check_hours(shift.start_minute, shift.end_minute)
        if "group" in changes:
            if changes["group"] not in ShiftGroup.values:
                raise KefuError(f"unknown group {changes['group']!r}", field="group")
            shift.group = changes["group"]
            fields.append("group")
        if "active" in changes:
            shift.active = bool(changes["active"])
            fields.append("active")
        if not fields:
            return shift
        shift.save(update_fields=fields)
        if {"start_minute", "end_minute"} & set(fields):
            _retime_entries(shop=shop, shifts=[shift], date_from=shop_day(timezone.now(), shop.tz), field="start")
        audit_record(shop=shop, actor=actor, action="shift.update", entity=shift, before=before,
                     after=_shift_snapshot(shift))
    return shift


def _retime_entries(*, shop: Shop, shifts: list[Shift] | None, date_from: dt.date, field: str) -> int:
    qs = RosterEntry.objects.filter(shop=shop, date__gte=date_from).select_related("shift")
    if shifts is not None:
        qs = qs.filter(shift__in=shifts)
    entries = list(qs)
    if not entries:
        return 0
    _lock_agents(e.agent_id for e in entries)
    tz = shop.tz
    for e in entries:
        e.starts_at, e.ends_at = shift_bounds(e.date, e.shift.start_minute, e.shift.end_minute, tz)
    RosterEntry.objects.bulk_update(entries, ["starts_at", "ends_at"], batch_size=500)
    agents = Agent.objects.filter(pk__in={e.agent_id for e in entries})
    _verify_no_overlap(shop=shop, agents=agents, date_from=min(e.date for e in entries),
                       date_to=max(e.date for e in entries), field=field)
    return len(entries)


def roster_times_rebuild(*, shop: Shop, date_from: dt.date, actor=None) -> int:
    """Recompute the UTC intervals of entries from `date_from` on (after the shop's time zone changed)."""
    with transaction.atomic():
        n = _retime_entries(shop=shop, shifts=None, date_from=date_from, field="timezone")
        audit_record(shop=shop, actor=actor, action="roster.retime", entity=shop,
                     after={"date_from": date_from.isoformat(), "entries": n})
    return n


# ---------------------------------------------------------------- rosters

def _day_names(entries) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for e in sorted(entries, key=lambda e: (e.date, e.starts_at)):
        out[e.date.isoformat()].append(e.shift.name)
    return dict(out)


def roster_assign(*, shop: Shop, agent: Agent, date: dt.date, shift: Shift, by: Agent | None = None,
                  actor=None) -> RosterEntry:
    """Add one shift to an agent's day (a second shift must not overlap the first)."""
    _require_supervisor(by)
    _check_assignable(shop=shop, agent=agent, shift=shift, field="shift_id")
    with transaction.atomic():
        _lock_agents([agent.id])
        if RosterEntry.objects.filter(agent=agent, date=date, shift=shift).exists():
            raise KefuError(f"{agent.name} already works {shift.name} on {date}", field="shift_id",
                            code=WorkforceError.EXISTS)
        entry = _new_entry(shop=shop, agent=agent, date=date, shift=shift)
        entry.save()
        _verify_no_overlap(shop=shop, agents=[agent], date_from=date, date_to=date, field="shift_id")
        audit_record(shop=shop, actor=actor, action="roster.assign", entity=entry,
                     after={"agent": agent.name, "date": date.isoformat(), "shift": shift.name})
    return entry


def roster_unassign(*, shop: Shop, entry: RosterEntry, by: Agent | None = None, actor=None) -> None:
    _require_supervisor(by)
    with transaction.atomic():
        entry = RosterEntry.objects.select_for_update(of=("self",)).select_related("agent", "shift").get(pk=entry.pk, shop=shop)
        audit_record(shop=shop, actor=actor, action="roster.unassign", entity=entry,
                     before={"agent": entry.agent.name, "date": entry.date.isoformat(), "shift": entry.shift.name})
        entry.delete()


def roster_day_set(*, shop: Shop, agent: Agent, date: dt.date, shifts: list[Shift], by: Agent | None = None,
                   actor=None) -> list[RosterEntry]:
    """Replace an agent's shifts of one day ([] = rest day)."""
    _require_supervisor(by)
    for s in shifts:
        _check_assignable(shop=shop, agent=agent, shift=s, field="shift_id")
    with transaction.atomic():
        _lock_agents([agent.id])
        old = list(RosterEntry.objects.filter(shop=shop, agent=agent, date=date).select_related("shift"))
        RosterEntry.objects.filter(pk__in=[e.pk for e in old]).delete()
        new = [_new_entry(shop=shop, agent=agent, date=date, shift=s) for s in {s.pk: s for s in shifts}.values()]
        RosterEntry.objects.bulk_create(new)
        _verify_no_overlap(shop=shop, agents=[agent], date_from=date, date_to=date, field="shift_id")
        before, after = [e.shift.name for e in old], [e.shift.name for e in new]
        if before != after:
            audit_record(shop=shop, actor=actor, action="roster.day_set", entity=agent,
                         before={date.isoformat(): before}, after={date.isoformat(): after})
    return new


def roster_pattern_apply(*, shop: Shop, date_from: dt.date, date_to: dt.date,
                         pattern: dict[Agent, dict[int, Shift | None]], by: Agent | None = None,
                         actor=None) -> int:
    """Set the roster of `pattern`'s agents for every day of [date_from, date_to] from a weekly pattern.

    pattern: agent → {weekday (Monday = 0): shift, or None / missing = rest}. Every entry these
    agents had in the range is replaced; other agents are untouched. Returns the entries written.
    """
    _require_supervisor(by)
    if date_to < date_from:
        raise KefuError("date_to is before date_from", field="date_to")
    if (date_to - date_from).days > 62:
        raise KefuError("at most 63 days at once", field="date_to")
    errors = []
    for agent, week in pattern.items():
        for weekday, shift in week.items():
            if weekday not in range(7):
                errors.append({"field": f"pattern.{agent.id}", "message": f"weekday {weekday} (0 = Monday … 6 = Sunday)"})
            elif shift is not None:
                try:
                    _check_assignable(shop=shop, agent=agent, shift=shift)
                except KefuError as exc:
                    errors.append({"field": f"pattern.{agent.id}.{weekday}", "message": exc.message})
    if errors:
        raise ValidationFailed(errors)
    agents = list(pattern)
    with transaction.atomic():
        _lock_agents(a.id for a in agents)
        old = list(RosterEntry.objects.filter(shop=shop, agent__in=agents, date__gte=date_from, date__lte=date_to)
                   .select_related("shift"))
        RosterEntry.objects.filter(pk__in=[e.pk for e in old]).delete()
        new = []
        day = date_from
        while day <= date_to:
            for agent, week in pattern.items():
                shift = week.get(day.weekday())
                if shift is not None:
                    new.append(_new_entry(shop=shop, agent=agent, date=day, shift=shift))
            day += ONE_DAY
        RosterEntry.objects.bulk_create(new, batch_size=500)
        _verify_no_overlap(shop=shop, agents=agents, date_from=date_from, date_to=date_to, field="pattern")
        old_by, new_by = defaultdict(list), defaultdict(list)
        for e in old:
            old_by[e.agent_id].append(e)
        for e in new:
            new_by[e.agent_id].append(e)
        for agent in agents:
            audit_record(shop=shop, actor=actor, action="roster.pattern", entity=agent,
                         before=_day_names(old_by[agent.id]),
                         after={"date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
                                "days": _day_names(new_by[agent.id])})
    return len(new)


def roster_week_set(*, shop: Shop, week_start: dt.date, pattern: dict[int, list[int | None]], group: str | None = None,
                    by: Agent | None = None, actor=None) -> int:
    """Set one week (Monday … Sunday) for agents of a group: agent id → 7 shift ids (None = rest)."""
    if week_start.weekday() != 0:
        raise KefuError(f"{week_start} is not a Monday", field="week")
    if not pattern:
        raise KefuError("the pattern names no agent", field="pattern")
    agents = {a.id: a for a in Agent.objects.filter(shop=shop, active=True, pk__in=list(pattern))}
    shift_ids = {sid for days in pattern.values() for sid in days if sid is not None}
    shifts = {s.id: s for s in Shift.objects.filter(shop=shop, pk__in=shift_ids)}
    errors = []
    resolved: dict[Agent, dict[int, Shift | None]] = {}
    for agent_id, days in pattern.items():
        agent = agents.get(agent_id)
        if agent is None:
            errors.append({"field": f"pattern.{agent_id}", "message": "no such agent in this shop"})
            continue
        if group and agent.group != group:
            errors.append({"field": f"pattern.{agent_id}", "message": f"{agent.name} is not in the {group} group"})
            continue
        if len(days) != 7:
            errors.append({"field": f"pattern.{agent_id}", "message": "needs 7 days, Monday first (null = rest)"})
            continue
        week: dict[int, Shift | None] = {}
        for i, sid in enumerate(days):
            if sid is not None and sid not in shifts:
                errors.append({"field": f"pattern.{agent_id}.{i}", "message": f"no such shift {sid} in this shop"})
            week[i] = shifts.get(sid) if sid is not None else None
        resolved[agent] = week
    if errors:
        raise ValidationFailed(errors)
    return roster_pattern_apply(shop=shop, date_from=week_start, date_to=week_start + dt.timedelta(days=6),
                                pattern=resolved, by=by, actor=actor)


def roster_week_copy(*, shop: Shop, week_start: dt.date, group: str | None = None, by: Agent | None = None,
                     actor=None) -> int:
    """Copy the previous week's roster of a group (or everyone) into the week starting `week_start`."""
    if week_start.weekday() != 0:
        raise KefuError(f"{week_start} is not a Monday", field="week")
    prev = week_start - dt.timedelta(days=7)
    agents = Agent.objects.filter(shop=shop, active=True)
    if group:
        agents = agents.filter(group=group)
    pattern: dict[Agent, dict[int, Shift | None]] = {a: {} for a in agents}
    by_id = {a.id: a for a in pattern}
    entries = (RosterEntry.objects.filter(shop=shop, agent_id__in=by_id, date__gte=prev,
                                          date__lt=week_start, shift__active=True)
               .select_related("shift").order_by("date", "starts_at"))
    for e in entries:
        pattern[by_id[e.agent_id]].setdefault(e.date.weekday(), e.shift)  # one shift per day in a pattern
    pattern = {a: w for a, w in pattern.items() if w}
    if not pattern:
        raise KefuError(f"the week of {prev} has no roster to copy", field="week")
    return roster_pattern_apply(shop=shop, date_from=week_start, date_to=week_start + dt.timedelta(days=6),
                                pattern=pattern, by=by, actor=actor)


# ---------------------------------------------------------------- swaps

def _swap_snapshot(swap: ShiftSwap) -> dict:
    return {"date": swap.date.isoformat(), "agent_a": swap.agent_a_name, "agent_b": swap.agent_b_name,
            "shift_a": swap.shift_a.name, "shift_b": swap.shift_b.name if swap.shift_b else None,
            "status": swap.status}


def _swap_result_overlap(*, shop: Shop, agent: Agent, date: dt.date, remove: Shift | None, add: Shift) -> str | None:
    """Would `agent` work two overlapping shifts once `remove` is dropped and `add` taken on `date`?"""
    items = [
        (e.starts_at, e.ends_at, _entry_label(e.date, e.shift))
        for e in RosterEntry.objects.filter(shop=shop, agent=agent, date__gte=date - ONE_DAY,
                                            date__lte=date + ONE_DAY).select_related("shift")
        if not (remove is not None and e.date == date and e.shift_id == remove.id)
    ]
    items.append((*add.bounds(date, shop.tz), _entry_label(date, add)))
    clash = _find_overlap(items)
    return f"{agent.name}: {clash[0]} overlaps {clash[1]}" if clash else None


def _swap_check(*, shop: Shop, date: dt.date, agent_a: Agent, agent_b: Agent, shift_a: Shift,
                shift_b: Shift | None) -> None:
    for field, agent in (("agent_a_id", agent_a), ("agent_b_id", agent_b)):
        if agent.shop_id != shop.id or not agent.active:
            raise KefuError("no such agent in this shop", field=field)
    if agent_a.id == agent_b.id:
        raise KefuError("a swap needs two different agents", field="agent_b_id")
    if not RosterEntry.objects.filter(shop=shop, agent=agent_a, date=date, shift=shift_a).exists():
        raise KefuError(f"{agent_a.name} does not work {shift_a.name} on {date}", field="shift_a_id",
                        code=WorkforceError.STATE)
    if shift_b is not None and not RosterEntry.objects.filter(shop=shop, agent=agent_b, date=date, shift=shift_b).exists():
        raise KefuError(f"{agent_b.name} does not work {shift_b.name} on {date}", field="shift_b_id",
                        code=WorkforceError.STATE)
    _check_assignable(shop=shop, agent=agent_b, shift=shift_a, field="shift_a_id")
    if shift_b is not None:
        _check_assignable(shop=shop, agent=agent_a, shift=shift_b, field="shift_b_id")
    problem = _swap_result_overlap(shop=shop, agent=agent_b, date=date, remove=shift_b, add=shift_a)
    if problem is None and shift_b is not None:
        problem = _swap_result_overlap(shop=shop, agent=agent_a, date=date, remove=shift_a, add=shift_b)
    if problem:
        raise KefuError(problem, field="shift_b_id" if shift_b is not None else "agent_b_id",
                        code=WorkforceError.OVERLAP)


def swap_request(*, shop: Shop, date: dt.date, agent_a: Agent, agent_b: Agent, shift_a: Shift,
                 shift_b: Shift | None = None, reason: str = "", by: Agent | None = None, actor=None) -> ShiftSwap:
    """Agent A gives shift_a of `date` to agent B (and takes B's shift_b, if any). An agent asks only for themselves."""
    if by is not None and not sees_whole_shop(by) and by.id not in (agent_a.id, agent_b.id):
        raise PermissionDenied("an agent may only ask for a swap of their own shift", code=WorkforceError.FORBIDDEN)
    if len(reason or "") > 200:
        raise KefuError("reason is at most 200 characters", field="reason")
    with transaction.atomic():
        _swap_check(shop=shop, date=date, agent_a=agent_a, agent_b=agent_b, shift_a=shift_a, shift_b=shift_b)
        swap = ShiftSwap.objects.create(
            shop=shop, date=date, agent_a=agent_a, agent_b=agent_b, agent_a_name=agent_a.name,
            agent_b_name=agent_b.name, shift_a=shift_a, shift_b=shift_b, reason=(reason or "").strip(),
            requested_by=by, requested_by_label=by.name if by else str(actor or "integration"),
        )
        audit_record(shop=shop, actor=actor, action="swap.request", entity=swap, after=_swap_snapshot(swap))
    return swap


def swap_transition(*, shop: Shop, swap: ShiftSwap, to: str, by: Agent | None = None, note: str = "",
                    actor=None) -> ShiftSwap:
    """The swap state machine. Approving applies the swap to the roster, exactly once."""
    if to not in SwapStatus.values:
        raise KefuError(f"unknown status {to!r}", field="status")
    if len(note or "") > 200:
        raise KefuError("note is at most 200 characters", field="note")
    with transaction.atomic():
        swap = ShiftSwap.objects.select_for_update(of=("self",)).select_related("shift_a", "shift_b").get(pk=swap.pk, shop=shop)
        if to not in SWAP_TRANSITIONS[swap.status]:
            raise KefuError(f"a swap that is {swap.status} cannot become {to}", field="status",
                            code=WorkforceError.STATE)
        if to == SwapStatus.CANCELLED:
            if by is not None and not sees_whole_shop(by) and by.id not in (swap.agent_a_id, swap.agent_b_id):
                raise PermissionDenied("only the agents of the swap or a supervisor may withdraw it",
                                       code=WorkforceError.FORBIDDEN)
        else:
            _require_supervisor(by)
        before = _swap_snapshot(swap)
        if to == SwapStatus.APPROVED:
            _swap_apply(shop=shop, swap=swap)
        swap.status = to
        swap.decided_by = by
        swap.decided_by_label = by.name if by else str(actor or "integration")
        swap.decided_at = timezone.now()
        swap.decision_note = (note or "").strip()
        swap.save(update_fields=["status", "decided_by", "decided_by_label", "decided_at", "decision_note"])
        audit_record(shop=shop, actor=actor, action=f"swap.{to}", entity=swap, before=before,
                     after={**_swap_snapshot(swap), "note": swap.decision_note})
    return swap


def _swap_apply(*, shop: Shop, swap: ShiftSwap) -> None:
    agent_a = Agent.objects.get(pk=swap.agent_a_id)
    agent_b = Agent.objects.get(pk=swap.agent_b_id)
    _lock_agents([agent_a.id, agent_b.id])
    # The roster may have changed since the request: check again, under the locks.
    _swap_check(shop=shop, date=swap.date, agent_a=agent_a, agent_b=agent_b, shift_a=swap.shift_a,
                shift_b=swap.shift_b)
    RosterEntry.objects.filter(shop=shop, agent=agent_a, date=swap.date, shift=swap.shift_a).delete()
    new = [_new_entry(shop=shop, agent=agent_b, date=swap.date, shift=swap.shift_a, swap=swap)]
    if swap.shift_b is not None:
        RosterEntry.objects.filter(shop=shop, agent=agent_b, date=swap.date, shift=swap.shift_b).delete()
        new.append(_new_entry(shop=shop, agent=agent_a, date=swap.date, shift=swap.shift_b, swap=swap))
    try:
        with transaction.atomic():
            RosterEntry.objects.bulk_create(new)
    except IntegrityError as exc:
        raise KefuError("the swap would give an agent the same shift twice", field="status",
                        code=WorkforceError.OVERLAP) from exc
    _verify_no_overlap(shop=shop, agents=[agent_a, agent_b], date_from=swap.date, date_to=swap.date, field="status")


# ---------------------------------------------------------------- online status

def presence_set(*, shop: Shop, agent: Agent, status: str, source: str = PresenceSource.WEB, by: Agent | None = None,
                 actor=None, at: dt.datetime | None = None) -> AgentPresence:
    """Set an agent's online/away/offline status; a change writes a history row. Agents set their own."""
    if status not in PresenceStatus.values:
        raise KefuError(f"status must be one of {', '.join(PresenceStatus.values)}", field="status")
    if source not in PresenceSource.values:
        raise KefuError(f"unknown source {source!r}", field="source")
    if agent.shop_id != shop.id:
        raise KefuError("no such agent in this shop", field="agent_id")
    if by is not None and by.id != agent.id and not sees_whole_shop(by):
        raise PermissionDenied("an agent may only set their own status", code=WorkforceError.FORBIDDEN)
    at = at or timezone.now()
    with transaction.atomic():
        presence = AgentPresence.objects.select_for_update().filter(agent=agent).first()
        if presence is None:
            try:
                with transaction.atomic():
                    presence = AgentPresence.objects.create(shop=shop, agent=agent, status=PresenceStatus.OFFLINE,
                                                            since=at)
            except IntegrityError:
                presence = AgentPresence.objects.select_for_update().get(agent=agent)
            previous = ""
        else:
            previous = presence.status
            if previous == status:
                return presence
        presence.status = status
        presence.since = at
        presence.save(update_fields=["status", "since"])
        label = by.name if by else (str(actor) if actor is not None else source)
        AgentStatusChange.objects.create(shop=shop, agent=agent, status=status, previous=previous, at=at,
                                         source=source, actor_label=label)
        from kefu.livechat.services import presence_published

        presence_published(shop=shop, agent=agent, status=status, now=at)  # the supervisor's live view
    return presence
