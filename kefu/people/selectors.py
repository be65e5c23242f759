"""Reads of attendance and the ledger for pages, API and exports (one reader per figure)."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.core.models import Agent, Shop

from .access import agents_visible, may_see, supervises
from .enums import AppealState, AttendanceStatus, DeductionStatus, MonthState, RequestState
from .models import (
    AttendanceCorrection,
    AttendanceDay,
    LeaveRequest,
    LedgerMonth,
    MonthClose,
    PenaltyAppeal,
    PenaltyDeduction,
    PenaltyWarning,
)
from .months import month_days, month_end
from .rules import people_settings

# The month sheet's tallies, in column order.
TALLY = (AttendanceStatus.ON_TIME, AttendanceStatus.LATE, AttendanceStatus.ABSENT, AttendanceStatus.UNAUTHORISED,
         AttendanceStatus.LEAVE, AttendanceStatus.REST_ADJUSTED, AttendanceStatus.FORGOT)


@dataclass
class SheetRow:
    agent: Agent
    cells: list[AttendanceDay | None] = field(default_factory=list)
    tally: dict[str, int] = field(default_factory=dict)
    late_minutes: int = 0
    forgot: int = 0
    over_allowance: int = 0
    points_left: Decimal | None = None
    dates: list[dt.date] = field(default_factory=list)

    @property
    def day_cells(self) -> list[tuple[dt.date, AttendanceDay | None]]:
        return list(zip(self.dates, self.cells, strict=True))

    @property
    def weeks(self) -> list[list[tuple[dt.date | None, AttendanceDay | None]]]:
        """The month as calendar weeks, Monday first (None pads the first and last week)."""
        cells = [(None, None)] * self.dates[0].weekday() + self.day_cells
        cells += [(None, None)] * (-len(cells) % 7)
        return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def month_sheet(*, shop: Shop, member: Agent | None, month: dt.date, group: str = "",
                agent: Agent | None = None) -> dict:
    """Days × agents of one month (three queries): each cell the agent-day, tallies per agent."""
    days = month_days(month)
    agents = agents_visible(shop=shop, member=member).order_by("group", "name", "id")
    if group:
        agents = agents.filter(group=group)
    if agent is not None:
        agents = agents.filter(pk=agent.pk)
    rows = {a.id: SheetRow(agent=a, cells=[None] * len(days), tally=dict.fromkeys(TALLY, 0), dates=days)
            for a in agents}
    for d in AttendanceDay.objects.filter(shop=shop, agent_id__in=list(rows), date__gte=days[0], date__lte=days[-1]):
        row = rows[d.agent_id]
        row.cells[(d.date - days[0]).days] = d
        if d.status in row.tally:
            row.tally[d.status] += 1
        row.late_minutes += d.late_minutes if d.status == AttendanceStatus.LATE else 0
        row.forgot += d.forgot_clock
        row.over_allowance += d.over_allowance
    for agent_id, left in LedgerMonth.objects.filter(agent_id__in=list(rows), month=month).values_list(
            "agent_id", "points_left"):
        rows[agent_id].points_left = left
    # People with no day at all this month (not rostered, e.g. managers) are left off the sheet.
    return {"days": days, "rows": [r for r in rows.values() if any(r.cells) or agent is not None]}


def attendance_day_get_for_user(*, shop: Shop, member: Agent | None, agent_id: int, date: dt.date) -> AttendanceDay | None:
    agent = Agent.objects.filter(shop=shop, pk=agent_id).first()
    if agent is None or not may_see(member, agent):
        raise Http404("agent")
    return AttendanceDay.objects.filter(shop=shop, agent=agent, date=date).select_related("agent", "leave").first()


def corrections_of(*, shop: Shop, agent: Agent, date: dt.date) -> list[AttendanceCorrection]:
    return list(AttendanceCorrection.objects.filter(shop=shop, agent=agent, date=date))


def clock_state(*, shop: Shop, agent: Agent, today: dt.date) -> dict:
    """Today's row (and yesterday's, for a night shift still running) for the clock panel."""
    rows = {d.date: d for d in AttendanceDay.objects.filter(shop=shop, agent=agent,
                                                            date__in=[today, today - dt.timedelta(days=1)])}
    events = list(agent.clock_events.order_by("-at", "-id")[:6])
    return {"today": rows.get(today), "yesterday": rows.get(today - dt.timedelta(days=1)), "events": events}


# ---------------------------------------------------------------- leave

def leave_requests_for(*, shop: Shop, member: Agent | None, state: str | None = None,
                       agent: Agent | None = None, limit: int = 200) -> list[LeaveRequest]:
    qs = LeaveRequest.objects.filter(shop=shop, agent__in=agents_visible(shop=shop, member=member,
                                                                         include_inactive=True))
    if agent is not None:
        qs = qs.filter(agent=agent)
    if state:
        qs = qs.filter(state=state)
    return list(qs.select_related("agent").order_by("-date_from", "-id")[:limit])


def leave_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> LeaveRequest:
    lr = LeaveRequest.objects.filter(shop=shop, pk=id).select_related("agent").first()
    if lr is None or not may_see(member, lr.agent):
        raise Http404("leave request")
    return lr


def leave_pending_count(*, shop: Shop, member: Agent | None) -> int:
    if member is not None and not supervises(member, member) and not member.has_role("supervisor"):
        return 0
    return LeaveRequest.objects.filter(shop=shop, state=RequestState.REQUESTED,
                                       agent__in=agents_visible(shop=shop, member=member)).count()


# ---------------------------------------------------------------- ledger

@dataclass
class PointsRow:
    agent: Agent
    points_left: Decimal
    deducted: Decimal
    deductions: int = 0
    warnings: list[PenaltyWarning] = field(default_factory=list)
    pending_appeals: int = 0


def points_overview(*, shop: Shop, member: Agent | None, month: dt.date, group: str = "") -> list[PointsRow]:
    """Every visible agent's points of a month (four queries), lowest first."""
    start = people_settings(shop).start_points
    agents = agents_visible(shop=shop, member=member).order_by("name", "id")
    if group:
        agents = agents.filter(group=group)
    agents = [a for a in agents if a.has_role("agent")]
    ids = [a.id for a in agents]
    months = {lm.agent_id: lm for lm in LedgerMonth.objects.filter(agent_id__in=ids, month=month)}
    rows = {a.id: PointsRow(agent=a, points_left=months[a.id].points_left if a.id in months else start,
                            deducted=months[a.id].deducted if a.id in months else Decimal("0")) for a in agents}
    for agent_id in PenaltyDeduction.objects.filter(agent_id__in=ids, month=month,
                                                    status=DeductionStatus.ACTIVE).values_list("agent_id", flat=True):
        rows[agent_id].deductions += 1
    for w in PenaltyWarning.objects.filter(agent_id__in=ids, month=month, withdrawn_at__isnull=True):
        rows[w.agent_id].warnings.append(w)
    for agent_id in PenaltyAppeal.objects.filter(agent_id__in=ids, state=AppealState.PENDING).values_list(
            "agent_id", flat=True):
        rows[agent_id].pending_appeals += 1
    return sorted(rows.values(), key=lambda r: (r.points_left, r.agent.name))


