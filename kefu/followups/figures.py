"""催付 figures of the KPI report (PRE-2): success rate and recovered sales per agent.

Counted over the reminders closed in the range (shop days), by the same selector as the
follow-ups page and API.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from kefu.metrics.kpi import FigureSet, money, ratio

from .selectors import payment_reminder_figures_per_range


def _sums(*, shop, ranges, agent_ids=None) -> list[dict[int, dict]]:
    return [{r.agent_id: {"closed": r.closed, "won": r.won, "recovered": r.recovered_sales} for r in rows}
            for rows in payment_reminder_figures_per_range(shop=shop, ranges=ranges, agent_ids=agent_ids)]


def _figures(s: dict) -> dict:
    closed, won = s.get("closed", 0), s.get("won", 0)
    return {"payment_reminders": closed, "payment_reminders_won": won,
            "payment_reminder_success_rate": ratio(won, closed),
            "recovered_sales": money(s.get("recovered", Decimal(0)))}


FIGURES = FigureSet(
    fields={"payment_reminders": (_("催付数"), "count"), "payment_reminders_won": (_("催付成功"), "count"),
            "payment_reminder_success_rate": (_("催付成功率"), "rate"), "recovered_sales": (_("催付挽回金额"), "money")},
    sums=_sums,
    figures=_figures,
)
