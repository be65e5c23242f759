"""The month close (WF-5): a supervisor closes a finished month (attendance and ledger recomputed;
closing again recomputes), a manager locks it. A locked month never changes:
what its sources say later reaches the next open month as adjustments."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .access import label_of, require_manager, require_supervisor
from .enums import MonthState, PeopleError
from .models import MonthClose
from .months import month_end, month_start, prev_month, shop_today
from .rules import Rule, people_settings, rules_list, settings_snapshot

DRAIN_SECONDS = 60.0  # how long a close waits for the facts queue before refusing


def _close_row(shop: Shop, month: dt.date) -> MonthClose:
    MonthClose.objects.get_or_create(shop=shop, month=month)
    return MonthClose.objects.select_for_update().get(shop=shop, month=month)


def month_close(*, shop: Shop, month: dt.date, by: Agent | None, actor=None, now: dt.datetime | None = None) -> MonthClose:
    """Close a finished month: recompute its attendance, ledger and commission statements.
    Closing a closed (not locked) month again recomputes it. The month before must be locked first,
    so clawbacks and adjustments always land in one place."""
    from .attendance import attendance_recompute
    from .pay import commission_recompute

    require_supervisor(by)
    month = month_start(month)
    now = now or timezone.now()
    if month_end(month) >= shop_today(shop, now):
        raise KefuError(f"{month:%Y-%m} is not over yet", field="month", code=PeopleError.STATE)
    _facts_current(shop)
    with transaction.atomic():
        row = _close_row(shop, month)
        if row.state == MonthState.LOCKED:
            raise KefuError(f"{month:%Y-%m} is locked", field="month", code=PeopleError.LOCKED)
        before = MonthClose.objects.filter(shop=shop, month=prev_month(month)).first()
        if before is not None and before.state == MonthState.CLOSED:
            raise KefuError(f"lock {prev_month(month):%Y-%m} first", field="month", code=PeopleError.STATE)
        attendance_recompute(shop=shop, month=month, now=now)
        commission_recompute(shop=shop, month=month, now=now)
        row.state, row.closed_at, row.closed_by = MonthState.CLOSED, now, by
        row.save(update_fields=["state", "closed_at", "closed_by"])
        audit_record(shop=shop, actor=actor, action="month.close", entity=row,
                     after={"month": month.isoformat(), "by": label_of(by, actor)})
    return row


def _facts_current(shop: Shop) -> None:
    """Statements read the credited orders the metrics worker derives from imports (ADR 0004): a close
    right after an import must not miss them. Drain the shop's facts queue first (bounded); if changes
    made before the close are still not in the figures, say so instead of closing on stale figures."""
    from kefu.metrics.models import DirtyBuyer
    from kefu.metrics.queue import facts_drain, facts_lag

    started = timezone.now()
    if not DirtyBuyer.objects.filter(shop=shop, marked_at__lte=started).exists():
        return
    facts_drain(shop=shop, seconds=DRAIN_SECONDS)
    if DirtyBuyer.objects.filter(shop=shop, marked_at__lte=started).exists():
        raise KefuError(f"the figures are {facts_lag(shop=shop):.0f} s behind the latest imports and are still "
                        "being updated; close the month again in a minute", field="month", code=PeopleError.STATE)


def month_lock(*, shop: Shop, month: dt.date, by: Agent | None, actor=None, now: dt.datetime | None = None) -> MonthClose:
    """A manager locks a closed month, once. Its rules and settings are kept with it."""
    require_manager(by)
    month = month_start(month)
    now = now or timezone.now()
    with transaction.atomic():
        row = _close_row(shop, month)
        if row.state == MonthState.LOCKED:
            raise KefuError(f"{month:%Y-%m} is locked already", field="month", code=PeopleError.DONE)
        if row.state != MonthState.CLOSED:
            raise KefuError(f"close {month:%Y-%m} before locking it", field="month", code=PeopleError.STATE)
        row.state, row.locked_at, row.locked_by = MonthState.LOCKED, now, by
        row.rules_snapshot = [Rule.of(r).snapshot() for r in rules_list(shop)]
        row.settings_snapshot = settings_snapshot(people_settings(shop))
        row.save(update_fields=["state", "locked_at", "locked_by", "rules_snapshot", "settings_snapshot"])
        audit_record(shop=shop, actor=actor, action="month.lock", entity=row,
                     after={"month": month.isoformat(), "by": label_of(by, actor)})
    return row

