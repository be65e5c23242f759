"""Writes of the penalty ledger (WF-4): derived deductions kept in step with their sources, manual
deductions and reversals with a reason, appeals decided once, and the warnings of the thresholds.

How a month's derived rows follow their sources (`ledger_recompute`):
- open month: for each source key, the active automatic row must carry what the sources call for;
  a row whose source no longer calls for it is voided (kept, marked 来源已更正), a new one written;
- locked month: nothing of it changes; the difference between what its sources call for now and
  what it counted (plus earlier adjustments) is written into the first open month after it.
A key that a supervisor reversed or an appeal struck is waived: its source no longer counts.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from . import ledger_calc as L
from .access import label_of, require_supervisor_of, supervises
from .enums import (
    AppealState,
    DeductionKind,
    DeductionStatus,
    PeopleError,
    SourceType,
    WarningLevel,
)
from .models import (
    AttendanceDay,
    LedgerMonth,
    MonthClose,
    PenaltyAppeal,
    PenaltyDeduction,
    PenaltyWarning,
)
from .months import first_open_month_after, month_end, month_start, prev_month
from .rules import Rule, people_settings, rules_for_month

ZERO = Decimal("0")
WAIVED = (DeductionStatus.REVERSED, DeductionStatus.GRANTED)


def _complaints(shop: Shop, month: dt.date, agent_ids: set[int]) -> dict[int, list[L.ComplaintFact]]:
    from kefu.complaints.enums import Verdict
    from kefu.complaints.models import AgentComplaint

    out: dict[int, list[L.ComplaintFact]] = defaultdict(list)
    for agent_id, cid, day, cat in AgentComplaint.objects.filter(
            shop=shop, agent_id__in=agent_ids, day__gte=month, day__lte=month_end(month),
            verdict=Verdict.UPHELD).values_list("agent_id", "complaint_id", "day", "category"):
        out[agent_id].append(L.ComplaintFact(id=cid, day=day, category=cat))
    return out


def _knowledge(shop: Shop, month: dt.date, agent_ids: set[int]) -> dict[int, list[L.KnowledgeFact]]:
    """Complaints traced to wrong product knowledge (kefu.quality), unless the complaint against the
    agent was judged unfounded (its verdict rejected)."""
    from kefu.complaints.enums import Verdict
    from kefu.complaints.models import AgentComplaint
    from kefu.quality.selectors import knowledge_faults

    faults = [f for f in knowledge_faults(shop=shop, date_from=month, date_to=month_end(month))
              if f.agent_id in agent_ids]
    rejected = set(AgentComplaint.objects.filter(complaint_id__in=[f.complaint_id for f in faults],
                                                 verdict=Verdict.REJECTED).values_list("complaint_id", flat=True))
    out: dict[int, list[L.KnowledgeFact]] = defaultdict(list)
    for f in faults:
        if f.complaint_id not in rejected:
            out[f.agent_id].append(L.KnowledgeFact(id=f.complaint_id, day=f.day, fault_id=f.pk,
                                                   product=f.product.title if f.product else ""))
    return out


def _attendance(shop: Shop, month: dt.date, agent_ids: set[int]) -> dict[int, list[L.AttendanceFact]]:
    out: dict[int, list[L.AttendanceFact]] = defaultdict(list)
    for row in AttendanceDay.objects.filter(shop=shop, agent_id__in=agent_ids, date__gte=month,
                                            date__lte=month_end(month)).values(
            "id", "agent_id", "date", "status", "late_minutes", "left_early_minutes", "over_allowance",
            "allowance_no", "not_online", "not_online_minutes"):
        agent_id = row.pop("agent_id")
        out[agent_id].append(L.AttendanceFact(**row))
    return out


def ledger_recompute(*, shop: Shop, month: dt.date, agent_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    """Bring the derived deductions of these agents' month in line with their sources, then their
    points and warnings. The caller holds the (agent, month) locks (attendance.lock_months)."""
    from .attendance import lock_months

    month = month_start(month)
    ids = set(agent_ids)
    settings = people_settings(shop)
    if not ids or not settings.ledger_enabled:
        return
    now = now or timezone.now()
    lock_months(shop=shop, month=month, agent_ids=ids)
    rules, _settings = rules_for_month(shop, month)
    close = MonthClose.objects.filter(shop=shop, month=month).first()
    locked = close is not None and close.locked
    days, complaints = _attendance(shop, month, ids), _complaints(shop, month, ids)
    knowledge = _knowledge(shop, month, ids)
    rows: dict[int, list[PenaltyDeduction]] = defaultdict(list)
    for d in PenaltyDeduction.objects.filter(shop=shop, agent_id__in=ids, month=month):
        rows[d.agent_id].append(d)
    adjustments: dict[int, list[PenaltyDeduction]] = defaultdict(list)
    for d in PenaltyDeduction.objects.filter(shop=shop, agent_id__in=ids, origin_month=month):
        adjustments[d.agent_id].append(d)
    target = first_open_month_after(shop, month) if locked else None
    touched_targets = set()
    for agent_id in sorted(ids):
        expected = L.expected_deductions(days=days.get(agent_id, []), complaints=complaints.get(agent_id, []),
                                         knowledge=knowledge.get(agent_id, []), rules=rules)
        if locked:
            if _adjust_locked(shop, agent_id, month, target, expected, rows[agent_id], adjustments[agent_id], now):
                touched_targets.add(agent_id)
        else:
            _sync_open(shop, agent_id, month, expected, rows[agent_id], now)
    if locked:
        if touched_targets:
            lock_months(shop=shop, month=target, agent_ids=touched_targets)
            points_refresh(shop=shop, month=target, agent_ids=touched_targets, now=now)
    else:
        points_refresh(shop=shop, month=month, agent_ids=ids, now=now)


def _new_row(shop: Shop, agent_id: int, month: dt.date, e: L.Expected, points: Decimal, kind: str,
             origin: dt.date | None = None) -> PenaltyDeduction:
    return PenaltyDeduction(shop=shop, agent_id=agent_id, month=month, day=e.day, rule_id=e.rule.id,
                            rule_code=e.rule.code, rule_name=e.rule.name, points=points, kind=kind, key=e.key,
                            source_type=e.source_type, source_id=e.source_id, detail=e.detail, origin_month=origin,
                            created_by_label="system")


def _sync_open(shop, agent_id, month, expected: dict[str, L.Expected], rows: list[PenaltyDeduction], now) -> None:
    active: dict[str, list[PenaltyDeduction]] = defaultdict(list)
    waived = set()
    for d in rows:
        if d.kind != DeductionKind.AUTO:
            continue
        if d.status == DeductionStatus.ACTIVE:
            active[d.key].append(d)
        elif d.status in WAIVED:
            waived.add(d.key)
    void, create = [], []
    for key in set(expected) | set(active):
        e = expected.get(key) if key not in waived else None
        have = active.get(key, [])
        if e is not None and len(have) == 1 and have[0].points == e.points and have[0].source_id == e.source_id:
            if have[0].detail != e.detail:  # e.g. the n-th count moved: keep the row, refresh its words
                have[0].detail = e.detail
                have[0].save(update_fields=["detail"])
            continue
        void += have
        if e is not None:
            create.append(_new_row(shop, agent_id, month, e, e.points, DeductionKind.AUTO))
    for d in void:
        d.status, d.changed_at, d.changed_by_label = DeductionStatus.VOIDED, timezone.now(), "system"
        d.change_reason = "source changed"
    if void:
        PenaltyDeduction.objects.bulk_update(void, ["status", "changed_at", "changed_by_label", "change_reason"])
    PenaltyDeduction.objects.bulk_create(create)


def _adjust_locked(shop, agent_id, month, target, expected, rows, adjustments, now) -> bool:
    """A locked month's sources changed: write the difference into `target` (the first open month)."""
    counted: dict[str, Decimal] = defaultdict(lambda: ZERO)
    waived, known = set(), {}
    # The month's own rows (not adjustments of an earlier month that landed in it) and its adjustments.
    for d in [*[r for r in rows if r.origin_month is None], *adjustments]:
        if d.kind == DeductionKind.MANUAL or d.key.startswith("manual:"):
            continue
        known.setdefault(d.key, d)
        if d.status == DeductionStatus.ACTIVE:
            counted[d.key] += d.points
        if d.status in WAIVED or (d.waiver and d.status == DeductionStatus.ACTIVE):
            waived.add(d.key)
    create = []
    for key in set(expected) | set(counted):
        want = ZERO if key in waived else (expected[key].points if key in expected else ZERO)
        diff = want - counted[key]
        if not diff:
            continue
        e = expected.get(key) or _expected_of(known[key])
        create.append(_new_row(shop, agent_id, target, e, diff, DeductionKind.ADJUSTMENT, origin=month))
    PenaltyDeduction.objects.bulk_create(create)
    return bool(create)


