"""The per agent-day roll-up of settled SLA clocks (SlaAgentDay) behind the KPI report's SLA figures.

Every change of a settled clock marks its shop day dirty (SlaDirty) in the same transaction: the
rebuild and the tick do it explicitly, deletions (also cascades from regrouped conversations) through
a post_delete receiver, a buyer's spam flag through a post_save receiver. The periodic scan recounts
dirty days from the clocks; a report counts still-dirty days raw and reads the roll-up for the rest,
so it is exact at any moment and its cost does not grow with the month's clocks.
"""

import datetime as dt
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import Min, Q, Sum
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from kefu.core.models import Shop
from kefu.core.prepared import prepared_rows
from kefu.core.timeutil import day_bounds, shop_day
from kefu.customers.models import Customer
from kefu.metrics.ranges import ids_arg, range_bounds, sums_per_range

from .enums import ClockState
from .models import SlaAgentDay, SlaClock, SlaDirty, SlaScanState


def mark(shop_id: int, moments: Iterable[dt.datetime | None]) -> None:
    rows = {m for m in moments if m is not None}
    if rows:
        SlaDirty.objects.bulk_create([SlaDirty(shop_id=shop_id, at=m) for m in rows], batch_size=1000)


@receiver(post_delete, sender=SlaClock)
def _clock_deleted(sender, instance: SlaClock, origin=None, **kwargs) -> None:
    if isinstance(origin, Shop) or getattr(origin, "model", None) is Shop:
        return  # the whole shop goes, its roll-up with it
    mark(instance.shop_id, [instance.settled_at])


@receiver(post_save, sender=Customer)
def _spam_changed(sender, instance: Customer, update_fields=None, **kwargs) -> None:
    if update_fields and "is_spam" in update_fields:
        mark(instance.shop_id, SlaClock.objects.filter(customer=instance, settled_at__isnull=False)
             .values_list("settled_at", flat=True))


def _settled(shop: Shop):
    return SlaClock.objects.filter(shop=shop, agent__isnull=False, settled_at__isnull=False).filter(
        Q(customer__isnull=True) | Q(customer__is_spam=False))


def _raw(shop: Shop, days: Iterable[dt.date], agent_ids=None) -> dict[tuple[int, dt.date], dict]:
    """(agent, day) → {"hit", "missed"} counted from the clocks, one query per run of consecutive days."""
    out: dict = {}
    runs: list[list[dt.date]] = []
    for d in sorted(set(days)):
        if runs and d - runs[-1][-1] == dt.timedelta(days=1):
            runs[-1].append(d)
        else:
            runs.append([d])
    for run in runs:
        start, end = day_bounds(run[0], shop.tz)[0], day_bounds(run[-1], shop.tz)[1]
        qs = _settled(shop).filter(settled_at__gte=start, settled_at__lt=end,
                                   state__in=(ClockState.HIT, ClockState.MISSED))
        if agent_ids is not None:
            qs = qs.filter(agent_id__in=list(agent_ids))
        for agent_id, at, state in qs.values_list("agent_id", "settled_at", "state").iterator(chunk_size=5000):
            c = out.setdefault((agent_id, shop_day(at, shop.tz)), {"hit": 0, "missed": 0})
            c["hit" if state == ClockState.HIT else "missed"] += 1
    return out


def refresh(shop: Shop) -> int:
    """Recount the dirty days (every day when the shop's time zone changed). Call inside the scan's
    transaction (it holds the shop's scan row). Returns the number of days recounted."""
    state = SlaScanState.objects.filter(shop=shop).first()
    if state is not None and state.rollup_timezone != shop.timezone:
        SlaAgentDay.objects.filter(shop=shop).delete()
        first = SlaClock.objects.filter(shop=shop).aggregate(m=Min("settled_at"))["m"]
        if first is not None:
            last_day, d, moments = shop_day(dt.datetime.now(dt.UTC), shop.tz) + dt.timedelta(days=2), \
                shop_day(first, shop.tz), []
            while d <= last_day:
                moments.append(day_bounds(d, shop.tz)[0])
                d += dt.timedelta(days=1)
            mark(shop.id, moments)
        state.rollup_timezone = shop.timezone
        state.save(update_fields=["rollup_timezone"])
    dirty = list(SlaDirty.objects.filter(shop=shop).values_list("id", "at"))
    if not dirty:
        return 0
    days = {shop_day(at, shop.tz) for _id, at in dirty}
    counts = _raw(shop, days)
    SlaAgentDay.objects.filter(shop=shop, day__in=days).delete()
    SlaAgentDay.objects.bulk_create([SlaAgentDay(shop=shop, agent_id=a, day=d, hit=c["hit"], missed=c["missed"])
                                     for (a, d), c in counts.items() if c["hit"] or c["missed"]], batch_size=1000)
    ids = [i for i, _at in dirty]
    for i in range(0, len(ids), 1000):
        SlaDirty.objects.filter(id__in=ids[i : i + 1000]).delete()
    return len(days)