def deductions_for(*, shop: Shop, member: Agent | None, month: dt.date, agent: Agent | None = None,
                   include_void: bool = True) -> QuerySet[PenaltyDeduction]:
    qs = PenaltyDeduction.objects.filter(shop=shop, month=month,
                                         agent__in=agents_visible(shop=shop, member=member, include_inactive=True))
    if agent is not None:
        qs = qs.filter(agent=agent)
    if not include_void:
        qs = qs.filter(status=DeductionStatus.ACTIVE)
    return qs.select_related("agent", "appeal").order_by("agent__name", "day", "id")


def deduction_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> PenaltyDeduction:
    d = PenaltyDeduction.objects.filter(shop=shop, pk=id).select_related("agent").first()
    if d is None or not may_see(member, d.agent):
        raise Http404("deduction")
    return d


def appeals_for(*, shop: Shop, member: Agent | None, state: str | None = AppealState.PENDING,
                limit: int = 200) -> list[PenaltyAppeal]:
    qs = PenaltyAppeal.objects.filter(shop=shop, agent__in=agents_visible(shop=shop, member=member,
                                                                          include_inactive=True))
    if state:
        qs = qs.filter(state=state)
    return list(qs.select_related("deduction", "agent").order_by("-created_at", "-id")[:limit])


def appeal_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> PenaltyAppeal:
    a = PenaltyAppeal.objects.filter(shop=shop, pk=id).select_related("agent", "deduction").first()
    if a is None or not may_see(member, a.agent):
        raise Http404("appeal")
    return a


