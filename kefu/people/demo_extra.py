"""More demo data of people management (after kefu.people.demo): the account handover of seed 001 (an
agent moved to another post hands her 客服号's buyers and open work to the new agent in probation, who
has greeted the first few), typing tests and bonuses (added by their parts below)."""

import datetime as dt
import random

from django.utils import timezone

from kefu.core.enums import Role
from kefu.core.models import Agent, Shop

from .models import HandoverItem, Onboarding


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    people = list(Agent.objects.filter(shop=shop, active=True).order_by("name", "id"))
    supervisor = next((a for a in people if a.has_role(Role.SUPERVISOR)), None)
    if supervisor is None:
        return
    name = _handover(shop, people, supervisor, date_to)
    if name:
        say(f"account handover to {name}")
    say(f"{_typing(shop, people, supervisor, seed, date_from, date_to)} typing results")
    _rewards(shop, people, supervisor)


def _handover(shop, people, supervisor, date_to) -> str:
    from . import handover as ho

    o = Onboarding.objects.filter(shop=shop).select_related("agent", "mentor").order_by("id").first()
    if o is None:
        return ""
    trainee = o.agent
    former = next((a for a in reversed(people) if a.has_role(Role.AGENT) and a.group == trainee.group
                   and a.pk not in (trainee.pk, o.mentor_id)), None)
    if former is None:
        return ""
    now = timezone.now()
    at = min(dt.datetime.combine(date_to, dt.time(21), tzinfo=shop.tz), now - dt.timedelta(hours=2))
    h, _ = ho.handover_run(shop=shop, from_agent=former, to_agent=trainee, by=supervisor, accounts=False,
                           reason=f"{former.name}调往售后组，她的老客户交给新人{trainee.name}跟进", now=at)
    first = list(HandoverItem.objects.filter(handover=h, kind="buyer").order_by("-last_contact_at", "id")
                 .values_list("pk", flat=True)[:5])
    if first:
        ho.handover_greeted(shop=shop, handover=h, item_ids=first, by=trainee, now=at + dt.timedelta(hours=1))
    return trainee.name


def _typing(shop, people, supervisor, seed, date_from, date_to) -> int:
    """Seed 000: weekly practice (the agent records it) and a monthly test (the supervisor), most agents a
    little faster each month, one slower."""
    from .months import month_start, prev_month, shop_today
    from .typing_results import typing_record

    rnd = random.Random(seed * 31 + 7)
    today = min(date_to, shop_today(shop))
    texts = ["退换货流程", "尺码推荐话术", "面料与洗涤", "催付话术", "平台规则"]
    agents = [a for a in people if a.has_role(Role.AGENT)]
    n = 0
    for i, a in enumerate(agents):
        base, step = rnd.randint(55, 95), (-4 if i == 1 else rnd.randint(1, 6))
        day = max(date_from, today - dt.timedelta(days=62))
        while day <= today:  # one practice a week, on the agent's own weekday
            if day.weekday() == i % 5:
                months_back = (month_start(today).year - day.year) * 12 + month_start(today).month - day.month
                speed = base + step * (3 - months_back) + rnd.randint(-5, 5)
                typing_record(shop=shop, agent=a, kind="practice", taken_on=day, speed=max(speed, 20),
                              accuracy=f"{rnd.uniform(94, 99.5):.2f}", text=rnd.choice(texts), by=a)
                n += 1
            day += dt.timedelta(days=1)
        month = month_start(today)
        for back in range(3):  # the month's test on its 25th (this month only once the day has come)
            test_day = month.replace(day=25)
            if date_from <= test_day <= today:
                typing_record(shop=shop, agent=a, kind="test", taken_on=test_day, by=supervisor,
                              speed=max(base + step * (3 - back) + rnd.randint(-2, 2), 20),
                              accuracy=f"{rnd.uniform(95, 99.5):.2f}", text="月度测试：商品知识")
                n += 1
            month = prev_month(month)
    return n


def _rewards(shop, people, supervisor) -> None:
    """A special bonus approved this month and one waiting for the manager; a ranking rule (sales top 3)
    awarded for last month (locked by the people demo, so paid in this month's statement); wishes, one granted."""
    from kefu.aftersales.models import Case

    from . import bonus as bo
    from .months import month_start, prev_month, shop_today

    manager = next((a for a in people if a.has_role(Role.MANAGER)), None)
    agents = [a for a in people if a.has_role(Role.AGENT)]
    if manager is None or len(agents) < 3:
        return
    case = Case.objects.filter(shop=shop).order_by("id").first()
    b, _ = bo.bonus_propose(shop=shop, agent=agents[0], kind="loss_recovered", amount="200.00", by=supervisor,
                            reason="追回快递丢件赔偿，挽回损失", case_id=case.pk if case else None,
                            request_id="demo-bonus-1")
    bo.bonus_decide(shop=shop, bonus=b, approve=True, note="同意，按制度奖励", by=manager)
    bo.bonus_propose(shop=shop, agent=agents[1], kind="outstanding", amount="100.00", by=supervisor,
                     reason="本月好评率全组第一", request_id="demo-bonus-2")
    rule = bo.ranking_rule_set(shop=shop, by=manager, name="月度销售前三", metric="sales",
                               amounts=["300", "200", "100"])
    bo.ranking_rule_set(shop=shop, by=manager, name="打字进步奖", metric="typing", amounts=["50"])
    last = prev_month(month_start(shop_today(shop)))
    bo.ranking_award(shop=shop, rule=rule, month=last, by=manager)  # last month is locked: paid this month
    wishes = ["一天调休", "团队聚餐", "一本《顾客为什么购买》", "新的机械键盘"]
    for a, text in zip(agents, wishes, strict=False):
        w = bo.wish_add(shop=shop, agent=a, text=text, by=a)
        if a == agents[0]:
            bo.wish_grant(shop=shop, wish=w, granted_for="挽回快递丢件损失", by=supervisor)
