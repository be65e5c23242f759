"""Typing practice and tests (WF-9, seed 000): record a result, void a wrong one, and read them — one
agent's months (the trend) and a month of the team (who practised, the test, who improved).

Who records: a practice result the agent themself or their supervisor; the monthly test only a
supervisor (it is an assessment). "Improved" (进步, seed 000: 进步者奖) compares a month's test with the
previous month's by net speed (speed × accuracy): every figure here is read from the rows by one
function, `month_figures`, used by the pages, the API and the month overview."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.core.errors import KefuError, NotFound
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .access import agents_visible, label_of, require_supervisor_of, supervises
from .enums import PeopleError, TypingKind
from .models import TypingResult
from .months import month_end, month_start, next_month, prev_month, shop_today
from .rules import _decimal

MAX_SPEED = 600  # characters per minute: a typo above it (a fast typist does 150–200)
PAST_DAYS = 400  # a result may be recorded this long after it was typed


def _speed(value) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise KefuError(f"speed must be a whole number of characters per minute, got {value!r}", field="speed") from None
    if not 1 <= n <= MAX_SPEED:
        raise KefuError(f"speed must be between 1 and {MAX_SPEED} characters per minute", field="speed")
    return n


def typing_record(*, shop: Shop, agent: Agent, kind: str, taken_on: dt.date | None, speed, accuracy, text: str = "",
                  note: str = "", by: Agent | None, actor=None, request_id: str = "",
                  now: dt.datetime | None = None) -> tuple[TypingResult, bool]:
    """Record one result. Returns (row, created); the same request id again returns the first row."""
    if agent.shop_id != shop.pk:
        raise NotFound("no such agent in this shop", field="agent_id")
    if kind not in TypingKind.values:
        raise KefuError(f"kind must be one of {', '.join(TypingKind.values)}", field="kind")
    if kind == TypingKind.TEST or by is None or by.pk != agent.pk:
        require_supervisor_of(by, agent)  # the monthly test is a supervisor's assessment
    speed_v = _speed(speed)
    accuracy_v = _decimal(accuracy, field="accuracy")
    text = clean_text(text, field="text", max_len=100)
    note = clean_text(note, field="note", max_len=300)
    request_id = clean_text(request_id, field="request_id", max_len=64)
    now = now or timezone.now()
    today = shop_today(shop, now)
    taken_on = taken_on or today
    if taken_on > today:
        raise KefuError("a result cannot be dated in the future", field="taken_on")
    if taken_on < today - dt.timedelta(days=PAST_DAYS):
        raise KefuError(f"a result older than {PAST_DAYS} days cannot be recorded", field="taken_on")
    same = {"agent_id": agent.pk, "kind": kind, "taken_on": taken_on, "speed": speed_v, "accuracy": accuracy_v}
    if request_id:
        seen = TypingResult.objects.filter(shop=shop, request_id=request_id).first()
        if seen is not None:
            return _seen(seen, same), False
    try:
        with transaction.atomic():
            row = TypingResult.objects.create(shop=shop, **same, text=text, note=note, recorded_by=by,
                                              recorded_label=label_of(by, actor), request_id=request_id,
                                              created_at=now)
            audit_record(shop=shop, actor=actor, action="people.typing.record", entity=row,
                         after={"agent": agent.name, "kind": kind, "taken_on": taken_on.isoformat(),
                                "speed": speed_v, "accuracy": str(accuracy_v)})
    except IntegrityError:  # the same request id, sent twice at once
        seen = TypingResult.objects.filter(shop=shop, request_id=request_id).first()
        if seen is None:
            raise
        return _seen(seen, same), False
    return row, True


def _seen(row: TypingResult, same: dict) -> TypingResult:
    if any(getattr(row, k) != v for k, v in same.items()):
        raise KefuError("this request id was used for another result", field="request_id", code=PeopleError.REUSED)
    return row


def typing_void(*, shop: Shop, result: TypingResult, reason: str, by: Agent | None, actor=None,
                now: dt.datetime | None = None) -> TypingResult:
    """A supervisor voids a wrong result (it stays, struck out, with the reason)."""
    require_supervisor_of(by, result.agent)
    reason = clean_text(reason, field="reason", max_len=300, required=True, required_message="give a reason")
    with transaction.atomic():
        row = TypingResult.objects.select_for_update().get(pk=result.pk)
        if row.voided_at is not None:
            raise KefuError("this result was voided already", field="id", code=PeopleError.DONE)
        row.voided_at, row.void_reason = now or timezone.now(), reason
        row.save(update_fields=["voided_at", "void_reason"])
        audit_record(shop=shop, actor=actor, action="people.typing.void", entity=row,
                     before={"speed": row.speed, "accuracy": str(row.accuracy)}, after={"reason": reason})
    return row


# ---------------------------------------------------------------- reads

@dataclass
class MonthFigures:
    month: dt.date
    practices: int = 0
    practice_best: int | None = None
    practice_avg: Decimal | None = None  # characters per minute, one decimal
    test: TypingResult | None = None  # the month's latest test
    previous_net: Decimal | None = None  # the previous month's test, net speed
    change: Decimal | None = None  # this test's net speed − the previous one's

    @property
    def improved(self) -> bool:
        return self.change is not None and self.change > 0


def month_figures(rows: list[TypingResult], month: dt.date, previous_test: TypingResult | None) -> MonthFigures:
    """A month's figures from the agent's rows of that month (voided rows are left out)."""
    rows = [r for r in rows if r.voided_at is None and month_start(r.taken_on) == month]
    practice = [r.speed for r in rows if r.kind == TypingKind.PRACTICE]
    tests = sorted((r for r in rows if r.kind == TypingKind.TEST), key=lambda r: (r.taken_on, r.id))
    f = MonthFigures(month=month, practices=len(practice))
    if practice:
        f.practice_best = max(practice)
        f.practice_avg = (Decimal(sum(practice)) / len(practice)).quantize(Decimal("0.1"))
    f.test = tests[-1] if tests else None
    if previous_test is not None:
        f.previous_net = previous_test.net_speed
    if f.test is not None and f.previous_net is not None:
        f.change = f.test.net_speed - f.previous_net
    return f


def _latest_test(rows: list[TypingResult], month: dt.date) -> TypingResult | None:
    tests = [r for r in rows if r.voided_at is None and r.kind == TypingKind.TEST and month_start(r.taken_on) == month]
    return max(tests, key=lambda r: (r.taken_on, r.id)) if tests else None


def typing_trend(*, shop: Shop, agent: Agent, months: int = 6, today: dt.date | None = None) -> list[MonthFigures]:
    """The agent's last `months` months, oldest first (one query)."""
    last = month_start(today or shop_today(shop))
    first = last
    for _ in range(months - 1):
        first = prev_month(first)
    rows = list(TypingResult.objects.filter(shop=shop, agent=agent, taken_on__gte=prev_month(first),
                                            taken_on__lte=month_end(last)))
    out, m = [], first
    while m <= last:
        out.append(month_figures(rows, m, _latest_test(rows, prev_month(m))))
        m = next_month(m)
    return out