_SLA_SUMS = {"sla_hit": Sum("hit"), "sla_missed": Sum("missed")}


def _rolled(*, shop_id: int, dirty: list[dt.date], agent_ids: list[int] | None):
    """The roll-up rows of clean days."""
    rolled = SlaAgentDay.objects.filter(shop_id=shop_id).exclude(day__in=dirty)
    return rolled if agent_ids is None else rolled.filter(agent_id__in=agent_ids)


def _dirty_moments(*, shop_id: int, lo: list[dt.datetime], hi: list[dt.datetime]):
    spans = (Q(at__gte=a, at__lt=b) for a, b in zip(lo, hi, strict=True))
    return SlaDirty.objects.filter(reduce(or_, spans), shop_id=shop_id).values_list("at").distinct()


def sums(*, shop: Shop, ranges, agent_ids=None) -> list[dict[int, dict]]:
    """Per (from, to) range, per agent: clocks settled hit / missed in its shop days — the roll-up for
    clean days, a raw count for days still marked dirty. One query each for the dirty days and the
    roll-up, whatever the number of ranges."""
    if not ranges:
        return []
    tz = shop.tz
    bounds = [range_bounds(r, tz) for r in ranges]
    lo, hi = [a for a, _b in bounds], [b for _a, b in bounds]
    dirty = {shop_day(at, tz) for (at,) in prepared_rows(_dirty_moments, shop_id=shop.id, lo=lo, hi=hi)}
    per_range = sums_per_range(_rolled, args={"shop_id": shop.id, "dirty": sorted(dirty),
                                              "agent_ids": ids_arg(agent_ids)},
                               key="agent_id", ranges=ranges, field="day", aggregates=_SLA_SUMS)
    raw = _raw(shop, dirty, agent_ids)
    out = []
    for (date_from, date_to), rows in zip(ranges, per_range, strict=True):
        for (agent_id, day), c in raw.items():
            if date_from <= day <= date_to:
                s = rows.setdefault(agent_id, {"sla_hit": 0, "sla_missed": 0})
                s["sla_hit"] += c["hit"]
                s["sla_missed"] += c["missed"]
        out.append({a: s for a, s in rows.items() if s["sla_hit"] or s["sla_missed"]})
    return out


def differences(*, shop: Shop) -> list[dict]:
    """Clean days whose stored roll-up differs from a recount (the audit's view; [] when right)."""
    dirty = {shop_day(at, shop.tz) for at in SlaDirty.objects.filter(shop=shop).values_list("at", flat=True)}
    want: dict = {}
    for agent_id, at, state in _settled(shop).values_list("agent_id", "settled_at", "state"):
        if state in (ClockState.HIT, ClockState.MISSED):
            s = want.setdefault((agent_id, shop_day(at, shop.tz)), {"hit": 0, "missed": 0})
            s["hit" if state == ClockState.HIT else "missed"] += 1
    have = {(r.agent_id, r.day): {"hit": r.hit, "missed": r.missed} for r in SlaAgentDay.objects.filter(shop=shop)}
    return [{"agent_id": k[0], "day": k[1].isoformat(), "expected": want.get(k), "stored": have.get(k)}
            for k in sorted(set(want) | set(have), key=lambda k: (k[1], k[0]))
            if k[1] not in dirty and want.get(k) != have.get(k)]
