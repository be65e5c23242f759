"""Reads of complaints, review tasks, disputes and ratings, always through the shop and the person asking.

Agents see what they own (and unassigned review tasks); supervisors and up and the shop's
integration token see the whole shop.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop
from kefu.metrics.ranges import ids_arg, sums_per_range

from .enums import SATISFIED_SCORES, ReviewLevel, ReviewOutcome, ReviewTaskState, Verdict
from .models import AgentComplaint, Complaint, Dispute, RatingInvitation, Review, ReviewTask
from .sentiment import analyse

C_RELATED = ("owner", "customer", "order", "against", "agent_record")


def _whole(member: Agent | None) -> bool:
    return member is None or sees_whole_shop(member)


# ---------------------------------------------------------------- complaints

def complaints_for(*, shop: Shop, member: Agent | None, state: str | None = None,
                   owner_id: int | None = None) -> QuerySet[Complaint]:
    qs = Complaint.objects.filter(shop=shop).select_related(*C_RELATED)
    if not _whole(member):
        qs = qs.filter(owner=member)
    elif owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def complaint_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> Complaint:
    c = (Complaint.objects.filter(shop=shop, pk=id).select_related(*C_RELATED)
         .prefetch_related("checks__done_by", "events__actor").first())
    if c is None or (not _whole(member) and c.owner_id != member.pk):
        raise Http404("complaint")
    return c


def complaints_against(*, shop: Shop, agent: Agent, date_from: dt.date, date_to: dt.date,
                       verdict: str | None = Verdict.UPHELD) -> list[AgentComplaint]:
    """Complaints against an agent registered in the shop days [date_from, date_to], for the
    penalty rules. Default: upheld ones only; verdict=None gives every verdict."""
    qs = AgentComplaint.objects.filter(shop=shop, agent=agent, day__gte=date_from, day__lte=date_to)
    if verdict is not None:
        qs = qs.filter(verdict=verdict)
    return list(qs.select_related("complaint").order_by("day", "id"))


def revisits_today(*, shop: Shop, member: Agent | None, day: dt.date) -> list[Complaint]:
    qs = complaints_for(shop=shop, member=member).filter(revisit_on__lte=day).exclude(state="closed")
    return list(qs.order_by("revisit_on", "id"))


# ---------------------------------------------------------------- reviews

def review_tasks_for(*, shop: Shop, member: Agent | None, state: str | None = "active",
                     owner_id: int | None = None) -> QuerySet[ReviewTask]:
    """Worklist order: priority (bad and angrier first), then oldest."""
    qs = ReviewTask.objects.filter(shop=shop).select_related("review", "review__customer", "owner", "review__agent")
    if not _whole(member):
        qs = qs.filter(Q(owner=member) | Q(owner__isnull=True))
    elif owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if state == "active":
        qs = qs.exclude(state=ReviewTaskState.CLOSED)
    elif state:
        qs = qs.filter(state=state)
    return qs.order_by("-priority", "created_at", "id")


def review_task_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> ReviewTask:
    t = (ReviewTask.objects.filter(shop=shop, pk=id)
         .select_related("review", "review__customer", "owner", "review__agent", "review__order")
         .prefetch_related("events__actor").first())
    if t is None or (not _whole(member) and t.owner_id not in (None, member.pk)):
        raise Http404("review task")
    return t


def reviews_for(*, shop: Shop, level: str | None = None) -> QuerySet[Review]:
    qs = Review.objects.filter(shop=shop).select_related("customer", "agent")
    if level:
        qs = qs.filter(level=level)
    return qs.order_by("-created_at", "-id")


@dataclass
class RevisionRow:
    agent_id: int | None  # None = silent (no agent answerable) or the shop total
    name: str
    closed: int  # review tasks closed in the range
    revised: int

    @property
    def revision_rate(self) -> float | None:
        return round(self.revised / self.closed, 4) if self.closed else None


_REVISION_SUMS = {"closed": Count("id"), "revised": Count("id", filter=Q(outcome=ReviewOutcome.REVISED))}


def _closed_tasks(*, shop_id: int, agent_ids: list[int] | None) -> QuerySet[ReviewTask]:
    qs = ReviewTask.objects.filter(shop_id=shop_id, state=ReviewTaskState.CLOSED)
    return qs if agent_ids is None else qs.filter(review__agent_id__in=agent_ids)


def revision_sums(*, shop: Shop, ranges, agent_ids=None) -> list[dict]:
    """Per (from, to) range: {agent id | None: (closed, revised)} over review tasks closed in its
    shop days. The agent is the review's (the import's agent_id, else the order's credited agent)."""
    per_range = sums_per_range(_closed_tasks, args={"shop_id": shop.id, "agent_ids": ids_arg(agent_ids)},
                               key="review__agent_id", ranges=ranges, field="closed_at", tz=shop.tz,
                               aggregates=_REVISION_SUMS)
    return [{k: (r["closed"], r["revised"]) for k, r in rows.items()} for rows in per_range]


