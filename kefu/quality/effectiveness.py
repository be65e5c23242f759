"""Script effectiveness (SCR-3): for each script, its uses and what followed them.

A use (replies.ScriptUse) belongs to the reception (agent, buyer, shop day) it was sent in:
- conversion: of the uses in an inquiry reception (询单, SPEC §12), how many converted (最终付款);
- the buyer's next message after the use (within a day): negative by the complaints' sentiment
  scorer, or not;
- CSAT: of the uses whose reception was rated, how many ratings were in the top two levels.
Each rate carries its count; below the shop's minimum uses it is marked too few to judge.
"""

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass

from kefu.complaints.enums import SATISFIED_SCORES
from kefu.complaints.models import ServiceRating
from kefu.complaints.sentiment import analyse
from kefu.conversations.models import Message
from kefu.core.models import Shop
from kefu.core.timeutil import day_bounds
from kefu.metrics.models import Reception
from kefu.replies.models import Script, ScriptUse

from .flags import qa_settings

NEXT_WINDOW = dt.timedelta(days=1)


@dataclass
class Effect:
    script: Script
    uses: int = 0
    inquiries: int = 0
    converted: int = 0
    replies: int = 0  # uses followed by a buyer message within a day
    negative_replies: int = 0
    rated: int = 0
    satisfied: int = 0
    min_uses: int = 20

    @property
    def conversion_rate(self) -> float | None:
        return _ratio(self.converted, self.inquiries)

    @property
    def negative_rate(self) -> float | None:
        return _ratio(self.negative_replies, self.replies)

    @property
    def csat(self) -> float | None:
        return _ratio(self.satisfied, self.rated)

    @property
    def too_few(self) -> bool:
        return self.uses < self.min_uses


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def script_effectiveness(*, shop: Shop, date_from: dt.date, date_to: dt.date) -> list[Effect]:
    """Every script used in the shop days [date_from, date_to], most used first."""
    min_uses = qa_settings(shop).min_script_uses
    uses = list(ScriptUse.objects.filter(shop=shop, day__gte=date_from, day__lte=date_to)
                .values_list("script_id", "agent_id", "customer_id", "day", "used_at"))
    if not uses:
        return []
    customers = {u[2] for u in uses}
    recs = {(a, c, d): (inq, paid) for a, c, d, inq, paid in Reception.objects.filter(
        shop=shop, customer_id__in=customers, day__gte=date_from, day__lte=date_to).values_list(
        "agent_id", "customer_id", "day", "is_inquiry", "paid_final")}
    ratings = {(a, c, d): score for a, c, d, score in ServiceRating.objects.filter(
        shop=shop, invitation__customer_id__in=customers, invitation__day__gte=date_from,
        invitation__day__lte=date_to).values_list("invitation__agent_id", "invitation__customer_id",
                                                    "invitation__day", "score")}
    lo = day_bounds(date_from, shop.tz)[0]
    hi = day_bounds(date_to, shop.tz)[1] + NEXT_WINDOW
    buyer_msgs = defaultdict(list)
    for cid, at, text in (Message.objects.filter(shop=shop, customer_id__in=customers, sender="buyer",
                                                 sent_at__gte=lo, sent_at__lt=hi)
                          .order_by("customer_id", "sent_at", "id").values_list("customer_id", "sent_at", "text")):
        buyer_msgs[cid].append((at, text))
    times = {cid: [m[0] for m in ms] for cid, ms in buyer_msgs.items()}
    scripts = {s.pk: s for s in Script.objects.filter(shop=shop, pk__in={u[0] for u in uses})}
    out: dict[int, Effect] = {}
    for script_id, agent_id, cid, day, used_at in uses:
        e = out.get(script_id)
        if e is None:
            e = out[script_id] = Effect(script=scripts[script_id], min_uses=min_uses)
        e.uses += 1
        rec = recs.get((agent_id, cid, day))
        if rec and rec[0]:
            e.inquiries += 1
            e.converted += 1 if rec[1] else 0
        i = bisect_right(times.get(cid, []), used_at)
        if i < len(times.get(cid, [])) and buyer_msgs[cid][i][0] - used_at <= NEXT_WINDOW:
            e.replies += 1
            e.negative_replies += 1 if analyse(buyer_msgs[cid][i][1]).negative else 0
        score = ratings.get((agent_id, cid, day))
        if score is not None:
            e.rated += 1
            e.satisfied += 1 if score in SATISFIED_SCORES else 0
    return sorted(out.values(), key=lambda e: (-e.uses, e.script.pk))
