"""Bonuses and incentives (WF-5): special bonuses (seed 002 §四.2) proposed by the agent's supervisor and
approved once by a manager who did not propose them; ranking incentives for the top N of a month (rules a
manager edits; awarded once per rule and month); the 惊喜 wish list (seed 001).

Money: an approved bonus and a ranking award are lines of the statement of their pay month (BONUS /
RANKING), added by kefu.people.pay.commission_recompute. A locked month never changes: a bonus approved
for a locked month, or a ranking of a locked month, is paid in the first open month after it. Every
decision is taken under a row lock (two managers approving one bonus → one decision, the other 409) and
written to the audit log."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .access import label_of, require_manager, require_supervisor_of, supervises
from .enums import BonusKind, BonusState, PeopleError, RankingMetric, WishState
from .models import RankingAward, RankingRule, SpecialBonus, Wish
from .months import first_open_month_after, locked_months, month_end, month_start, shop_today

MAX_AMOUNT = Decimal("1000000")


def _money(value, *, field: str) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise KefuError(f"{field} must be an amount in yuan, got {value!r}", field=field) from None
    if not d.is_finite() or d <= 0 or d > MAX_AMOUNT:
        raise KefuError(f"{field} must be more than 0 and at most {MAX_AMOUNT}", field=field)
    if d != d.quantize(Decimal("0.01")):
        raise KefuError(f"{field} has at most two decimals (fen)", field=field)
    return d


def pay_month_for(shop: Shop, month: dt.date) -> dt.date:
    """The month whose statement pays something of `month`: itself, or the first open month after it."""
    month = month_start(month)
    return first_open_month_after(shop, month) if month in locked_months(shop) else month


def _recompute(shop: Shop, month: dt.date) -> None:
    from .pay import commission_recompute

    commission_recompute(shop=shop, month=month)


# ---------------------------------------------------------------- special bonuses

def bonus_propose(*, shop: Shop, agent: Agent, kind: str, amount, reason: str, by: Agent | None, actor=None,
                  month: dt.date | None = None, case_id: int | None = None, request_id: str = "",
                  now: dt.datetime | None = None) -> tuple[SpecialBonus, bool]:
    """The agent's supervisor proposes a bonus; returns (bonus, created) — a repeated request id gives the first."""
    from kefu.aftersales.models import Case

    if agent.shop_id != shop.pk:
        raise NotFound("no such agent in this shop", field="agent_id")
    require_supervisor_of(by, agent)
    if kind not in BonusKind.values:
        raise KefuError(f"kind must be one of {', '.join(BonusKind.values)}", field="kind")
    amount_d = _money(amount, field="amount")
    reason = clean_text(reason, field="reason", max_len=500, required=True, required_message="a bonus needs a reason")
    request_id = clean_text(request_id, field="request_id", max_len=64)
    case = None
    if case_id is not None:
        case = Case.objects.filter(shop=shop, pk=case_id).first()
        if case is None:
            raise NotFound("no such after-sales case in this shop", field="case_id")
    now = now or timezone.now()
    asked = month_start(month or shop_today(shop, now))
    if asked > month_start(shop_today(shop, now)):
        raise KefuError("a bonus cannot be for a month still to come", field="month")
    if request_id:
        seen = SpecialBonus.objects.filter(shop=shop, request_id=request_id).first()
        if seen is not None:
            if (seen.agent_id, seen.amount, seen.kind) != (agent.pk, amount_d, kind):
                raise KefuError("this request id was used for another bonus", field="request_id",
                                code=PeopleError.REUSED)
            return seen, False
    try:
        with transaction.atomic():
            b = SpecialBonus.objects.create(
                shop=shop, agent=agent, kind=kind, amount=amount_d, reason=reason, month=pay_month_for(shop, asked),
                case=case, proposed_by=by, proposed_label=label_of(by, actor), request_id=request_id, created_at=now)
            audit_record(shop=shop, actor=actor, action="people.bonus.propose", entity=b,
                         after={"agent": agent.name, "kind": kind, "amount": str(amount_d), "reason": reason,
                                "month": b.month.isoformat(), "case": case.pk if case else None})
    except IntegrityError:
        return SpecialBonus.objects.get(shop=shop, request_id=request_id), False
    return b, True


