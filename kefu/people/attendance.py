"""Writes of attendance (WF-2): clocking in and out, leave and 调休 requests and their approval,
supervisors' corrections (audited), and the recompute of attendance days and the ledger from them.

Every write recomputes the agent's month in the same transaction, so the month sheet, the points and
the warnings are never behind what was recorded. The scheduler recomputes open months as time
passes (a shift that ended without a clock-in becomes 旷工) and picks up roster and presence changes.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import day_bounds
from kefu.workforce.models import AgentStatusChange, RosterEntry

from . import attendance_calc as C
from .access import label_of, require_supervisor_of, supervises
from .enums import (
    CORRECTABLE_STATUSES,
    LEAVE_TRANSITIONS,
    AttendanceStatus,
    ClockKind,
    ClockSource,
    LeaveKind,
    PeopleError,
    RequestState,
)
from .models import AttendanceCorrection, AttendanceDay, ClockEvent, LeaveRequest, LedgerMonth
from .months import month_days, month_start, shop_today
from .rules import people_settings, rules_for_month

MAX_LEAVE_DAYS = 31
DAY_FIELDS = ("status", "shift_label", "shift_start", "shift_end", "clock_in", "clock_out", "late_minutes",
              "left_early_minutes", "forgot_clock", "leave_id", "allowance_no", "over_allowance",
              "not_online_minutes", "not_online_from", "not_online_to", "not_online", "corrected")


def _text(value, *, field: str, max_len: int, required: bool = True) -> str:
    text = str(value or "").replace("\x00", "").strip()
    if required and not text:
        raise KefuError(f"{field} is required", field=field)
    if len(text) > max_len:
        raise KefuError(f"{field} is at most {max_len} characters", field=field)
    return text


# ---------------------------------------------------------------- locking and recompute

def lock_months(*, shop: Shop, month: dt.date, agent_ids: Iterable[int]) -> None:
    """Lock the (agent, month) ledger rows, creating them first: every write of an agent-month's
    attendance or ledger runs under this lock, in agent-id order (no deadlocks)."""
    ids = sorted(set(agent_ids))
    if not ids:
        return
    start = people_settings(shop).start_points
    LedgerMonth.objects.bulk_create(
        [LedgerMonth(shop=shop, agent_id=i, month=month, start_points=start, points_left=start) for i in ids],
        ignore_conflicts=True)
    list(LedgerMonth.objects.select_for_update().filter(agent_id__in=ids, month=month).order_by("agent_id")
         .values_list("pk", flat=True))


def _month_inputs(shop: Shop, month: dt.date, agent_ids: set[int] | None):
    """Every raw row the month's attendance follows from, in one query per kind."""
    days = month_days(month)
    lo = day_bounds(days[0], shop.tz)[0] - dt.timedelta(days=1)
    hi = day_bounds(days[-1], shop.tz)[1] + dt.timedelta(days=1)

    def only(qs):
        return qs if agent_ids is None else qs.filter(agent_id__in=agent_ids)

    spans: dict[tuple[int, dt.date], list] = {}
    for agent_id, date, start, end, name in only(RosterEntry.objects.filter(
            shop=shop, date__gte=days[0], date__lte=days[-1])).order_by("starts_at").values_list(
            "agent_id", "date", "starts_at", "ends_at", "shift__name"):
        span = spans.get((agent_id, date))
        if span is None:
            spans[(agent_id, date)] = [start, end, [name]]
        else:
            span[1] = max(span[1], end)
            span[2].append(name)
    clocks: dict[int, list] = defaultdict(list)
    for agent_id, kind, at in only(ClockEvent.objects.filter(shop=shop, at__gte=lo, at__lt=hi)).values_list(
            "agent_id", "kind", "at"):
        clocks[agent_id].append((kind, at))
    leaves: dict[int, list[LeaveRequest]] = defaultdict(list)
    for lr in only(LeaveRequest.objects.filter(shop=shop, state=RequestState.APPROVED, date_from__lte=days[-1],
                                               date_to__gte=days[0])).order_by("decided_at", "id"):
        leaves[lr.agent_id].append(lr)
    corrections: dict[tuple[int, dt.date], AttendanceCorrection] = {}
    for c in only(AttendanceCorrection.objects.filter(shop=shop, date__gte=days[0], date__lte=days[-1])).order_by(
            "created_at", "id"):
        corrections[(c.agent_id, c.date)] = c  # the latest applies
    presence: dict[int, list] = defaultdict(list)
    for agent_id, at, status in only(AgentStatusChange.objects.filter(shop=shop, at__gte=lo, at__lt=hi)).order_by(
            "at", "id").values_list("agent_id", "at", "status"):
        presence[agent_id].append((at, status))
    existing = {(r.agent_id, r.date): r for r in only(AttendanceDay.objects.filter(
        shop=shop, date__gte=days[0], date__lte=days[-1]))}
    agents = {a for a, _ in spans} | set(clocks) | set(leaves) | {a for a, _ in corrections} | {a for a, _ in existing}
    if agent_ids is not None:
        agents &= agent_ids
    latest = AgentStatusChange.objects.filter(agent=OuterRef("pk"), at__lt=lo).order_by("-at", "-id").values("status")[:1]
    before = {pk: st for pk, st in Agent.objects.filter(pk__in=agents).annotate(st=Subquery(latest))
              .values_list("pk", "st") if st}
    return days, spans, clocks, leaves, corrections, presence, before, existing, agents


