"""Shift types, rosters, swaps and online status (SPEC §11 WF-1, WF-3).

A roster entry stores the UTC interval its shift covers ([starts_at, ends_at)), computed from the
shift's wall-clock hours on the entry's shop day when the entry is written. "Who is on shift at T"
is then one indexed range query, correct across midnight and DST changes; the services recompute
the interval when a shift's hours change (and `roster_times_rebuild` after a time-zone change).
"""

import datetime as dt
import zoneinfo

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop

from .enums import PresenceSource, PresenceStatus, ShiftGroup, SwapStatus

DAY_MINUTES = 24 * 60


def minute_label(minute: int) -> str:
    """600 → "10:00"; 1440 → "24:00"."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def shift_bounds(day: dt.date, start_minute: int, end_minute: int, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of a shift worked on shop day `day`; an end at or before the start is the next day."""

    def local(minute: int) -> dt.datetime:
        d = day + dt.timedelta(days=minute // DAY_MINUTES)
        m = minute % DAY_MINUTES
        return dt.datetime.combine(d, dt.time(m // 60, m % 60), tzinfo=tz)

    end = end_minute if end_minute > start_minute else end_minute + DAY_MINUTES
    return local(start_minute).astimezone(dt.UTC), local(end).astimezone(dt.UTC)


class Shift(models.Model):
    """A shift type of a shop: 白班 08:00–17:00, 晚班 15:00–24:00, 夜班 22:00–06:00 …"""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="shifts")
    name = models.CharField(_("班次"), max_length=40)
    # Minutes from shop midnight; end 1440 = 24:00; end ≤ start = ends the next day.
    start_minute = models.PositiveSmallIntegerField(_("开始"))
    end_minute = models.PositiveSmallIntegerField(_("结束"))
    group = models.CharField(_("组"), max_length=20, choices=ShiftGroup.choices, default=ShiftGroup.ANY)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_minute", "name"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="shift_unique_name_per_shop")]

    def __str__(self) -> str:
        return f"{self.name} {self.hours}"

    @property
    def start_label(self) -> str:
        return minute_label(self.start_minute)

    @property
    def end_label(self) -> str:
        return minute_label(self.end_minute)

    @property
    def hours(self) -> str:
        return f"{self.start_label}–{self.end_label}"

    @property
    def crosses_midnight(self) -> bool:
        return self.end_minute <= self.start_minute

    @property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute if self.end_minute > self.start_minute else (
            self.end_minute + DAY_MINUTES - self.start_minute)

    def bounds(self, day: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        return shift_bounds(day, self.start_minute, self.end_minute, tz)


class ShiftSwap(models.Model):
    """Two agents trade their shifts of one day (or one covers the other's shift), approved by a supervisor."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="shift_swaps")
    date = models.DateField(_("日期"))
    agent_a = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    agent_b = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    # Both names as they were when the swap was recorded (002: the record names both people).
    agent_a_name = models.CharField(_("申请人"), max_length=80)
    agent_b_name = models.CharField(_("对方"), max_length=80)
    # A's shift that B takes; B's shift that A takes (null: B was resting, so it is a cover).
    shift_a = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="+")
    shift_b = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=SwapStatus.choices, default=SwapStatus.REQUESTED)
    requested_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    requested_by_label = models.CharField(max_length=120, blank=True)
    decided_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_by_label = models.CharField(max_length=120, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["shop", "status", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.agent_a_name} ⇄ {self.agent_b_name}"


class RosterEntry(models.Model):
    """An agent works a shift on a shop day."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="roster_entries")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="roster_entries")
    date = models.DateField(_("日期"))
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="entries")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Set when the entry came from an approved swap.
    swap = models.ForeignKey(ShiftSwap, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "date", "shift"], name="rosterentry_unique_shift_per_day"),
        ]
        indexes = [
            models.Index(fields=["shop", "starts_at", "ends_at"]),
            models.Index(fields=["shop", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.agent_id} {self.shift_id}"


class AgentPresence(models.Model):
    """An agent's current online status (one row per agent; history in AgentStatusChange)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="presence")
    status = models.CharField(_("状态"), max_length=10, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE)
    since = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.agent_id} {self.status}"


class AgentStatusChange(models.Model):
    """Append-only history of status changes: what "on shift but not online" is computed from."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=10, choices=PresenceStatus.choices)
    previous = models.CharField(max_length=10, choices=PresenceStatus.choices, blank=True)
    at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=PresenceSource.choices, default=PresenceSource.WEB)
    actor_label = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["shop", "agent", "at"])]

    def __str__(self) -> str:
        return f"{self.at} {self.agent_id} {self.previous}→{self.status}"
