"""Demo daily sales reports: made by the same service the scheduler runs for the last DAYS finished shop
days; the agents signed all but the most recent ones (a few with a comment), so a supervisor sees
who has not signed yet."""

import datetime as dt
import random

from kefu.core.models import Agent, Shop
from kefu.core.timeutil import shop_day

from .daily import daily_report_sign, daily_reports_generate
from .models import DailyReport

DAYS = 10
NOTES = ("一位买家要求改地址，已备注", "有一单是老客户回购", "下午咨询多，转化偏低", "")


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    from django.utils import timezone

    rnd = random.Random(seed * 61 + 6)
    today = shop_day(timezone.now(), shop.tz)
    last = min(date_to, today - dt.timedelta(days=1))
    first = max(date_from, last - dt.timedelta(days=DAYS - 1))
    day, made = first, 0
    while day <= last:
        morning = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(1, 30), tzinfo=shop.tz)
        made += daily_reports_generate(shop=shop, day=day, now=morning)
        day += dt.timedelta(days=1)
    agents = {a.id: a for a in Agent.objects.filter(shop=shop)}
    signed = 0
    for r in DailyReport.objects.filter(shop=shop, day__gte=first, day__lte=last).order_by("day", "agent_id"):
        if r.day == last and rnd.random() < 0.6:  # yesterday: not everyone has signed yet
            continue
        at = min(timezone.now(), dt.datetime.combine(r.day + dt.timedelta(days=1), dt.time(9, rnd.randint(5, 55)),
                                                     tzinfo=shop.tz))
        note = rnd.choice(NOTES) if rnd.random() < 0.25 else ""
        daily_report_sign(shop=shop, report_id=r.id, by=agents[r.agent_id], note=note, now=at)
        signed += 1
    say(f"daily sales reports: {made} made over {first} … {last}, {signed} signed")
    _reports_up(shop, rnd, today, say)


def _reports_up(shop: Shop, rnd: random.Random, today: dt.date, say) -> None:
    """Yesterday's, last week's and last month's department reports (the week's with the supervisor's
    problems and measures), and last month's monthly work reports: one answered, one waiting."""
    from django.utils import timezone

    from kefu.core.enums import Role

    from .dept import (
        agent_month_report_answer,
        agent_month_report_submit,
        agent_month_reports_prepare,
        dept_report_write,
        dept_reports_due,
    )
    from .models import AgentMonthReport

    people = list(Agent.objects.filter(shop=shop, active=True).order_by("name", "id"))
    supervisor = next((a for a in people if a.has_role(Role.SUPERVISOR)), None)
    made = dept_reports_due(shop=shop, now=timezone.now())
    week = next((r for r in made if r.period == "week"), None)
    if week is not None and supervisor is not None:
        dept_report_write(shop=shop, report_id=week.id, by=supervisor,
                          problems="周末咨询高峰时首次响应变慢；两起物流投诉集中在同一快递网点。",
                          measures="周末加排一名售前；与仓库约定该网点改发顺丰，下周复查投诉数。")
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    prepared = agent_month_reports_prepare(shop=shop, month=last_month)
    reports = list(AgentMonthReport.objects.filter(shop=shop, month=last_month).select_related("agent")
                   .order_by("agent__name"))
    for i, r in enumerate(reports[:2]):
        agent_month_report_submit(shop=shop, report_id=r.id, by=r.agent,
                                  analysis="本月询单转化率比上月提高；晚班响应偏慢，下月注意交接班前清空未回复。")
        if i == 0 and supervisor is not None:
            agent_month_report_answer(shop=shop, report_id=r.id, by=supervisor,
                                      reply="分析到位。下月把催付话术再练熟，目标转化率再提高 2 个百分点。")
    say(f"reports up: {len(made)} department reports, {prepared} monthly work reports")