def attendance_recompute(*, shop: Shop, month: dt.date, agent_ids: Iterable[int] | None = None,
                         now: dt.datetime | None = None) -> int:
    """Recompute the attendance days of a month (for some agents, or everyone) and then their ledger.
    Returns the number of day rows written."""
    from .ledger import ledger_recompute

    month = month_start(month)
    now = now or timezone.now()
    wanted = set(agent_ids) if agent_ids is not None else None
    with transaction.atomic():
        days, spans, clocks, leaves, corrections, presence, before, existing, agents = _month_inputs(shop, month, wanted)
        lock_months(shop=shop, month=month, agent_ids=agents)
        _rules, settings = rules_for_month(shop, month)
        rules = C.Rules.of(settings)
        creates, updates = [], []
        today = shop_today(shop, now)
        stale = [r for (a, d), r in existing.items() if d > today]  # rows of days not come yet
        for agent_id in sorted(agents):
            tracked = agent_id in before or bool(presence.get(agent_id))
            inputs, rows = [], []
            for date in days:
                if date > today:
                    break  # a day that has not come yet has no attendance
                span, corr = spans.get((agent_id, date)), corrections.get((agent_id, date))
                if span is None and corr is None and (agent_id, date) not in existing:
                    continue
                leave = next((lr for lr in reversed(leaves.get(agent_id, [])) if lr.date_from <= date <= lr.date_to),
                             None)
                inputs.append(C.DayInput(
                    date=date, start=span[0] if span else None, end=span[1] if span else None,
                    clocks=clocks.get(agent_id, []), leave=(leave.id, leave.kind) if leave else None,
                    correction=C.Correction(corr.clock_in, corr.clock_out, corr.status, corr.excuse_not_online)
                    if corr else None,
                    presence_before=before.get(agent_id), presence=presence.get(agent_id, []) if tracked else None))
                rows.append((date, span))
            for (date, span), r in zip(rows, C.month_results(inputs, rules, now), strict=True):
                values = {"status": r.status, "shift_label": " + ".join(span[2]) if span else "",
                          "shift_start": span[0] if span else None, "shift_end": span[1] if span else None,
                          "clock_in": r.clock_in, "clock_out": r.clock_out, "late_minutes": r.late_minutes,
                          "left_early_minutes": r.left_early_minutes, "forgot_clock": r.forgot_clock,
                          "leave_id": r.leave_id, "allowance_no": r.allowance_no, "over_allowance": r.over_allowance,
                          "not_online_minutes": r.not_online_minutes, "not_online_from": r.not_online_from,
                          "not_online_to": r.not_online_to, "not_online": r.not_online, "corrected": r.corrected}
                row = existing.get((agent_id, date))
                if row is None:
                    creates.append(AttendanceDay(shop=shop, agent_id=agent_id, date=date, **values))
                elif any(getattr(row, f) != v for f, v in values.items()):
                    for f, v in values.items():
                        setattr(row, f, v)
                    updates.append(row)
        if stale:
            AttendanceDay.objects.filter(pk__in=[r.pk for r in stale]).delete()
        AttendanceDay.objects.bulk_create(creates, batch_size=500)
        if updates:
            AttendanceDay.objects.bulk_update(updates, [*DAY_FIELDS, "updated_at"], batch_size=500)
        ledger_recompute(shop=shop, month=month, agent_ids=agents, now=now)
    return len(creates) + len(updates)


