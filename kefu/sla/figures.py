"""SLA figures of the KPI report (AFT-4): clocks settled, hit, missed and the hit rate per agent.

Counted by the shop day a clock's outcome became known (the SlaAgentDay roll-up, kefu.sla.rollup);
sums are additive (one query for all the report's ranges), so group and shop rows are computed from summed hits and misses, never from
averaged rates.
"""

from django.utils.translation import gettext_lazy as _

from kefu.metrics.kpi import FigureSet, ratio

from .rollup import sums


def _figures(s: dict) -> dict:
    hit, missed = s.get("sla_hit", 0), s.get("sla_missed", 0)
    return {"sla_clocks": hit + missed, "sla_hit": hit, "sla_missed": missed, "sla_hit_rate": ratio(hit, hit + missed)}


FIGURES = FigureSet(
    fields={"sla_clocks": (_("SLA计时数"), "count"), "sla_hit": (_("SLA达标"), "count"),
            "sla_missed": (_("SLA超时"), "count"), "sla_hit_rate": (_("SLA达标率"), "rate")},
    sums=sums,
    figures=_figures,
)
