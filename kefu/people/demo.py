"""Demo data of people management, made through the services and deterministic from the seed: a month
of clocks for every rostered agent (mostly on time, a few late days, one absence over 30 minutes, one
unauthorised absence, one forgotten clock-out), leave and 调休 approved beforehand, a supervisor's
manual deduction and an appeal, a commission plan, the month before the current one closed and locked
(with its commission statements) and this month's statements so far."""

import datetime as dt
import random

from kefu.core.enums import Role
from kefu.core.models import Agent, Shop
from kefu.workforce.models import RosterEntry

from . import attendance, ledger
from .close import month_close, month_lock
from .enums import DeductionStatus
from .models import PenaltyDeduction
from .months import month_start, prev_month, shop_today
from .pay import commission_plan_set, commission_recompute


def _staff(shop: Shop) -> tuple[list[Agent], Agent | None, Agent | None]:
    people = list(Agent.objects.filter(shop=shop, active=True).order_by("name", "id"))
    agents = [a for a in people if a.has_role(Role.AGENT)]
    supervisor = next((a for a in people if a.has_role(Role.SUPERVISOR)), None)
    manager = next((a for a in people if a.has_role(Role.MANAGER)), None)
    return agents, supervisor, manager


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    rnd = random.Random(seed * 53 + 9)
    agents, supervisor, manager = _staff(shop)
    if not agents or supervisor is None or manager is None:
        return
    entries = list(RosterEntry.objects.filter(shop=shop, agent__in=agents, date__gte=date_from, date__lte=date_to)
                   .select_related("agent").order_by("date", "starts_at"))
    if not entries:
        return
    leave_days = _leave_days(rnd, agents, entries)
    skip = set(leave_days)
    absent = entries[len(entries) // 3]  # one unauthorised absence: no clock at all
    skip.add((absent.agent_id, absent.date))
    by_day: dict[dt.date, list[dict]] = {}
    for i, e in enumerate(entries):
        if (e.agent_id, e.date) in skip:
            continue
        roll = rnd.random()
        late = rnd.randint(2, 18) if roll < 0.06 else (rnd.randint(31, 50) if i == len(entries) // 2 else 0)
        arrive = e.starts_at + dt.timedelta(minutes=late, seconds=rnd.randint(0, 50)) if late else (
            e.starts_at - dt.timedelta(minutes=rnd.randint(1, 12), seconds=rnd.randint(0, 59)))
        clocks = by_day.setdefault(e.date, [])
        clocks.append({"agent": e.agent, "kind": "in", "at": arrive, "request_id": f"demo-{e.id}-in"})
        if i != len(entries) // 4:  # that one forgot to clock out: counts as a rest day
            leave_at = e.ends_at + dt.timedelta(minutes=rnd.randint(0, 15), seconds=rnd.randint(0, 59))
            clocks.append({"agent": e.agent, "kind": "out", "at": leave_at, "request_id": f"demo-{e.id}-out"})
    # Day by day, as it happened: leave approved the day before, then the day's clocks.
    created = 0
    for day in sorted(by_day.keys() | {d for _a, d in leave_days}):
        for (_aid, leave_day), agent in sorted(leave_days.items()):
            if leave_day == day + dt.timedelta(days=1):
                _leave(shop, rnd, supervisor, agent, leave_day)
        clocks = by_day.get(day, [])
        if clocks:
            now = max(c["at"] for c in clocks) + dt.timedelta(hours=3)
            created += attendance.attendance_clock_batch(shop=shop, clocks=clocks, now=now)[0]
    for m in sorted({month_start(e.date) for e in entries}):
        attendance.attendance_recompute(shop=shop, month=m)
    _manual(shop, rnd, agents, supervisor, date_to)
    _plan(shop, manager)
    trainee = _onboarding(shop, agents, supervisor, date_to)
    closed = _close_last_month(shop, supervisor, manager)
    statements = commission_recompute(shop=shop, month=month_start(shop_today(shop)))
    say(f"{created} clock events, {len(leave_days)} leave days, attendance and points"
        + (f"; {closed:%Y-%m} closed and locked" if closed else "") + f"; {statements} commission statements"
        + (f"; {trainee} in probation" if trainee else ""))


def _leave_days(rnd, agents, entries) -> dict:
    """(agent id, day) → agent, for a few agents who take 调休 or leave one day of the month."""
    by_agent: dict[int, list] = {}
    for e in entries:
        by_agent.setdefault(e.agent_id, []).append(e.date)
    out = {}
    for agent in rnd.sample(agents, min(4, len(agents))):
        days = by_agent.get(agent.id, [])
        if len(days) >= 10:
            out[(agent.id, days[rnd.randint(3, len(days) - 3)])] = agent
    return out


def _leave(shop, rnd, supervisor, agent, day) -> None:
    kind = "rest_adjusted" if rnd.random() < 0.5 else "leave"
    lr = attendance.leave_request(shop=shop, agent=agent, kind=kind, date_from=day, date_to=day,
                                  reason=rnd.choice(["家里有事", "去医院复查", "搬家", "孩子开家长会"]), by=agent)
    before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(10), tzinfo=shop.tz)
    attendance.leave_transition(shop=shop, request=lr, to="approved", by=supervisor, now=before)


def _manual(shop, rnd, agents, supervisor, date_to) -> None:
    """One supervisor's deduction for unfinished daily work, and one late deduction appealed."""
    agent = agents[rnd.randrange(len(agents))]
    day = date_to - dt.timedelta(days=2)
    ledger.deduction_add(shop=shop, agent=agent, rule_code="unfinished_work", points="0.5", day=day,
                         reason="当天的退款单没有处理完", by=supervisor)
    late = (PenaltyDeduction.objects.filter(shop=shop, rule_code="late", status=DeductionStatus.ACTIVE,
                                            month=month_start(date_to)).order_by("day", "id").first())
    if late is not None:
        ledger.appeal_create(shop=shop, deduction=late, reason="地铁临时停运，有出站记录", by=late.agent)


def _onboarding(shop, agents, supervisor, date_to) -> str:
    """One new agent in probation with a mentor (师徒制): the 7 days done, the exam passed, mentor notes;
    the supervisor has not decided yet."""
    from . import onboarding as ob

    if len(agents) < 2:
        return ""
    trainee = agents[-1]
    same_group = [a for a in agents[:-1] if a.group == trainee.group]
    mentor = (same_group or agents[:-1])[0]
    start = max(shop_today(shop) - dt.timedelta(days=12), date_to - dt.timedelta(days=12))
    at = dt.datetime.combine(start, dt.time(18), tzinfo=shop.tz)
    o = ob.onboarding_start(shop=shop, agent=trainee, mentor=mentor, start_date=start, by=supervisor, now=at)
    notes = ["品牌故事记得很熟", "能说出三条核心价值观", "主推款的尺码推荐还要练", "面料问题回答准确",
             "禁用词测验全对", "催付话术背熟了", "跟岗接待 30 位买家，语气亲切"]
    for day_no, note in enumerate(notes, start=1):
        moment = at + dt.timedelta(days=day_no - 1)
        ob.onboarding_day_done(shop=shop, onboarding=o, day_no=day_no, note=note, by=trainee, now=moment)
        if day_no in (3, 7):
            ob.onboarding_note(shop=shop, onboarding=o, text=f"第{day_no}天带教：{note}", by=mentor, now=moment)
    ob.onboarding_exam_record(shop=shop, onboarding=o, score="86", note="笔试 + 模拟接待",
                              taken_on=start + dt.timedelta(days=7), by=supervisor, now=at + dt.timedelta(days=7))
    return trainee.name


def _plan(shop, manager) -> None:
    """A progressive commission plan with 金牌/银牌/铜牌 by KPI score and less for few points left."""
    commission_plan_set(shop=shop, by=manager, mode="progressive",
                        tiers=[["0", "1"], ["20000", "1.5"], ["50000", "2"]], floor="0",
                        kpi_tiers=[["90", "1.2", "金牌"], ["80", "1.1", "银牌"], ["70", "1", "铜牌"]],
                        points_tiers=[["-100", "0.8"], ["6", "1"]])


def _close_last_month(shop, supervisor, manager) -> dt.date | None:
    last = prev_month(month_start(shop_today(shop)))
    if not RosterEntry.objects.filter(shop=shop, date__gte=last, date__lt=month_start(shop_today(shop))).exists():
        return None
    month_close(shop=shop, month=last, by=supervisor)
    month_lock(shop=shop, month=last, by=manager)
    return last
