"""Bonuses and incentives under /api/v1/ (WF-5): special bonuses (propose, decide), ranking rules and
their awards, the 惊喜 wish list."""

import datetime as dt
from decimal import Decimal

from ninja import Router, Schema, Status

from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, NotFound

from .. import bonus as services
from ..access import require_supervisor
from ..models import RankingAward, RankingRule
from .common import actor_of, agent_of, month_of

router = Router(tags=["bonuses"], auth=AUTH)


class BonusIn(Schema):
    agent_id: int
    kind: str
    amount: Decimal
    reason: str
    month: str | None = None  # YYYY-MM, default this month
    case_id: int | None = None
    request_id: str = ""


class BonusDecisionIn(Schema):
    approve: bool
    note: str = ""


class BonusOut(Schema):
    id: int
    agent_id: int
    agent: str
    kind: str
    amount: Decimal
    reason: str
    month: str
    case_id: int | None
    state: str
    proposed_by: str
    decided_by: str
    decided_at: dt.datetime | None
    decision_note: str
    created: bool = False


class RankingRuleIn(Schema):
    name: str
    metric: str
    amounts: list[Decimal]
    group: str = ""
    active: bool = True


class RankingRuleOut(Schema):
    id: int
    name: str
    metric: str
    group: str
    amounts: list[str]
    active: bool


class RankingAwardIn(Schema):
    month: str


class RankingAwardOut(Schema):
    rule_id: int
    rule: str
    month: str
    pay_month: str
    agent_id: int
    agent: str
    rank: int
    value: Decimal
    amount: Decimal


class WishIn(Schema):
    text: str
    agent_id: int | None = None  # a supervisor records a wish for an agent


class WishGrantIn(Schema):
    granted_for: str


class WishOut(Schema):
    id: int
    agent_id: int
    agent: str
    text: str
    state: str
    granted_for: str
    granted_at: dt.datetime | None


def bonus_out(b, created: bool = False) -> dict:
    return {"id": b.id, "agent_id": b.agent_id, "agent": b.agent.name, "kind": b.kind, "amount": b.amount,
            "reason": b.reason, "month": b.month.strftime("%Y-%m"), "case_id": b.case_id, "state": b.state,
            "proposed_by": b.proposed_label, "decided_by": b.decided_label, "decided_at": b.decided_at,
            "decision_note": b.decision_note, "created": created}


def award_out(a) -> dict:
    return {"rule_id": a.rule_id, "rule": a.rule.name, "month": a.month.strftime("%Y-%m"),
            "pay_month": a.pay_month.strftime("%Y-%m"), "agent_id": a.agent_id, "agent": a.agent.name, "rank": a.rank,
            "value": a.value, "amount": a.amount}


def wish_out(w) -> dict:
    return {"id": w.id, "agent_id": w.agent_id, "agent": w.agent.name, "text": w.text, "state": w.state,
            "granted_for": w.granted_for, "granted_at": w.granted_at}


def rule_out(r) -> dict:
    return {"id": r.id, "name": r.name, "metric": r.metric, "group": r.group, "amounts": r.amounts, "active": r.active}


@router.get("/bonuses", response=list[BonusOut])
def bonuses_get(request, shop: str | None = None, month: str | None = None):
    """Special bonuses the person sees (own; supervisors their groups), by the month that pays them."""
    shop_obj, member = request.auth.shop_for(shop)
    rows = services.bonuses_for(shop=shop_obj, member=member, month=month_of(shop_obj, month) if month else None)
    return [bonus_out(b) for b in rows[:500]]