def revision_rates(*, shop: Shop, date_from: dt.date, date_to: dt.date) -> tuple[list[RevisionRow], RevisionRow]:
    """Revision rate (revised / closed review tasks) per agent, and the shop's."""
    sums = revision_sums(shop=shop, ranges=[(date_from, date_to)])[0]
    names = dict(Agent.objects.filter(shop=shop, pk__in=[k for k in sums if k]).values_list("id", "name"))
    rows = [RevisionRow(agent_id=k, name=names.get(k, "") if k else _("静默（无客服）"), closed=c, revised=r)
            for k, (c, r) in sums.items()]
    rows.sort(key=lambda r: (r.agent_id is None, r.name))
    total = RevisionRow(agent_id=None, name=_("全店"), closed=sum(r.closed for r in rows),
                        revised=sum(r.revised for r in rows))
    return rows, total


_LEVEL_SUMS = {"good": Count("id", filter=Q(level=ReviewLevel.GOOD)),
               "medium": Count("id", filter=Q(level=ReviewLevel.MEDIUM)),
               "bad": Count("id", filter=Q(level=ReviewLevel.BAD))}


def _reviews(*, shop_id: int, agent_ids: list[int] | None) -> QuerySet[Review]:
    qs = Review.objects.filter(shop_id=shop_id)
    return qs if agent_ids is None else qs.filter(agent_id__in=agent_ids)


def review_level_sums(*, shop: Shop, ranges, agent_ids=None) -> list[dict]:
    """Per (from, to) range: {agent id: (good, medium, bad)} of reviews written in its shop days
    (KPI-3's 好评数 beside §12's 中差评; the agent is the one the review's order is credited to,
    None = silent)."""
    per_range = sums_per_range(_reviews, args={"shop_id": shop.id, "agent_ids": ids_arg(agent_ids)}, key="agent_id",
                               ranges=ranges, field="created_at", tz=shop.tz, aggregates=_LEVEL_SUMS)
    return [{k: (r["good"], r["medium"], r["bad"]) for k, r in rows.items()} for rows in per_range]


# ---------------------------------------------------------------- disputes

def disputes_for(*, shop: Shop, member: Agent | None, state: str | None = None) -> QuerySet[Dispute]:
    qs = Dispute.objects.filter(shop=shop).select_related("owner", "order").annotate(n_evidence=Count("evidence"))
    if not _whole(member):
        qs = qs.filter(owner=member)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def dispute_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> Dispute:
    d = (Dispute.objects.filter(shop=shop, pk=id).select_related("owner", "order", "review")
         .prefetch_related("evidence", "events__actor").first())
    if d is None or (not _whole(member) and d.owner_id != member.pk):
        raise Http404("dispute")
    return d


# ---------------------------------------------------------------- CSAT (§12)

_RATING_SUMS = {"invitations": Count("id"), "rated": Count("rating"),
                "satisfied": Count("rating", filter=Q(rating__score__in=SATISFIED_SCORES))}


def _invitations(*, shop_id: int, agent_ids: list[int] | None) -> QuerySet[RatingInvitation]:
    qs = RatingInvitation.objects.filter(shop_id=shop_id)
    return qs if agent_ids is None else qs.filter(agent_id__in=agent_ids)