def _expected_of(d: PenaltyDeduction) -> L.Expected:
    rule = Rule(code=d.rule_code, name=d.rule_name, source="", points_each=ZERO, tiers=(), min_points=ZERO,
                max_points=ZERO, active=True, id=d.rule_id)
    return L.Expected(key=d.key, rule=rule, day=d.day, points=ZERO, source_type=d.source_type, source_id=d.source_id,
                      detail={**d.detail, "withdrawn": True})


# ---------------------------------------------------------------- points and warnings

def points_refresh(*, shop: Shop, month: dt.date, agent_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    """Points left = start − active deductions of the month; then the thresholds (open months only)."""
    ids = sorted(set(agent_ids))
    settings = people_settings(shop)
    close = MonthClose.objects.filter(shop=shop, month=month).first()
    if close is not None and close.locked:
        return
    deducted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for agent_id, points in PenaltyDeduction.objects.filter(
            shop=shop, agent_id__in=ids, month=month, status=DeductionStatus.ACTIVE).values_list("agent_id", "points"):
        deducted[agent_id] += points  # summed in Python: exact decimals on SQLite too
    months = LedgerMonth.objects.filter(agent_id__in=ids, month=month)
    changed = []
    for lm in months:
        left = settings.start_points - deducted[lm.agent_id]
        if (lm.start_points, lm.deducted, lm.points_left) != (settings.start_points, deducted[lm.agent_id], left):
            lm.start_points, lm.deducted, lm.points_left = settings.start_points, deducted[lm.agent_id], left
            changed.append(lm)
    if changed:
        LedgerMonth.objects.bulk_update(changed, ["start_points", "deducted", "points_left", "updated_at"])
    _warnings(shop, month, {lm.agent_id: lm.points_left for lm in months}, settings, now or timezone.now())


def _warnings(shop: Shop, month: dt.date, points: dict[int, Decimal], settings, now: dt.datetime) -> None:
    """Raise each level once per agent and month (and notify); withdraw it when the points rise again."""
    earlier = [month]
    for _ in range(settings.severe_months - 1):
        earlier.append(prev_month(earlier[-1]))
    history: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    for agent_id, m, left in LedgerMonth.objects.filter(agent_id__in=list(points), month__in=earlier[1:]).values_list(
            "agent_id", "month", "points_left"):
        history[agent_id][m] = left
    existing = {(w.agent_id, w.level): w for w in PenaltyWarning.objects.filter(agent_id__in=list(points), month=month)}
    raised: list[PenaltyWarning] = []
    for agent_id, left in points.items():
        severe = left <= settings.severe_points and all(
            history[agent_id].get(m, settings.start_points) <= settings.severe_points for m in earlier[1:])
        due = {WarningLevel.VERBAL: left <= settings.warn_verbal_points,
               WarningLevel.PENALTY: left <= settings.warn_penalty_points, WarningLevel.SEVERE: severe}
        for level, holds in due.items():
            w = existing.get((agent_id, level))
            if holds and w is None:
                try:
                    with transaction.atomic():
                        raised.append(PenaltyWarning.objects.create(shop=shop, agent_id=agent_id, month=month,
                                                                    level=level, points=left))
                except IntegrityError:
                    pass  # raised by a concurrent recompute: once per month
            elif holds and w.withdrawn_at is not None:
                w.withdrawn_at = None
                w.save(update_fields=["withdrawn_at"])
            elif not holds and w is not None and w.withdrawn_at is None:
                w.withdrawn_at = timezone.now()
                w.save(update_fields=["withdrawn_at"])
    if raised:
        _notify_warnings(shop, raised)  # rows of the same transaction: a rolled-back warning tells nobody


def _notify_warnings(shop: Shop, warnings: list[PenaltyWarning]) -> None:
    from kefu.approvals.services import notify
    from kefu.core.enums import Role
    from kefu.core.selectors import supervisors_of

    staff = {a.id: a for a in Agent.objects.filter(shop=shop)}
    managers = [a.id for a in staff.values() if a.active and a.has_role(Role.MANAGER)]
    supervisors = supervisors_of(shop)
    for w in warnings:
        label = WarningLevel(w.level).label
        month = w.month.strftime("%Y-%m")
        link = reverse("people:agent", args=[w.agent_id])
        agent = staff[w.agent_id]
        notify(shop=shop, recipients=[w.agent_id], link=reverse("people:me"),
               text=f"{month} 你的考核分为 {w.points} 分：{label}")
        heads = [s.id for s in supervisors if supervises(s, agent)]
        if w.level == WarningLevel.SEVERE:
            heads = sorted(set(heads) | set(managers))
        heads = [h for h in heads if h != w.agent_id]
        if heads:
            notify(shop=shop, recipients=heads, link=link, text=f"{agent.name} {month} 考核分 {w.points} 分：{label}")


# ---------------------------------------------------------------- manual deductions, reversals

def _open_month_for(shop: Shop, day: dt.date) -> tuple[dt.date, dt.date | None]:
    """(the month a change lands in, the locked month it belongs to or None)."""
    month = month_start(day)
    close = MonthClose.objects.filter(shop=shop, month=month).first()
    if close is not None and close.locked:
        return first_open_month_after(shop, month), month
    return month, None


def _require_ledger(shop: Shop) -> None:
    if not people_settings(shop).ledger_enabled:
        raise KefuError("the 10-point ledger is switched off for this shop", code=PeopleError.LEDGER_OFF)


def deduction_add(*, shop: Shop, agent: Agent, rule_code: str, points, day: dt.date, reason: str,
                  by: Agent | None, actor=None, now: dt.datetime | None = None) -> PenaltyDeduction:
    """A supervisor's deduction by a manual rule (002 §五.7: unfinished daily work, 0.5–1), with a reason."""
    from .attendance import _text, lock_months
    from .rules import _decimal

    _require_ledger(shop)
    require_supervisor_of(by, agent)
    if agent.shop_id != shop.id:
        raise KefuError("no such agent in this shop", field="agent_id")
    reason = _text(reason, field="reason", max_len=300)
    points = _decimal(points, field="points")
    now = now or timezone.now()
    from .months import shop_today

    if day > shop_today(shop, now):
        raise KefuError("the day is in the future", field="day")
    rules, _s = rules_for_month(shop, month_start(day))
    rule = rules.get(rule_code)
    if rule is None or not rule.active or rule.source != "manual":
        raise KefuError(f"no manual rule {rule_code!r} (manual rules: "
                        f"{', '.join(r.code for r in rules.values() if r.source == 'manual' and r.active)})",
                        field="rule_code")
    if not rule.min_points <= points <= rule.max_points:
        raise KefuError(f"{rule.name}: {rule.min_points}–{rule.max_points} points", field="points")
    month, origin = _open_month_for(shop, day)
    with transaction.atomic():
        lock_months(shop=shop, month=month, agent_ids=[agent.id])
        d = PenaltyDeduction.objects.create(
            shop=shop, agent=agent, month=month, day=day, rule_id=rule.id, rule_code=rule.code, rule_name=rule.name,
            points=points, kind=DeductionKind.MANUAL, key="manual:", source_type=SourceType.MANUAL, reason=reason,
            origin_month=origin, created_by=by, created_by_label=label_of(by, actor))
        d.key = f"manual:{d.pk}"
        d.save(update_fields=["key"])
        audit_record(shop=shop, actor=actor, action="deduction.add", entity=d,
                     after={"agent": agent.name, "rule": rule.code, "points": str(points), "day": day.isoformat(),
                            "reason": reason})
        points_refresh(shop=shop, month=month, agent_ids=[agent.id], now=now)
    return d


def _strike(shop: Shop, d: PenaltyDeduction, status: str, reason: str, by: Agent | None, actor, now) -> None:
    """Take a deduction back: in an open month its status changes; a locked month's row stays and a
    waiver adjustment in the next open month gives the points back."""
    from .attendance import lock_months

    close = MonthClose.objects.filter(shop=shop, month=d.month).first()
    if close is None or not close.locked:
        lock_months(shop=shop, month=d.month, agent_ids=[d.agent_id])
        d.status, d.changed_at, d.changed_by_label, d.change_reason = status, now, label_of(by, actor), reason
        d.save(update_fields=["status", "changed_at", "changed_by_label", "change_reason"])
        points_refresh(shop=shop, month=d.month, agent_ids=[d.agent_id], now=now)
        return
    target = first_open_month_after(shop, d.month)
    lock_months(shop=shop, month=target, agent_ids=[d.agent_id])
    origin = d.origin_month or d.month
    counted = sum((x.points for x in PenaltyDeduction.objects.filter(agent_id=d.agent_id, key=d.key,
                                                                     status=DeductionStatus.ACTIVE)
                   if (x.month == origin and x.origin_month is None) or x.origin_month == origin), ZERO)
    PenaltyDeduction.objects.create(
        shop=shop, agent_id=d.agent_id, month=target, day=d.day, rule_id=d.rule_id, rule_code=d.rule_code,
        rule_name=d.rule_name, points=-counted, kind=DeductionKind.ADJUSTMENT, key=d.key, source_type=d.source_type,
        source_id=d.source_id, detail={**d.detail, "struck": status}, reason=reason, origin_month=origin, waiver=True,
        created_by=by, created_by_label=label_of(by, actor))
    points_refresh(shop=shop, month=target, agent_ids=[d.agent_id], now=now)


def deduction_reverse(*, shop: Shop, deduction: PenaltyDeduction, reason: str, by: Agent | None, actor=None,
                      now: dt.datetime | None = None) -> PenaltyDeduction:
    """A supervisor reverses a deduction with a reason; its source no longer counts for that month."""
    from .attendance import _text

    reason = _text(reason, field="reason", max_len=300)
    now = now or timezone.now()
    with transaction.atomic():
        d = PenaltyDeduction.objects.select_for_update().select_related("agent").filter(
            shop=shop, pk=deduction.pk).first()
        if d is None:
            raise NotFound("deduction not found", field="deduction_id")
        require_supervisor_of(by, d.agent)
        if by is not None and by.id == d.agent_id:
            raise PermissionDenied("nobody reverses their own deduction", code=PeopleError.FORBIDDEN)
        if d.status != DeductionStatus.ACTIVE or d.kind == DeductionKind.ADJUSTMENT:
            raise KefuError(f"a deduction that is {d.status} cannot be reversed", field="deduction_id",
                            code=PeopleError.DONE)
        _strike(shop, d, DeductionStatus.REVERSED, reason, by, actor, now)
        audit_record(shop=shop, actor=actor, action="deduction.reverse", entity=d,
                     before={"status": DeductionStatus.ACTIVE, "points": str(d.points)},
                     after={"status": DeductionStatus.REVERSED, "reason": reason})
    return d


# ---------------------------------------------------------------- appeals

def appeal_create(*, shop: Shop, deduction: PenaltyDeduction, reason: str, by: Agent | None, actor=None) -> PenaltyAppeal:
    """The agent appeals one of their deductions (once)."""
    from .attendance import _text

    reason = _text(reason, field="reason", max_len=500)
    with transaction.atomic():
        d = PenaltyDeduction.objects.select_for_update().select_related("agent").filter(
            shop=shop, pk=deduction.pk).first()
        if d is None:
            raise NotFound("deduction not found", field="deduction_id")
        if by is not None and by.id != d.agent_id:
            raise PermissionDenied("an agent appeals their own deductions", code=PeopleError.FORBIDDEN)
        if d.status != DeductionStatus.ACTIVE or d.points <= 0 or d.kind == DeductionKind.ADJUSTMENT:
            raise KefuError("only an active deduction can be appealed", field="deduction_id", code=PeopleError.STATE)
        try:
            with transaction.atomic():
                appeal = PenaltyAppeal.objects.create(shop=shop, deduction=d, agent_id=d.agent_id, reason=reason)
        except IntegrityError:
            raise KefuError("this deduction was appealed already", field="deduction_id",
                            code=PeopleError.DONE) from None
        audit_record(shop=shop, actor=actor, action="appeal.create", entity=appeal,
                     after={"deduction": d.pk, "reason": reason})
    from .attendance import _notify_supervisors

    _notify_supervisors(shop, d.agent, f"{d.agent.name} 申诉扣分（{d.rule_name} {d.points} 分）：{reason}",
                        link=reverse("people:appeals"))
    return appeal


def appeal_decide(*, shop: Shop, appeal: PenaltyAppeal, grant: bool, note: str, by: Agent | None, actor=None,
                  now: dt.datetime | None = None) -> PenaltyAppeal:
    """The supervisor decides an appeal, once: two supervisors pressing at the same moment get one
    decision and one 409 (already_decided). Granting strikes the deduction."""
    from .attendance import _text

    note = _text(note, field="note", max_len=300, required=not grant)
    now = now or timezone.now()
    with transaction.atomic():
        a = PenaltyAppeal.objects.select_for_update().filter(shop=shop, pk=appeal.pk).first()
        if a is None:
            raise NotFound("appeal not found", field="appeal_id")
        if a.state != AppealState.PENDING:
            raise KefuError(f"this appeal was decided already ({a.state})", field="appeal_id",
                            code=PeopleError.DECIDED)
        d = PenaltyDeduction.objects.select_for_update().select_related("agent").get(pk=a.deduction_id)
        require_supervisor_of(by, d.agent)
        if by is not None and by.id == d.agent_id:
            raise PermissionDenied("nobody decides their own appeal", code=PeopleError.FORBIDDEN)
        a.state = AppealState.GRANTED if grant else AppealState.REJECTED
        a.decided_by, a.decided_by_label, a.decided_at, a.decision_note = by, label_of(by, actor), now, note
        a.save(update_fields=["state", "decided_by", "decided_by_label", "decided_at", "decision_note"])
        if grant and d.status == DeductionStatus.ACTIVE:
            _strike(shop, d, DeductionStatus.GRANTED, note or "appeal granted", by, actor, now)
        audit_record(shop=shop, actor=actor, action=f"appeal.{a.state}", entity=a,
                     after={"deduction": d.pk, "note": note})
    from kefu.approvals.services import notify

    notify(shop=shop, recipients=[a.agent_id], link=reverse("people:me"),
           text=f"你对「{d.rule_name}」扣分的申诉：{AppealState(a.state).label}{('：' + note) if note else ''}")
    return a


# ---------------------------------------------------------------- sources outside this app

def ledger_source_changed(*, shop: Shop, agent_id: int, day: dt.date) -> None:
    """A source of another app changed (a complaint verdict): recompute that agent's month."""
    from .attendance import lock_months

    if not people_settings(shop).ledger_enabled:
        return
    month = month_start(day)
    with transaction.atomic():
        lock_months(shop=shop, month=month, agent_ids=[agent_id])
        ledger_recompute(shop=shop, month=month, agent_ids=[agent_id])