def bonus_decide(*, shop: Shop, bonus: SpecialBonus, approve: bool, note: str = "", by: Agent | None, actor=None,
                 now: dt.datetime | None = None) -> SpecialBonus:
    """A manager who did not propose it approves or rejects a bonus, once (409 already_decided after).
    Approved, it is paid by the statement of its month — the first open month when that one is locked."""
    require_manager(by)
    note = clean_text(note, field="note", max_len=500, required=not approve,
                      required_message="a rejection needs a reason")
    now = now or timezone.now()
    with transaction.atomic():
        b = SpecialBonus.objects.select_for_update().get(pk=bonus.pk)
        if b.state != BonusState.PROPOSED:
            raise KefuError(f"this bonus was {b.state} already", field="state", code=PeopleError.DECIDED)
        if by is not None and b.proposed_by_id == by.pk:
            raise PermissionDenied("a bonus is approved by another manager than the one who proposed it",
                                   code="own_request")
        before = {"state": b.state, "month": b.month.isoformat()}
        b.state = BonusState.APPROVED if approve else BonusState.REJECTED
        b.decided_by, b.decided_label, b.decided_at, b.decision_note = by, label_of(by, actor), now, note
        if approve:
            b.month = pay_month_for(shop, b.month)
        b.save(update_fields=["state", "decided_by", "decided_label", "decided_at", "decision_note", "month"])
        audit_record(shop=shop, actor=actor, action="people.bonus." + ("approve" if approve else "reject"), entity=b,
                     before=before, after={"state": b.state, "month": b.month.isoformat(), "amount": str(b.amount),
                                           "agent": b.agent.name, "note": note})
        if approve:
            _recompute(shop, b.month)
    return b


def bonuses_for(*, shop: Shop, member: Agent | None, month: dt.date | None = None):
    from .access import agents_visible

    qs = SpecialBonus.objects.filter(shop=shop).select_related("agent", "case")
    qs = qs.filter(agent__in=agents_visible(shop=shop, member=member, include_inactive=True).values("pk"))
    return qs.filter(month=month) if month is not None else qs


def bonus_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> SpecialBonus:
    from django.http import Http404

    b = bonuses_for(shop=shop, member=member).filter(pk=id).first()
    if b is None:
        raise Http404("bonus")
    return b


# ---------------------------------------------------------------- ranking incentives

def ranking_rule_set(*, shop: Shop, by: Agent | None, name: str, metric: str, amounts: list, group: str = "",
                     active: bool = True, actor=None) -> RankingRule:
    """Create or change (by name) a ranking rule: the top len(amounts) by the metric get the amounts."""
    require_manager(by)
    name = clean_text(name, field="name", max_len=60, required=True)
    if metric not in RankingMetric.values:
        raise KefuError(f"metric must be one of {', '.join(RankingMetric.values)}", field="metric")
    if not isinstance(amounts, list) or not 1 <= len(amounts) <= 20:
        raise KefuError("amounts: 1 to 20 amounts, the first place's first", field="amounts")
    clean = [_money(a, field=f"amounts[{i}]") for i, a in enumerate(amounts)]
    group = clean_text(group, field="group", max_len=40)
    with transaction.atomic():
        rule = RankingRule.objects.select_for_update().filter(shop=shop, name=name).first()
        before = None
        if rule is None:
            rule = RankingRule(shop=shop, name=name)
        else:
            before = {"metric": rule.metric, "amounts": rule.amounts, "group": rule.group, "active": rule.active}
        rule.metric, rule.amounts, rule.group, rule.active = metric, [str(a) for a in clean], group, bool(active)
        rule.save()
        audit_record(shop=shop, actor=actor, action="people.ranking_rule.set", entity=rule, before=before,
                     after={"name": name, "metric": metric, "amounts": rule.amounts, "group": group,
                            "active": rule.active})
    return rule


def ranking_places(values: dict[int, Decimal], n: int) -> list[tuple[int, int, Decimal]]:
    """(agent id, rank, value) of the places 1..n, best first: ties share a rank and the next rank is
    skipped (1, 2, 2, 4); only values above zero are ranked."""
    ranked = sorted(((v, a) for a, v in values.items() if v is not None and v > 0), key=lambda t: (-t[0], t[1]))
    out, rank = [], 0
    for i, (v, a) in enumerate(ranked):
        if i == 0 or v != ranked[i - 1][0]:
            rank = i + 1
        if rank > n:
            break
        out.append((a, rank, v))
    return out


def ranking_values(*, shop: Shop, rule: RankingRule, month: dt.date) -> dict[int, Decimal]:
    """The metric per agent of the rule's group for the month, from the code the other pages use:
    the statements' credited sales (pay._credits), the KPI score (pay._kpi_scores), typing progress."""
    from kefu.core.enums import Role

    from . import pay_calc as P
    from .pay import _credits, _kpi_scores
    from .typing_results import typing_month

    agents = {a.pk: a for a in Agent.objects.filter(shop=shop) if a.has_role(Role.AGENT)
              and (not rule.group or a.group == rule.group)}
    if rule.metric == RankingMetric.SALES:
        values = {aid: sum((P.order_net(c.paid_amount, c.refund_amount, c.taken_back) for c in cs), Decimal(0))
                  for aid, cs in _credits(shop, month).items()}
    elif rule.metric == RankingMetric.KPI_SCORE:
        values = _kpi_scores(shop, month, month_end(month))
    else:
        values = {a.pk: f.change for a, f in typing_month(shop=shop, member=None, month=month)}
    return {aid: v for aid, v in values.items() if aid in agents and v is not None}


