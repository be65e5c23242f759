"""CSAT and review figures of the KPI report (§12, KPI-3): service ratings per agent, the good
(好评), medium and bad reviews of their credited orders and the revision rate of medium/bad ones,
as additive sums so group and shop rows are exact."""

from django.utils.translation import gettext_lazy as _

from kefu.metrics.kpi import FigureSet, ratio

from .selectors import rating_sums, review_level_sums, revision_sums


def _sums(*, shop, ranges, agent_ids=None) -> list[dict[int, dict]]:
    ratings = rating_sums(shop=shop, ranges=ranges, agent_ids=agent_ids)
    revisions = revision_sums(shop=shop, ranges=ranges, agent_ids=agent_ids)
    levels = review_level_sums(shop=shop, ranges=ranges, agent_ids=agent_ids)
    return [_sums_of_range(*parts) for parts in zip(ratings, revisions, levels, strict=True)]


def _sums_of_range(ratings: dict, revisions: dict, levels: dict) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for agent_id, s in ratings.items():
        out[agent_id] = {"rating_invitations": s["invitations"], "ratings": s["rated"],
                         "ratings_satisfied": s["satisfied"]}
    for agent_id, (closed, revised) in revisions.items():
        if agent_id is not None:
            out.setdefault(agent_id, {}).update(review_tasks_closed=closed, reviews_revised=revised)
    for agent_id, (good, medium, bad) in levels.items():
        if agent_id is not None:
            out.setdefault(agent_id, {}).update(good_reviews=good, medium_reviews=medium, bad_reviews=bad)
    return out


def _figures(s: dict) -> dict:
    g = s.get
    return {"rating_invitations": g("rating_invitations", 0), "ratings": g("ratings", 0),
            "ratings_satisfied": g("ratings_satisfied", 0), "csat": ratio(g("ratings_satisfied", 0), g("ratings", 0)),
            "good_reviews": g("good_reviews", 0), "medium_reviews": g("medium_reviews", 0),
            "bad_reviews": g("bad_reviews", 0),
            "reviews_revised": g("reviews_revised", 0),
            "revision_rate": ratio(g("reviews_revised", 0), g("review_tasks_closed", 0))}


FIGURES = FigureSet(
    fields={"rating_invitations": (_("邀评数"), "count"), "ratings": (_("评价数"), "count"),
            "ratings_satisfied": (_("满意数"), "count"), "csat": (_("满意率"), "rate"),
            "good_reviews": (_("好评数"), "count"), "medium_reviews": (_("中评数"), "count"),
            "bad_reviews": (_("差评数"), "count"),
            "reviews_revised": (_("改评数"), "count"), "revision_rate": (_("改评率"), "rate")},
    sums=_sums,
    figures=_figures,
)