@router.post("/bonuses", response={200: BonusOut, 201: BonusOut})
def bonus_post(request, payload: BonusIn, shop: str | None = None):
    """The agent's supervisor proposes a special bonus (002 §四.2), optionally naming the after-sales case."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, payload.agent_id)
    b, created = services.bonus_propose(
        shop=shop_obj, agent=agent, kind=payload.kind, amount=payload.amount, reason=payload.reason,
        month=month_of(shop_obj, payload.month) if payload.month else None, case_id=payload.case_id,
        request_id=payload.request_id, by=member, actor=actor_of(request))
    return Status(201 if created else 200, bonus_out(b, created))


@router.post("/bonuses/{bonus_id}/decision", response=BonusOut)
def bonus_decision(request, bonus_id: int, payload: BonusDecisionIn, shop: str | None = None):
    """A manager other than the proposer approves or rejects, once (then 409 already_decided)."""
    shop_obj, member = request.auth.shop_for(shop)
    b = services.bonus_get_for_user(shop=shop_obj, member=member, id=bonus_id)
    return bonus_out(services.bonus_decide(shop=shop_obj, bonus=b, approve=payload.approve, note=payload.note,
                                           by=member, actor=actor_of(request)))


@router.get("/ranking-rules", response=list[RankingRuleOut])
def ranking_rules_get(request, shop: str | None = None):
    shop_obj, _member = request.auth.shop_for(shop)
    return [rule_out(r) for r in RankingRule.objects.filter(shop=shop_obj)]


@router.post("/ranking-rules", response=RankingRuleOut)
def ranking_rule_post(request, payload: RankingRuleIn, shop: str | None = None):
    """A manager creates or changes (by name) a rule: the top len(amounts) by metric get the amounts."""
    shop_obj, member = request.auth.shop_for(shop)
    return rule_out(services.ranking_rule_set(shop=shop_obj, by=member, name=payload.name, metric=payload.metric,
                                              amounts=[str(a) for a in payload.amounts], group=payload.group,
                                              active=payload.active, actor=actor_of(request)))


@router.post("/ranking-rules/{rule_id}/award", response={201: list[RankingAwardOut]})
def ranking_award_post(request, rule_id: int, payload: RankingAwardIn, shop: str | None = None):
    """A manager awards a finished month's places, once (again: 409 already_done)."""
    shop_obj, member = request.auth.shop_for(shop)
    rule = RankingRule.objects.filter(shop=shop_obj, pk=rule_id).first()
    if rule is None:
        raise NotFound("no such ranking rule", field="rule_id")
    rows = services.ranking_award(shop=shop_obj, rule=rule, month=month_of(shop_obj, payload.month), by=member,
                                  actor=actor_of(request))
    rows = RankingAward.objects.filter(pk__in=[r.pk for r in rows]).select_related("rule", "agent")
    return Status(201, [award_out(a) for a in rows])


@router.get("/ranking-awards", response=list[RankingAwardOut])
def ranking_awards_get(request, shop: str | None = None, month: str | None = None):
    """A month's places (published to the team: seed 001 排名公布)."""
    shop_obj, _member = request.auth.shop_for(shop)
    rows = RankingAward.objects.filter(shop=shop_obj, month=month_of(shop_obj, month)).select_related("rule", "agent")
    return [award_out(a) for a in rows]


@router.get("/wishes", response=list[WishOut])
def wishes_get(request, shop: str | None = None):
    """Wishes are private: an agent sees their own, a supervisor their groups'."""
    shop_obj, member = request.auth.shop_for(shop)
    return [wish_out(w) for w in services.wishes_for(shop=shop_obj, member=member)[:500]]


@router.post("/wishes", response={201: WishOut})
def wish_post(request, payload: WishIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, payload.agent_id) if payload.agent_id is not None else member
    if agent is None:
        raise KefuError("name the agent", field="agent_id")
    return Status(201, wish_out(services.wish_add(shop=shop_obj, agent=agent, text=payload.text, by=member,
                                                  actor=actor_of(request))))


@router.post("/wishes/{wish_id}/grant", response=WishOut)
def wish_grant_post(request, wish_id: int, payload: WishGrantIn, shop: str | None = None):
    """The agent's supervisor grants the wish as a reward, once."""
    shop_obj, member = request.auth.shop_for(shop)
    w = services.wish_get_for_user(shop=shop_obj, member=member, id=wish_id)
    require_supervisor(member)
    return wish_out(services.wish_grant(shop=shop_obj, wish=w, granted_for=payload.granted_for, by=member,
                                        actor=actor_of(request)))


@router.post("/wishes/{wish_id}/withdraw", response=WishOut)
def wish_withdraw_post(request, wish_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    w = services.wish_get_for_user(shop=shop_obj, member=member, id=wish_id)
    return wish_out(services.wish_withdraw(shop=shop_obj, wish=w, by=member))