def _recompute_days(shop: Shop, agent: Agent, dates: Iterable[dt.date], now: dt.datetime | None = None) -> None:
    for month in sorted({month_start(d) for d in dates}):
        attendance_recompute(shop=shop, month=month, agent_ids=[agent.id], now=now)


def shift_day_of(shop: Shop, agent: Agent, at: dt.datetime) -> dt.date:
    """The shop day whose shift a clock at `at` belongs to (a night shift's clock-out is the day before's)."""
    entry = (RosterEntry.objects.filter(shop=shop, agent=agent, starts_at__lte=at + C.IN_BEFORE,
                                        ends_at__gte=at - C.OUT_AFTER).order_by("-starts_at").first())
    return entry.date if entry else shop_today(shop, at)


# ---------------------------------------------------------------- clock

def attendance_clock(*, shop: Shop, agent: Agent, kind: str, by: Agent | None, at: dt.datetime | None = None,
                     source: str = ClockSource.WEB, request_id: str = "", actor=None,
                     now: dt.datetime | None = None) -> tuple[ClockEvent, bool]:
    """Clock in or out. An agent clocks only themselves, at the present moment; an integration may
    send the moment of a clock device (not in the future). A resend with the same request_id returns
    the first event (created=False)."""
    if kind not in ClockKind.values:
        raise KefuError(f"kind must be one of {', '.join(ClockKind.values)}", field="kind")
    if agent.shop_id != shop.id or not agent.active:
        raise KefuError("no such agent in this shop", field="agent_id")
    if by is not None and by.id != agent.id:
        raise PermissionDenied("everyone clocks in and out for themselves", code=PeopleError.FORBIDDEN)
    request_id = _text(request_id, field="request_id", max_len=80, required=False)
    now = now or timezone.now()
    if at is not None and by is not None:
        raise KefuError("a person clocks at the present moment", field="at")
    at = at or now
    if at > now + dt.timedelta(minutes=1):
        raise KefuError("a clock cannot be in the future", field="at")
    if at < now - dt.timedelta(days=2):
        raise KefuError("a clock older than two days needs a supervisor's correction", field="at")
    with transaction.atomic():
        if request_id:
            prior = ClockEvent.objects.filter(agent=agent, request_id=request_id).first()
            if prior is not None:
                if prior.kind != kind:
                    raise KefuError("this request_id was used for another clock", field="request_id",
                                    code=PeopleError.REUSED)
                return prior, False
        day = shift_day_of(shop, agent, at)
        lock_months(shop=shop, month=month_start(day), agent_ids=[agent.id])
        try:
            with transaction.atomic():
                event = ClockEvent.objects.create(shop=shop, agent=agent, kind=kind, at=at, source=source,
                                                  request_id=request_id, by_label=label_of(by, actor))
        except IntegrityError:
            prior = ClockEvent.objects.get(agent=agent, request_id=request_id)
            return prior, False
        _recompute_days(shop, agent, [day], now=now)
    return event, True


def attendance_clock_batch(*, shop: Shop, clocks: list[dict], source: str = ClockSource.API, actor=None,
                           now: dt.datetime | None = None) -> tuple[int, int]:
    """A clock device's (or an old 考勤本's) records at once: [{agent, kind, at, request_id}], all or
    nothing, idempotent by request_id; each month touched is recomputed once. Returns (created, duplicates)."""
    now = now or timezone.now()
    errors = []
    for i, c in enumerate(clocks):
        if c.get("kind") not in ClockKind.values:
            errors.append({"row": i, "field": "kind", "message": f"kind must be one of {', '.join(ClockKind.values)}"})
        elif not isinstance(c.get("agent"), Agent) or c["agent"].shop_id != shop.id:
            errors.append({"row": i, "field": "agent_id", "message": "no such agent in this shop"})
        elif not isinstance(c.get("at"), dt.datetime) or c["at"].tzinfo is None or c["at"] > now:
            errors.append({"row": i, "field": "at", "message": "an aware time, not in the future"})
    if errors:
        from kefu.core.errors import ValidationFailed

        raise ValidationFailed(errors)
    with transaction.atomic():
        wanted = [c.get("request_id") or "" for c in clocks]
        seen = set(ClockEvent.objects.filter(shop=shop, request_id__in=[r for r in wanted if r])
                   .values_list("agent_id", "request_id"))
        rows, touched = [], defaultdict(set)
        for c in clocks:
            rid = _text(c.get("request_id"), field="request_id", max_len=80, required=False)
            if rid and (c["agent"].id, rid) in seen:
                continue
            seen.add((c["agent"].id, rid))
            rows.append(ClockEvent(shop=shop, agent=c["agent"], kind=c["kind"], at=c["at"], source=source,
                                   request_id=rid, by_label=label_of(None, actor)))
            for moment in (c["at"], c["at"] - C.OUT_AFTER):  # a night shift's clock-out belongs to the day before
                touched[month_start(shop_today(shop, moment))].add(c["agent"].id)
        ClockEvent.objects.bulk_create(rows, batch_size=500)
        for month, ids in sorted(touched.items()):
            attendance_recompute(shop=shop, month=month, agent_ids=ids, now=now)
    return len(rows), len(clocks) - len(rows)