def typing_results_for(*, shop: Shop, member: Agent | None, agent: Agent | None = None, month: dt.date | None = None):
    qs = TypingResult.objects.filter(shop=shop).select_related("agent")
    if agent is not None:
        qs = qs.filter(agent=agent)
    else:
        qs = qs.filter(agent__in=agents_visible(shop=shop, member=member, include_inactive=True).values("pk"))
    if month is not None:
        qs = qs.filter(taken_on__gte=month, taken_on__lte=month_end(month))
    return qs


def typing_result_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> TypingResult:
    from django.http import Http404

    row = TypingResult.objects.filter(shop=shop, pk=id).select_related("agent").first()
    if row is None or not (member is not None and member.pk == row.agent_id or supervises(member, row.agent)):
        raise Http404("typing result")
    return row


def typing_month(*, shop: Shop, member: Agent | None, month: dt.date) -> list[tuple[Agent, MonthFigures]]:
    """Every agent the person sees (active agents) with the month's figures (two queries)."""
    from kefu.core.enums import Role

    agents = [a for a in agents_visible(shop=shop, member=member).order_by("group", "name") if a.has_role(Role.AGENT)]
    rows = list(TypingResult.objects.filter(shop=shop, agent__in=[a.pk for a in agents],
                                            taken_on__gte=prev_month(month), taken_on__lte=month_end(month)))
    by_agent: dict[int, list[TypingResult]] = {}
    for r in rows:
        by_agent.setdefault(r.agent_id, []).append(r)
    return [(a, month_figures(by_agent.get(a.pk, []), month, _latest_test(by_agent.get(a.pk, []), prev_month(month))))
            for a in agents]
