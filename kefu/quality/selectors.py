"""Reads of quality inspection, always through the shop and the person asking.

Who sees which review: the agent their own, once submitted (blind until then, calibrations never);
the reviewer what they wrote; a supervisor with a group the reviews of that group's agents, a
supervisor without a group, managers, admins and the shop's integration all of the shop.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from kefu.conversations.models import Message
from kefu.core.enums import Role
from kefu.core.models import Agent, Shop
from kefu.metrics.ranges import ids_arg, sums_per_range

from . import scoring
from .enums import VISIBLE_STATES, AppealState, SampleState
from .models import (
    ConversationFlag,
    KnowledgeFault,
    QaAppeal,
    QaReview,
    QaSample,
    QaScore,
    TypicalCase,
)

R_RELATED = ("agent", "reviewer", "customer", "appeal")


def sees_all_reviews(member: Agent | None) -> bool:
    if member is None:
        return True
    if member.has_role(Role.MANAGER, Role.ADMIN):
        return True
    return member.has_role(Role.SUPERVISOR) and not member.group


def review_scope(member: Agent | None) -> Q:
    """The reviews this person may read."""
    if sees_all_reviews(member):
        return Q()
    q = Q(reviewer=member) | Q(agent=member, state__in=VISIBLE_STATES, calibration_of__isnull=True)
    if member.has_role(Role.SUPERVISOR):
        q |= Q(agent__group=member.group)
    return q


def agent_scope(member: Agent | None) -> Q:
    """The agents whose QA figures this person may read (on Agent)."""
    if sees_all_reviews(member):
        return Q()
    if member.has_role(Role.SUPERVISOR):
        return Q(group=member.group) | Q(pk=member.pk)
    return Q(pk=member.pk)


def reviews_for(*, shop: Shop, member: Agent | None, agent_id: int | None = None, reviewer_id: int | None = None,
                state: str | None = None) -> QuerySet[QaReview]:
    qs = QaReview.objects.filter(shop=shop).filter(review_scope(member)).select_related(*R_RELATED)
    if agent_id:
        qs = qs.filter(agent_id=agent_id)
    if reviewer_id:
        qs = qs.filter(reviewer_id=reviewer_id)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def review_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> QaReview:
    r = reviews_for(shop=shop, member=member).filter(pk=id).select_related("calibration_of").first()
    if r is None:
        raise Http404("review")
    return r


def review_messages(review: QaReview) -> list[Message]:
    """The chat the review reads: the buyer's messages in the review's window."""
    return list(Message.objects.filter(shop_id=review.shop_id, customer_id=review.customer_id,
                                       sent_at__gte=review.window_start, sent_at__lte=review.window_end)
                .select_related("agent").order_by("sent_at", "id"))


def review_scores(review: QaReview) -> list[dict]:
    return [{"id": s.pk, "category_id": s.category_id, "name": s.name, "weight": s.weight,
             "scale_min": s.scale_min, "scale_max": s.scale_max, "critical": s.critical, "chosen": s.chosen,
             "score": scoring.category_score(scoring.Item(s.chosen, s.scale_min, s.scale_max, s.weight)).quantize(
                 scoring.CENT),
             "comment": s.comment, "message_id": s.message_id} for s in review.scores.all()]


def review_queue(*, shop: Shop, member: Agent) -> list[QaSample]:
    """The reviewer's pending samples, oldest round first."""
    return list(QaSample.objects.filter(shop=shop, reviewer=member, state=SampleState.PENDING)
                .select_related("agent", "customer").order_by("round_day", "agent_id", "day", "id"))


def samples_for(*, shop: Shop, member: Agent | None, round_day: dt.date | None = None) -> QuerySet[QaSample]:
    qs = QaSample.objects.filter(shop=shop).select_related("agent", "customer", "reviewer")
    if not sees_all_reviews(member):
        qs = qs.filter(Q(reviewer=member) | Q(agent__group=member.group) if member.has_role(Role.SUPERVISOR)
                       else Q(pk__in=[]))
    if round_day:
        qs = qs.filter(round_day=round_day)
    return qs.order_by("-round_day", "reviewer_id", "agent_id", "day", "id")


def appeals_open(*, shop: Shop, member: Agent | None) -> list[QaAppeal]:
    """Open appeals this person may decide (not their own reviews, not about themselves)."""
    qs = (QaAppeal.objects.filter(shop=shop, state=AppealState.OPEN)
          .filter(review__in=reviews_for(shop=shop, member=member)).select_related("review__agent", "review__reviewer"))
    if member is not None:
        qs = qs.exclude(review__reviewer=member).exclude(review__agent=member)
    return list(qs.order_by("created_at", "id"))