# ---------------------------------------------------------------- leave and 调休

def _leave_snapshot(lr: LeaveRequest) -> dict:
    return {"kind": lr.kind, "date_from": lr.date_from.isoformat(), "date_to": lr.date_to.isoformat(),
            "reason": lr.reason, "state": lr.state}


def leave_request(*, shop: Shop, agent: Agent, kind: str, date_from: dt.date, date_to: dt.date, reason: str,
                  by: Agent | None, actor=None) -> LeaveRequest:
    """An agent asks for 请假 or 调休 beforehand (a supervisor may file it for them)."""
    if kind not in LeaveKind.values:
        raise KefuError(f"kind must be one of {', '.join(LeaveKind.values)}", field="kind")
    if agent.shop_id != shop.id or not agent.active:
        raise KefuError("no such agent in this shop", field="agent_id")
    if by is not None and by.id != agent.id and not supervises(by, agent):
        raise PermissionDenied("an agent asks only for their own leave", code=PeopleError.FORBIDDEN)
    if date_to < date_from:
        raise KefuError("date_to is before date_from", field="date_to")
    if (date_to - date_from).days >= MAX_LEAVE_DAYS:
        raise KefuError(f"at most {MAX_LEAVE_DAYS} days per request", field="date_to")
    reason = _text(reason, field="reason", max_len=300)
    with transaction.atomic():
        lr = LeaveRequest.objects.create(shop=shop, agent=agent, kind=kind, date_from=date_from, date_to=date_to,
                                         reason=reason, requested_by_label=label_of(by, actor))
        audit_record(shop=shop, actor=actor, action="leave.request", entity=lr, after=_leave_snapshot(lr))
    _notify_supervisors(shop, agent, f"{agent.name} 申请{LeaveKind(kind).label} {date_from}–{date_to}：{reason}")
    return lr


def _notify_supervisors(shop: Shop, agent: Agent, text: str, link: str = "") -> None:
    from django.urls import reverse

    from kefu.approvals.services import notify
    from kefu.core.selectors import supervisors_of

    ids = [s.id for s in supervisors_of(shop) if supervises(s, agent) and s.id != agent.id]
    if ids:
        notify(shop=shop, recipients=ids, text=text, link=link or reverse("people:leave"))


