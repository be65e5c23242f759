"""Reads of the core app: the scheduler's rules and when they last fired (AUTO-2), the shop's supervisors."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone

from .enums import Role
from .models import Agent, IntegrationToken, SchedulerRun, Shop
from .scheduler import jobs


@dataclass
class RuleStatus:
    name: str
    label: str
    schedule: str
    last_fired_at: dt.datetime | None
    fired_last_day: int


def rules_status(*, shop: Shop, now: dt.datetime | None = None) -> list[RuleStatus]:
    """Every time-based rule the scheduler runs, with its last firing for this shop (one query)."""
    now = now or timezone.now()
    all_jobs = jobs()
    runs = {r["job"]: r for r in SchedulerRun.objects.filter(shop=shop, job__in=[j.name for j in all_jobs])
            .values("job").annotate(last=Max("fired_at"),
                                    day=Count("id", filter=Q(fired_at__gt=now - dt.timedelta(days=1))))}
    return [RuleStatus(name=j.name, label=str(j.label), schedule=str(j.schedule),
                       last_fired_at=runs.get(j.name, {}).get("last"), fired_last_day=runs.get(j.name, {}).get("day", 0))
            for j in all_jobs]


def supervisors_of(shop: Shop) -> list[Agent]:
    """The shop's active supervisors: who is told when something has no owner or is escalated."""
    return [a for a in Agent.objects.filter(shop=shop, active=True, roles__contains=Role.SUPERVISOR)
            if a.has_role(Role.SUPERVISOR)]


def tokens_of(shop: Shop, *, include_revoked: bool = True) -> list[IntegrationToken]:
    """The shop's API tokens, newest first (the hash is never read out)."""
    qs = IntegrationToken.objects.filter(shop=shop).defer("token_hash").order_by("-created_at", "-id")
    return list(qs if include_revoked else qs.filter(revoked_at__isnull=True))
