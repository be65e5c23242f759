"""Who reads which report: an agent their own, a supervisor their group's (kefu.people.access), managers all.
The department report is for supervisors and managers."""

import datetime as dt

from django.http import Http404

from kefu.core.models import Agent, Shop
from kefu.people.access import agents_visible, is_supervisor, may_see

from .enums import DailyState
from .models import AgentMonthReport, DailyReport, DeptReport


def daily_reports_for(*, shop: Shop, member: Agent | None, day: dt.date | None = None,
                      date_from: dt.date | None = None, date_to: dt.date | None = None,
                      agent_id: int | None = None, state: str = "", group: str = "") -> list[DailyReport]:
    qs = DailyReport.objects.filter(shop=shop, agent__in=agents_visible(shop=shop, member=member,
                                                                         include_inactive=True))
    if day is not None:
        qs = qs.filter(day=day)
    if date_from is not None:
        qs = qs.filter(day__gte=date_from)
    if date_to is not None:
        qs = qs.filter(day__lte=date_to)
    if agent_id is not None:
        qs = qs.filter(agent_id=agent_id)
    if state == "changed":
        qs = qs.filter(changed=True)
    elif state in DailyState.values:
        qs = qs.filter(state=state)
    if group:
        qs = qs.filter(group=group)
    return list(qs.select_related("agent").order_by("-day", "agent__name"))


def daily_report_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> DailyReport:
    row = DailyReport.objects.select_related("agent").filter(shop=shop, pk=id).first()
    if row is None or not may_see(member, row.agent):
        raise Http404("daily report")
    return row


def dept_report_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> DeptReport:
    row = DeptReport.objects.filter(shop=shop, pk=id).first()
    if row is None or not is_supervisor(member):
        raise Http404("department report")
    return row


def month_reports_for(*, shop: Shop, member: Agent | None, month: dt.date | None = None) -> list[AgentMonthReport]:
    qs = AgentMonthReport.objects.filter(shop=shop, agent__in=agents_visible(shop=shop, member=member,
                                                                              include_inactive=True))
    if month is not None:
        qs = qs.filter(month=month)
    return list(qs.select_related("agent", "replied_by").order_by("-month", "agent__name"))


def month_report_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> AgentMonthReport:
    row = AgentMonthReport.objects.select_related("agent", "replied_by").filter(shop=shop, pk=id).first()
    if row is None or not may_see(member, row.agent):
        raise Http404("month report")
    return row