def rating_sums(*, shop: Shop, ranges, agent_ids=None) -> list[dict[int, dict]]:
    """Per (from, to) range: {agent id: invitations, rated invitations, satisfied ratings (top two
    levels)} over receptions of its shop days."""
    return sums_per_range(_invitations, args={"shop_id": shop.id, "agent_ids": ids_arg(agent_ids)}, key="agent_id",
                          ranges=ranges, field="day", aggregates=_RATING_SUMS)


def csat_sums(*, shop: Shop, date_from: dt.date, date_to: dt.date, agent_ids=None) -> dict[int, dict]:
    """Additive sums per agent over receptions of the shop days [from, to]: invitations, rated
    invitations, satisfied ratings (top two levels), replied receptions (邀评率's denominator)."""
    from kefu.metrics.models import AgentDay

    out = rating_sums(shop=shop, ranges=[(date_from, date_to)], agent_ids=agent_ids)[0]
    # Replied receptions from the KPI roll-up (spam left out there): the cost stays flat as chats grow.
    rec = AgentDay.objects.filter(shop=shop, day__gte=date_from, day__lte=date_to, replied_receptions__gt=0)
    if agent_ids is not None:
        rec = rec.filter(agent_id__in=agent_ids)
    for r in rec.values("agent_id").annotate(n=Sum("replied_receptions")):
        out.setdefault(r["agent_id"], {"invitations": 0, "rated": 0, "satisfied": 0})["replied_receptions"] = r["n"]
    return out


@dataclass
class CsatRow:
    agent_id: int
    name: str
    invitations: int
    rated: int
    satisfied: int
    replied_receptions: int

    @property
    def csat(self) -> float | None:
        return round(self.satisfied / self.rated, 4) if self.rated else None

    @property
    def invite_rate(self) -> float | None:
        return round(self.invitations / self.replied_receptions, 4) if self.replied_receptions else None


def csat_table(*, shop: Shop, date_from: dt.date, date_to: dt.date, member: Agent | None = None) -> list[CsatRow]:
    ids = None if _whole(member) else [member.pk]
    sums = csat_sums(shop=shop, date_from=date_from, date_to=date_to, agent_ids=ids)
    names = dict(Agent.objects.filter(shop=shop, pk__in=list(sums)).values_list("id", "name"))
    rows = [CsatRow(agent_id=k, name=names.get(k, ""), invitations=v.get("invitations", 0), rated=v.get("rated", 0),
                    satisfied=v.get("satisfied", 0), replied_receptions=v.get("replied_receptions", 0))
            for k, v in sums.items()]
    return sorted(rows, key=lambda r: (r.name, r.agent_id))


def invitations_for(*, shop: Shop, member: Agent | None, day: dt.date | None = None) -> QuerySet[RatingInvitation]:
    qs = RatingInvitation.objects.filter(shop=shop).select_related("agent", "customer", "rating")
    if not _whole(member):
        qs = qs.filter(agent=member)
    if day:
        qs = qs.filter(day=day)
    return qs.order_by("-day", "-id")


# ---------------------------------------------------------------- angry buyers (AUTO-3)

@dataclass
class AngryMessage:
    message: object
    anger: float
    score: float
    hits: list


def angry_messages(*, shop: Shop, member: Agent | None, hours: int = 24, now: dt.datetime | None = None,
                   limit: int = 2000) -> list[AngryMessage]:
    """Buyer messages of the last `hours` that read as angry, angriest first (supervisors see the
    shop, an agent the buyers routed to them). Scans at most `limit` recent messages."""
    from kefu.conversations.enums import Sender
    from kefu.conversations.models import Message

    now = now or timezone.now()
    qs = (Message.objects.filter(shop=shop, sender=Sender.BUYER, sent_at__gte=now - dt.timedelta(hours=hours),
                                 sent_at__lte=now, customer__is_spam=False)
          .exclude(text="").select_related("customer", "agent").order_by("-sent_at", "-id"))
    if not _whole(member):
        qs = qs.filter(agent=member)
    out = []
    for m in qs[:limit]:
        s = analyse(m.text)
        if s.angry:
            out.append(AngryMessage(message=m, anger=s.anger, score=s.score, hits=s.hits))
    out.sort(key=lambda a: (-a.anger, -a.message.sent_at.timestamp()))
    return out