def leave_transition(*, shop: Shop, request: LeaveRequest, to: str, by: Agent | None, note: str = "",
                     actor=None, now: dt.datetime | None = None) -> LeaveRequest:
    """Approve, reject or withdraw a request (each once). Approving a day that has already begun
    needs a note: the seed wants leave approved beforehand, so an afterwards approval is on record."""
    if to not in RequestState.values:
        raise KefuError(f"unknown state {to!r}", field="state")
    note = _text(note, field="note", max_len=300, required=False)
    now = now or timezone.now()
    with transaction.atomic():
        lr = LeaveRequest.objects.select_for_update().select_related("agent").get(pk=request.pk, shop=shop)
        if to not in LEAVE_TRANSITIONS[lr.state]:
            code = PeopleError.DECIDED if lr.state != RequestState.REQUESTED else PeopleError.STATE
            raise KefuError(f"a request that is {lr.state} cannot become {to}", field="state", code=code)
        if to == RequestState.CANCELLED:
            own = by is not None and by.id == lr.agent_id
            if not own and not supervises(by, lr.agent):
                raise PermissionDenied("only the agent or their supervisor may withdraw it", code=PeopleError.FORBIDDEN)
            if own and lr.state == RequestState.APPROVED and lr.date_from <= shop_today(shop, now):
                raise KefuError("an approved leave that has begun is withdrawn by a supervisor", field="state",
                                code=PeopleError.SUPERVISOR_ONLY)
        else:
            require_supervisor_of(by, lr.agent)
            if by is not None and by.id == lr.agent_id:
                raise PermissionDenied("nobody approves their own leave", code=PeopleError.FORBIDDEN)
            if to == RequestState.APPROVED and lr.date_from <= shop_today(shop, now) and not note:
                raise KefuError("the leave has already begun: say why it is approved afterwards", field="note")
        before = _leave_snapshot(lr)
        months = {month_start(lr.date_from), month_start(lr.date_to)}
        for m in sorted(months):
            lock_months(shop=shop, month=m, agent_ids=[lr.agent_id])
        lr.state = to
        lr.decided_by = by
        lr.decided_by_label = label_of(by, actor)
        lr.decided_at = now
        lr.decision_note = note
        lr.save(update_fields=["state", "decided_by", "decided_by_label", "decided_at", "decision_note"])
        audit_record(shop=shop, actor=actor, action=f"leave.{to}", entity=lr, before=before,
                     after={**_leave_snapshot(lr), "note": note})
        if before["state"] == RequestState.APPROVED or to == RequestState.APPROVED:
            _recompute_days(shop, lr.agent, [lr.date_from, lr.date_to], now=now)
    if by is None or by.id != lr.agent_id:
        from django.urls import reverse

        from kefu.approvals.services import notify

        notify(shop=shop, recipients=[lr.agent_id], link=reverse("people:leave"),
               text=f"你的{LeaveKind(lr.kind).label}申请（{lr.date_from}–{lr.date_to}）{RequestState(to).label}")
    return lr


# ---------------------------------------------------------------- corrections

def attendance_correct(*, shop: Shop, agent: Agent, date: dt.date, reason: str, by: Agent | None,
                       clock_in: dt.datetime | None = None, clock_out: dt.datetime | None = None,
                       status: str = "", excuse_not_online: bool = False, actor=None,
                       now: dt.datetime | None = None) -> AttendanceCorrection:
    """A supervisor corrects one agent-day with a reason (audited): clock times, the status itself, or
    a special reason for time not online. The day, its deductions and the warnings follow at once;
    in a locked month the change reaches the ledger as an adjustment in the next open month."""
    require_supervisor_of(by, agent)
    if agent.shop_id != shop.id:
        raise KefuError("no such agent in this shop", field="agent_id")
    reason = _text(reason, field="reason", max_len=300)
    if status and status not in CORRECTABLE_STATUSES:
        raise KefuError(f"status must be one of {', '.join(CORRECTABLE_STATUSES)}", field="status")
    if clock_in and clock_out and clock_out <= clock_in:
        raise KefuError("the clock-out must be after the clock-in", field="clock_out")
    now = now or timezone.now()
    if date > shop_today(shop, now):
        raise KefuError("a day in the future cannot be corrected", field="date")
    with transaction.atomic():
        lock_months(shop=shop, month=month_start(date), agent_ids=[agent.id])
        before = AttendanceDay.objects.filter(agent=agent, date=date).values("status", "clock_in", "clock_out",
                                                                              "late_minutes").first()
        corr = AttendanceCorrection.objects.create(
            shop=shop, agent=agent, date=date, clock_in=clock_in, clock_out=clock_out, status=status or "",
            excuse_not_online=excuse_not_online, reason=reason, by=by, by_label=label_of(by, actor))
        _recompute_days(shop, agent, [date], now=now)
        after = AttendanceDay.objects.filter(agent=agent, date=date).values("status", "clock_in", "clock_out",
                                                                             "late_minutes").first()
        audit_record(shop=shop, actor=actor, action="attendance.correct", entity=corr,
                     before=_jsonable(before), after={**_jsonable(after), "reason": reason, "date": date.isoformat(),
                                                      "agent": agent.name})
    return corr


def _jsonable(d: dict | None) -> dict | None:
    if d is None:
        return None
    return {k: v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for k, v in d.items()}


REST = AttendanceStatus.REST