def ranking_award(*, shop: Shop, rule: RankingRule, month: dt.date, by: Agent | None, actor=None,
                  now: dt.datetime | None = None) -> list[RankingAward]:
    """Award a finished month's places of a rule, once (409 already_done after). Paid by the month's
    statement, or the first open month's when the month is locked."""
    require_manager(by)
    month = month_start(month)
    now = now or timezone.now()
    if month_end(month) >= shop_today(shop, now):
        raise KefuError("a month is ranked once it is over", field="month")
    with transaction.atomic():
        rule = RankingRule.objects.select_for_update().get(pk=rule.pk)
        if not rule.active:
            raise KefuError("this ranking rule is switched off", field="rule_id", code=PeopleError.STATE)
        if RankingAward.objects.filter(rule=rule, month=month).exists():
            raise KefuError(f"{rule.name} of {month:%Y-%m} was awarded already", field="month", code=PeopleError.DONE)
        amounts = [Decimal(a) for a in rule.amounts]
        pay_month = pay_month_for(shop, month)
        places = ranking_places(ranking_values(shop=shop, rule=rule, month=month), len(amounts))
        rows = RankingAward.objects.bulk_create([
            RankingAward(shop=shop, rule=rule, month=month, pay_month=pay_month, agent_id=a, rank=r, value=v,
                         amount=amounts[r - 1], metric=rule.metric, awarded_by_label=label_of(by, actor),
                         created_at=now) for a, r, v in places])
        audit_record(shop=shop, actor=actor, action="people.ranking.award", entity=rule,
                     after={"month": month.isoformat(), "pay_month": pay_month.isoformat(),
                            "places": [[a, r, str(v), str(amounts[r - 1])] for a, r, v in places]})
        if rows:
            _recompute(shop, pay_month)
    return rows


# ---------------------------------------------------------------- the wish list (惊喜)

def wish_add(*, shop: Shop, agent: Agent, text: str, by: Agent | None, actor=None) -> Wish:
    """The agent lists a wish (or their supervisor records it for them)."""
    if agent.shop_id != shop.pk:
        raise NotFound("no such agent in this shop", field="agent_id")
    if not (by is not None and by.pk == agent.pk):
        require_supervisor_of(by, agent)
    text = clean_text(text, field="text", max_len=200, required=True, required_message="write the wish")
    if Wish.objects.filter(shop=shop, agent=agent, state=WishState.OPEN).count() >= 10:
        raise KefuError("at most 10 open wishes", field="text")
    return Wish.objects.create(shop=shop, agent=agent, text=text)


def wish_withdraw(*, shop: Shop, wish: Wish, by: Agent | None) -> Wish:
    if not (by is not None and by.pk == wish.agent_id):
        require_supervisor_of(by, wish.agent)
    with transaction.atomic():
        w = Wish.objects.select_for_update().get(pk=wish.pk)
        if w.state != WishState.OPEN:
            raise KefuError(f"this wish is {w.state}", field="state", code=PeopleError.DECIDED)
        w.state = WishState.WITHDRAWN
        w.save(update_fields=["state"])
    return w


def wish_grant(*, shop: Shop, wish: Wish, granted_for: str, by: Agent | None, actor=None,
               now: dt.datetime | None = None) -> Wish:
    """The agent's supervisor grants a wish as a reward (once), saying what for."""
    require_supervisor_of(by, wish.agent)
    if by is not None and by.pk == wish.agent_id:
        raise PermissionDenied("a supervisor grants a wish of someone else", code=PeopleError.SUPERVISOR_ONLY)
    granted_for = clean_text(granted_for, field="granted_for", max_len=300, required=True,
                             required_message="say what the reward is for")
    now = now or timezone.now()
    with transaction.atomic():
        w = Wish.objects.select_for_update().get(pk=wish.pk)
        if w.state != WishState.OPEN:
            raise KefuError(f"this wish is {w.state}", field="state", code=PeopleError.DECIDED)
        w.state, w.granted_by, w.granted_at, w.granted_for = WishState.GRANTED, by, now, granted_for
        w.save(update_fields=["state", "granted_by", "granted_at", "granted_for"])
        audit_record(shop=shop, actor=actor, action="people.wish.grant", entity=w,
                     after={"agent": w.agent.name, "wish": w.text, "for": granted_for, "by": label_of(by, actor)})
        from django.urls import reverse

        from kefu.approvals.services import notify

        notify(shop=shop, recipients=[w.agent], text=f"你的心愿“{w.text}”实现了：{granted_for}",
               link=reverse("people:rewards"))
    return w


def wishes_for(*, shop: Shop, member: Agent | None):
    """Wishes are private: the agent's own, and their supervisors'."""
    from .access import agents_visible

    return Wish.objects.filter(shop=shop, agent__in=agents_visible(shop=shop, member=member).values("pk")
                               ).select_related("agent", "granted_by")


def wish_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> Wish:
    from django.http import Http404

    w = Wish.objects.filter(shop=shop, pk=id).select_related("agent").first()
    if w is None or not (member is not None and member.pk == w.agent_id or supervises(member, w.agent)):
        raise Http404("wish")
    return w