# ---------------------------------------------------------------- figures

def _counting(shop: Shop) -> QuerySet[QaReview]:
    """The reviews that count: submitted (not calibrations), on their submission's shop day."""
    return QaReview.objects.filter(shop=shop, state__in=VISIBLE_STATES, calibration_of__isnull=True)


def _counted(shop: Shop, date_from: dt.date, date_to: dt.date) -> QuerySet[QaReview]:
    return _counting(shop).filter(submitted_day__gte=date_from, submitted_day__lte=date_to)


def qa_sums(*, shop: Shop, date_from: dt.date, date_to: dt.date, agent_ids=None) -> dict[int, dict]:
    """Per agent: qa_reviews, qa_score_sum (Decimal), qa_auto_fails — additive, for the KPI figure set."""
    return qa_sums_per_range(shop=shop, ranges=[(date_from, date_to)], agent_ids=agent_ids)[0]


_QA_SUMS = {"n": Count("id"), "total": Sum("score"), "fails": Count("id", filter=Q(auto_failed=True))}


def _counting_of(*, shop_id: int, agent_ids: list[int] | None) -> QuerySet[QaReview]:
    qs = QaReview.objects.filter(shop_id=shop_id, state__in=VISIBLE_STATES, calibration_of__isnull=True)
    return qs if agent_ids is None else qs.filter(agent_id__in=agent_ids)


def qa_sums_per_range(*, shop: Shop, ranges, agent_ids=None) -> list[dict[int, dict]]:
    """qa_sums of several (from, to) ranges in one query."""
    per_range = sums_per_range(_counting_of, args={"shop_id": shop.id, "agent_ids": ids_arg(agent_ids)},
                               key="agent_id", ranges=ranges, field="submitted_day", aggregates=_QA_SUMS)
    return [{agent_id: {"qa_reviews": r["n"], "qa_score_sum": Decimal(r["total"] or 0), "qa_auto_fails": r["fails"]}
             for agent_id, r in rows.items()} for rows in per_range]


def agent_trend(*, shop: Shop, agent: Agent, date_from: dt.date, date_to: dt.date) -> dict:
    """The agent's reviews per shop week: {weeks, scores, reviews} for the trend chart."""
    per = defaultdict(lambda: [0, Decimal(0)])
    for day, score in _counted(shop, date_from, date_to).filter(agent=agent).values_list("submitted_day", "score"):
        week = day - dt.timedelta(days=day.weekday())
        per[week][0] += 1
        per[week][1] += score
    weeks = sorted(per)
    return {"weeks": [w.isoformat() for w in weeks],
            "scores": [float(scoring.mean_score(per[w][1], per[w][0])) for w in weeks],
            "reviews": [per[w][0] for w in weeks]}


@dataclass
class Row:
    key: object
    label: str
    reviews: int
    mean: Decimal | None
    extra: dict


def item_stats(*, shop: Shop, date_from: dt.date, date_to: dt.date, agent_ids=None) -> list[Row]:
    """Per rubric item (by name): how many reviews scored it and its mean category score (0–100)."""
    qs = QaScore.objects.filter(review__in=_counted(shop, date_from, date_to))
    if agent_ids is not None:
        qs = qs.filter(review__agent_id__in=list(agent_ids))
    per = defaultdict(lambda: [0, Decimal(0), 0])
    for name, chosen, lo, hi in qs.values_list("name", "chosen", "scale_min", "scale_max"):
        p = per[name]
        p[0] += 1
        p[1] += scoring.category_score(scoring.Item(chosen, lo, hi, 1))
        p[2] += 1 if (chosen - lo) * 2 < (hi - lo) else 0
    return [Row(name, name, p[0], scoring.mean_score(p[1], p[0]), {"below_half": p[2]})
            for name, p in sorted(per.items(), key=lambda kv: kv[1][1] / kv[1][0])]


