"""More demo data of people management (after kefu.people.demo): the account handover of seed 001 (an
agent moved to another post hands her 客服号's buyers and open work to the new agent in probation, who
has greeted the first few), typing tests and bonuses (added by their parts below)."""

import datetime as dt

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