def warnings_for(*, shop: Shop, member: Agent | None, month: dt.date | None = None, agent: Agent | None = None,
                 limit: int = 200) -> list[PenaltyWarning]:
    qs = PenaltyWarning.objects.filter(shop=shop, agent__in=agents_visible(shop=shop, member=member,
                                                                           include_inactive=True))
    if month is not None:
        qs = qs.filter(month=month)
    if agent is not None:
        qs = qs.filter(agent=agent)
    return list(qs.select_related("agent").order_by("-month", "agent__name", "level")[:limit])


def month_close_of(*, shop: Shop, month: dt.date) -> MonthClose | None:
    return MonthClose.objects.filter(shop=shop, month=month).first()


def month_state(*, shop: Shop, month: dt.date) -> str:
    close = month_close_of(shop=shop, month=month)
    return close.state if close else MonthState.OPEN


def deductions_by_agent(rows) -> dict[int, list[PenaltyDeduction]]:
    out: dict[int, list[PenaltyDeduction]] = defaultdict(list)
    for d in rows:
        out[d.agent_id].append(d)
    return out


def month_range(month: dt.date) -> tuple[dt.date, dt.date]:
    return month, month_end(month)


UNSETTLED = Q(status=AttendanceStatus.PENDING)


# ---------------------------------------------------------------- commissions (WF-5)

def statements_for(*, shop: Shop, member: Agent | None, month: dt.date, group: str = "") -> list:
    """The month's commission statements of the agents the person may see, by agent name."""
    from .models import CommissionStatement

    qs = CommissionStatement.objects.filter(shop=shop, month=month,
                                            agent__in=agents_visible(shop=shop, member=member, include_inactive=True))
    if group:
        qs = qs.filter(group=group)
    return list(qs.select_related("agent").order_by("agent__name", "agent_id"))


def statement_get_for_user(*, shop: Shop, member: Agent | None, id: int):
    """A statement of this shop the person may see (theirs, their group's, or any for managers); 404 otherwise."""
    from .models import CommissionStatement

    st = CommissionStatement.objects.filter(shop=shop, pk=id).select_related("agent").first()
    if st is None or not may_see(member, st.agent):
        raise Http404("statement")
    return st


def statement_of(*, shop: Shop, agent: Agent, month: dt.date):
    from .models import CommissionStatement

    return CommissionStatement.objects.filter(shop=shop, agent=agent, month=month).first()


# ---------------------------------------------------------------- onboarding (WF-7)

def agents_in_probation(*, shop: Shop, day: dt.date) -> set[int]:
    """Ids of the agents who were new (in training or probation) on `day`: onboarding started by then and
    not decided before it. kefu.quality's sampler reads this to sample new agents more (QA-1)."""
    from .models import Onboarding

    return set(Onboarding.objects.filter(shop=shop, start_date__lte=day)
               .filter(Q(decided_on__isnull=True) | Q(decided_on__gt=day)).values_list("agent_id", flat=True))


def onboardings_q(member: Agent | None) -> Q:
    """What a person sees: their own onboarding, their mentees', and (supervisors) their groups'."""
    if member is None:
        return Q()
    from kefu.core.enums import Role

    mine = Q(agent=member) | Q(mentor=member)
    if member.has_role(Role.MANAGER, Role.ADMIN) or (member.has_role(Role.SUPERVISOR) and not member.group):
        return Q()  # (an empty Q would vanish from an OR: the whole shop is said explicitly)
    if member.has_role(Role.SUPERVISOR):
        return mine | Q(agent__group=member.group)
    return mine


def onboardings_for(*, shop: Shop, member: Agent | None, state: str | None = None) -> list:
    from django.db.models import Count

    from .models import Onboarding

    qs = Onboarding.objects.filter(shop=shop).filter(onboardings_q(member)).select_related("agent", "mentor")
    if state == "open":
        qs = qs.filter(state__in=("training", "probation"))
    elif state:
        qs = qs.filter(state=state)
    return list(qs.annotate(n_days_done=Count("days_done", distinct=True)).order_by("-start_date", "-id"))


def onboarding_get_for_user(*, shop: Shop, member: Agent | None, id: int):
    from .models import Onboarding

    o = Onboarding.objects.filter(shop=shop, pk=id).filter(onboardings_q(member)).select_related(
        "agent", "mentor", "decided_by").first()
    if o is None:
        raise Http404("onboarding")
    return o


def study_cases(*, shop: Shop, limit: int = 20) -> list:
    """Typical cases marked by reviewers (QA-2), newest first, as onboarding study material (SCR-3)."""
    from kefu.quality.selectors import cases_for_study

    return cases_for_study(shop=shop)[:limit]