def reviewer_stats(*, shop: Shop, date_from: dt.date, date_to: dt.date) -> list[Row]:
    """How harsh each reviewer is: their mean score beside the mean of everyone else's reviews of the
    same agents (harshness = theirs − others'; negative = stricter)."""
    rows = list(_counted(shop, date_from, date_to).values_list("reviewer_id", "reviewer__name", "agent_id", "score"))
    by_agent = defaultdict(lambda: [0, Decimal(0)])
    for _, _, agent_id, score in rows:
        by_agent[agent_id][0] += 1
        by_agent[agent_id][1] += score
    per = defaultdict(lambda: {"n": 0, "sum": Decimal(0), "others_n": 0, "others_sum": Decimal(0), "name": ""})
    mine_by_agent = defaultdict(lambda: [0, Decimal(0)])
    for reviewer_id, name, agent_id, score in rows:
        p = per[reviewer_id]
        p["n"] += 1
        p["sum"] += score
        p["name"] = name
        mine_by_agent[(reviewer_id, agent_id)][0] += 1
        mine_by_agent[(reviewer_id, agent_id)][1] += score
    for (reviewer_id, agent_id), (n, total) in mine_by_agent.items():
        an, atotal = by_agent[agent_id]
        per[reviewer_id]["others_n"] += an - n
        per[reviewer_id]["others_sum"] += atotal - total
    out = []
    for reviewer_id, p in per.items():
        mean = scoring.mean_score(p["sum"], p["n"])
        others = scoring.mean_score(p["others_sum"], p["others_n"])
        out.append(Row(reviewer_id, p["name"], p["n"], mean,
                       {"others": others, "harshness": (mean - others) if others is not None else None}))
    return sorted(out, key=lambda r: (r.extra["harshness"] is None, r.extra["harshness"] or 0, r.label))


def agent_stats(*, shop: Shop, member: Agent | None, date_from: dt.date, date_to: dt.date) -> list[Row]:
    """Quality score per agent the person may see: reviews, mean score, auto-fails, open appeals."""
    agents = dict(Agent.objects.filter(shop=shop).filter(agent_scope(member)).values_list("id", "name"))
    sums = qa_sums(shop=shop, date_from=date_from, date_to=date_to, agent_ids=list(agents))
    out = [Row(aid, agents[aid], s["qa_reviews"], scoring.mean_score(s["qa_score_sum"], s["qa_reviews"]),
               {"auto_fails": s["qa_auto_fails"]}) for aid, s in sums.items()]
    return sorted(out, key=lambda r: (r.mean, r.label))


def calibration(review: QaReview) -> dict:
    """The original review beside each calibration: per item the two chosen values, their 0–100
    scores and the gap; the overall gap. `review` may be the original or a calibration."""
    original = review.calibration_of or review
    others = list(original.calibrations.filter(state__in=VISIBLE_STATES).select_related("reviewer")
                  .prefetch_related("scores"))
    base = {s.name: s for s in original.scores.all()}
    out = []
    for c in others:
        items = []
        for s in c.scores.all():
            o = base.get(s.name)
            a = scoring.category_score(scoring.Item(s.chosen, s.scale_min, s.scale_max, 1))
            b = scoring.category_score(scoring.Item(o.chosen, o.scale_min, o.scale_max, 1)) if o else None
            items.append({"name": s.name, "original": o.chosen if o else None, "calibration": s.chosen,
                          "gap": (a - b).quantize(scoring.CENT) if b is not None else None})
        gap = (c.score - original.score) if c.score is not None and original.score is not None else None
        out.append({"review": c, "reviewer": c.reviewer.name, "score": c.score, "gap": gap, "items": items})
    return {"original": original, "calibrations": out}


# ---------------------------------------------------------------- cases, flags, faults

def cases_of_week(*, shop: Shop, week: dt.date) -> list[TypicalCase]:
    return list(TypicalCase.objects.filter(shop=shop, week=week)
                .select_related("agent", "customer", "marked_by", "script").order_by("kind", "-created_at", "-id"))


def cases_for_study(*, shop: Shop, kind: str | None = None, since: dt.date | None = None) -> list[TypicalCase]:
    """Typical cases as study material (for the onboarding plan of issue 9): newest first."""
    qs = TypicalCase.objects.filter(shop=shop).select_related("agent", "customer")
    if kind:
        qs = qs.filter(kind=kind)
    if since:
        qs = qs.filter(week__gte=since)
    return list(qs.order_by("-week", "-id"))


def flag_counts(*, shop: Shop, date_from: dt.date, date_to: dt.date, agent_ids=None) -> dict[str, int]:
    qs = ConversationFlag.objects.filter(shop=shop, day__gte=date_from, day__lte=date_to)
    if agent_ids is not None:
        qs = qs.filter(agent_id__in=list(agent_ids))
    return dict(qs.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))


def knowledge_faults(*, shop: Shop, agent: Agent | None = None, date_from: dt.date | None = None,
                     date_to: dt.date | None = None) -> list[KnowledgeFault]:
    """Complaints traced to an agent's wrong product knowledge (遇一罚一), for the people ledger."""
    qs = KnowledgeFault.objects.filter(shop=shop).select_related("agent", "complaint", "product")
    if agent is not None:
        qs = qs.filter(agent=agent)
    if date_from:
        qs = qs.filter(day__gte=date_from)
    if date_to:
        qs = qs.filter(day__lte=date_to)
    return list(qs)
