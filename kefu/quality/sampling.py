"""Sampling of receptions for review (QA-1, seed 000: 每2-3天 聊天记录抽查, 低于平均回复率的着重抽查).

Each round draws, per agent who served buyers since the last round, `per_agent` receptions plus
extra ones when the agent is below the team's reply rate, has complaints, or is in probation.
Within an agent a reception's chance is proportional to 1 + flag_weight × its automatic flags
(weighted sampling without replacement, Efraimidis–Spirakis keys). A reception is never drawn
twice (unique per shop, agent, buyer, day). Each sample goes to a reviewer's queue: a supervisor
of the agent's group when there is one, else any supervisor, the least loaded first.
"""

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from kefu.core.enums import Role
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import shop_day
from kefu.metrics.models import Reception

from .enums import SampleState
from .flags import qa_settings
from .models import ConversationFlag, QaSample

EPOCH = dt.date(2020, 1, 6)  # a Monday: rounds fall every `every_days` days counted from it


def probation_agent_ids(*, shop: Shop, day: dt.date) -> set[int]:
    """Agents in probation on `day` (sampled more). The people app (issue 9, onboarding) owns
    probation; until its selector exists nobody is in probation here."""
    try:
        from kefu.people.selectors import agents_in_probation  # type: ignore[import-not-found]
    except ImportError:
        return set()
    return set(agents_in_probation(shop=shop, day=day))


@dataclass(frozen=True)
class Candidate:
    agent_id: int
    customer_id: int
    day: dt.date
    weight: int


def weighted_pick(candidates: list[Candidate], k: int, rng: random.Random) -> list[Candidate]:
    """k candidates without replacement, each with probability proportional to its weight at each
    draw (Efraimidis–Spirakis: the k largest u^(1/w))."""
    if k <= 0 or not candidates:
        return []
    keyed = sorted(((rng.random() ** (1.0 / c.weight), i) for i, c in enumerate(candidates)), reverse=True)
    return [candidates[i] for _, i in keyed[:k]]


def is_round_day(shop: Shop, day: dt.date) -> bool:
    return (day - EPOCH).days % max(1, qa_settings(shop).every_days) == 0


def sampling_plan(*, shop: Shop, round_day: dt.date, seed: int | str | None = None) -> list[tuple[Candidate, str]]:
    """What a round on `round_day` draws: (candidate, reasons), from receptions of the `every_days`
    days before it that were never sampled. Deterministic for a seed (default: shop and day)."""
    st = qa_settings(shop)
    date_from = round_day - dt.timedelta(days=st.every_days)
    date_to = round_day - dt.timedelta(days=1)
    recs = list(Reception.objects.filter(shop=shop, day__gte=date_from, day__lte=date_to, agent__active=True,
                                         agent__roles__contains=Role.AGENT)
                .values_list("agent_id", "customer_id", "day", "replied"))
    if not recs:
        return []
    taken = set(QaSample.objects.filter(shop=shop, day__gte=date_from, day__lte=date_to)
                .values_list("agent_id", "customer_id", "day"))
    flags = Counter()
    for agent_id, customer_id, day in ConversationFlag.objects.filter(
            shop=shop, day__gte=date_from, day__lte=date_to, agent__isnull=False).values_list(
            "agent_id", "customer_id", "day"):
        flags[(agent_id, customer_id, day)] += 1
    team_rate = sum(r[3] for r in recs) / len(recs)
    per_agent: dict[int, list] = defaultdict(list)
    for r in recs:
        per_agent[r[0]].append(r)
    complained = _complained(shop, date_from, date_to)
    probation = probation_agent_ids(shop=shop, day=round_day)
    rng = random.Random(seed if seed is not None else f"{shop.pk}:{round_day.isoformat()}")
    out = []
    for agent_id in sorted(per_agent):
        rows = per_agent[agent_id]
        k, reasons = st.per_agent, []
        if sum(r[3] for r in rows) / len(rows) < team_rate:
            k += st.extra_below_reply_rate
            reasons.append("below_reply_rate")
        if agent_id in complained:
            k += st.extra_complaints
            reasons.append("complaints")
        if agent_id in probation:
            k += st.extra_probation
            reasons.append("probation")
        cands = [Candidate(agent_id, cid, day, 1 + st.flag_weight * flags[(agent_id, cid, day)])
                 for _, cid, day, _ in sorted(rows, key=lambda r: (r[2], r[1])) if (agent_id, cid, day) not in taken]
        flagged_agent = any(c.weight > 1 for c in cands)
        for c in weighted_pick(cands, k, rng):
            out.append((c, ",".join(reasons + (["flags"] if flagged_agent and c.weight > 1 else []))))
    return out


def _complained(shop: Shop, date_from: dt.date, date_to: dt.date) -> set[int]:
    from kefu.complaints.enums import Verdict
    from kefu.complaints.models import AgentComplaint

    return set(AgentComplaint.objects.filter(shop=shop, day__gte=date_from, day__lte=date_to)
               .exclude(verdict=Verdict.REJECTED).values_list("agent_id", flat=True))


def reviewers_of(shop: Shop) -> list[Agent]:
    return [a for a in Agent.objects.filter(shop=shop, active=True).order_by("id")
            if a.has_role(Role.SUPERVISOR)] or \
        [a for a in Agent.objects.filter(shop=shop, active=True).order_by("id") if a.has_role(Role.MANAGER)]


def sampling_run(*, shop: Shop, round_day: dt.date | None = None, seed=None, now=None) -> list[QaSample]:
    """Draw a round and put each sample in a reviewer's queue. Idempotent: receptions drawn before
    (also by a concurrent run) are skipped."""
    now = now or timezone.now()
    round_day = round_day or shop_day(now, shop.tz)
    plan = sampling_plan(shop=shop, round_day=round_day, seed=seed)
    if not plan:
        return []
    reviewers = reviewers_of(shop)
    groups = dict(Agent.objects.filter(shop=shop).values_list("id", "group"))
    load = Counter(dict(QaSample.objects.filter(shop=shop, state=SampleState.PENDING, reviewer__isnull=False)
                        .values_list("reviewer").annotate(n=Count("id")).values_list("reviewer", "n")))
    rows = []
    for c, reasons in plan:
        pool = [r for r in reviewers if r.pk != c.agent_id]
        same = [r for r in pool if r.group and r.group == groups.get(c.agent_id)]
        pool = same or [r for r in pool if not r.group] or pool
        reviewer = min(pool, key=lambda r: (load[r.pk], r.pk)) if pool else None
        if reviewer is not None:
            load[reviewer.pk] += 1
        rows.append(QaSample(shop=shop, agent_id=c.agent_id, customer_id=c.customer_id, day=c.day, reviewer=reviewer,
                             round_day=round_day, weight=c.weight, reasons=reasons))
    with transaction.atomic():
        QaSample.objects.bulk_create(rows, ignore_conflicts=True)
    keys = {(r.agent_id, r.customer_id, r.day) for r in rows}
    return [s for s in QaSample.objects.filter(shop=shop, round_day=round_day).order_by("agent_id", "day", "id")
            if (s.agent_id, s.customer_id, s.day) in keys]
