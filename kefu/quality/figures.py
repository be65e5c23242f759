"""QA figures of the KPI report (SPEC §12 QA score): reviews, mean score and auto-fails per agent,
as additive sums so group and shop rows are exact (the mean from summed scores and counts)."""

from django.utils.translation import gettext_lazy as _

from kefu.metrics.kpi import FigureSet

from .scoring import mean_score
from .selectors import qa_sums_per_range


def _sums(*, shop, ranges, agent_ids=None) -> list[dict[int, dict]]:
    return qa_sums_per_range(shop=shop, ranges=ranges, agent_ids=agent_ids)


def _figures(s: dict) -> dict:
    n = s.get("qa_reviews", 0)
    mean = mean_score(s.get("qa_score_sum", 0), n)
    return {"qa_reviews": n, "qa_score": float(mean) if mean is not None else None,
            "qa_auto_fails": s.get("qa_auto_fails", 0)}


FIGURES = FigureSet(
    fields={"qa_reviews": (_("质检数"), "count"), "qa_score": (_("质检均分"), "count"),
            "qa_auto_fails": (_("质检否决数"), "count")},
    sums=_sums,
    figures=_figures,
)
