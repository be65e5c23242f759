"""CSAT and review figures of the KPI report (§12, KPI-3): service ratings per agent, the good
(好评), medium and bad reviews of their credited orders and the revision rate of medium/bad ones,
as additive sums so group and shop rows are exact."""

from django.utils.translation import gettext_lazy as _

from kefu.metrics.kpi import FigureSet, ratio

from .selectors import csat_sums, review_level_sums, revision_sums


def _sums(*, shop, date_from, date_to, agent_ids=None) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for agent_id, s in csat_sums(shop=shop, date_from=date_from, date_to=date_to, agent_ids=agent_ids).items():
        out[agent_id] = {"rating_invitations": s.get("invitations", 0), "ratings": s.get("rated", 0),
                         "ratings_satisfied": s.get("satisfied", 0)}
    for agent_id, (closed, revised) in revision_sums(shop=shop, date_from=date_from, date_to=date_to,
                                                     agent_ids=agent_ids).items():
        if agent_id is not None:
            out.setdefault(agent_id, {}).update(review_tasks_closed=closed, reviews_revised=revised)
    for agent_id, (good, medium, bad) in review_level_sums(shop=shop, date_from=date_from, date_to=date_to,
                                                           agent_ids=agent_ids).items():
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
