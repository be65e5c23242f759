"""The penalty rules of seed 002 §五 as a pure function: the deductions one agent's month should
carry, each with the stable key of its source event (WF-4).

Events per rule, in (day, source id) order: attendance days (late, absent, unauthorised, a use of
the 调休 allowance beyond the month's number), days with an occurrence of "not online", upheld
complaints against the agent (slow answers, rude service), and complaints QA traced to the agent's
wrong product knowledge (seed 000 遇一罚一; counted unless the complaint against the agent was rejected). The n-th event of a rule adds
total(n) − total(n−1) points, so the tiers (3 → 5, 5 → 10) land on the event that reaches them.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .enums import AttendanceStatus as St
from .enums import RuleSource, SourceType
from .rules import Rule


@dataclass(frozen=True)
class AttendanceFact:
    id: int
    date: dt.date
    status: str
    late_minutes: int = 0
    left_early_minutes: int = 0
    over_allowance: bool = False
    allowance_no: int | None = None
    not_online: bool = False
    not_online_minutes: int = 0


@dataclass(frozen=True)
class ComplaintFact:
    id: int  # the complaint's id
    day: dt.date
    category: str  # kefu.complaints ComplaintCategory: slow_reply | attitude | …


@dataclass(frozen=True)
class KnowledgeFact:
    """A complaint QA traced to the agent's wrong product knowledge (kefu.quality KnowledgeFault)."""

    id: int  # the complaint's id (the source the row links to)
    day: dt.date
    fault_id: int
    product: str = ""


@dataclass
class Expected:
    key: str
    rule: Rule
    day: dt.date
    points: Decimal
    source_type: str
    source_id: str
    detail: dict = field(default_factory=dict)


COMPLAINT_RULES = {"slow_reply": RuleSource.COMPLAINT_SLOW, "attitude": RuleSource.COMPLAINT_RUDE}


def _events(days: list[AttendanceFact], complaints: list[ComplaintFact],
            knowledge: list[KnowledgeFact] = ()) -> dict[str, list[tuple]]:
    """source → [(day, order, key, source type, source id, detail)] in event order."""
    ev: dict[str, list[tuple]] = defaultdict(list)
    for a in days:
        if a.status == St.LATE:
            ev[RuleSource.LATE].append((a.date, a.id, f"late:{a.date}", SourceType.ATTENDANCE, str(a.id),
                                        {"late_minutes": a.late_minutes}))
        elif a.status == St.ABSENT:
            ev[RuleSource.ABSENT].append((a.date, a.id, f"absent:{a.date}", SourceType.ATTENDANCE, str(a.id),
                                          {"late_minutes": a.late_minutes}))
        elif a.status == St.UNAUTHORISED:
            ev[RuleSource.UNAUTHORISED].append((a.date, a.id, f"unauthorised:{a.date}", SourceType.ATTENDANCE,
                                                str(a.id), {"left_early_minutes": a.left_early_minutes}))
        if a.over_allowance:
            ev[RuleSource.ABSENT].append((a.date, a.id, f"over_allowance:{a.date}", SourceType.ATTENDANCE,
                                          str(a.id), {"allowance_no": a.allowance_no}))
        if a.not_online:
            ev[RuleSource.NOT_ONLINE].append((a.date, a.id, f"not_online:{a.date}", SourceType.PRESENCE, str(a.id),
                                              {"minutes": a.not_online_minutes}))
    for c in complaints:
        src = COMPLAINT_RULES.get(c.category)
        if src is not None:
            ev[src].append((c.day, c.id, f"complaint:{c.id}", SourceType.COMPLAINT, str(c.id), {}))
    for k in knowledge:
        ev[RuleSource.KNOWLEDGE].append((k.day, k.id, f"knowledge:{k.id}", SourceType.COMPLAINT, str(k.id),
                                         {"fault": k.fault_id, "product": k.product}))
    return ev


def expected_deductions(*, days: list[AttendanceFact], complaints: list[ComplaintFact],
                        rules: dict[str, Rule], knowledge: list[KnowledgeFact] = ()) -> dict[str, Expected]:
    """key → the deduction the sources call for (zero-point events are left out)."""
    by_source: dict[str, list[Rule]] = defaultdict(list)
    for r in rules.values():
        if r.active and r.source != RuleSource.MANUAL:
            by_source[r.source].append(r)
    out: dict[str, Expected] = {}
    for source, events in _events(days, complaints, knowledge).items():
        for rule in by_source.get(source, []):
            events.sort(key=lambda e: (e[0], e[1], e[2]))
            for n, (day, _order, key, stype, sid, detail) in enumerate(events, start=1):
                points = rule.total(n) - rule.total(n - 1)
                if points:
                    k = f"{rule.code}:{key}"
                    out[k] = Expected(key=k, rule=rule, day=day, points=points, source_type=stype, source_id=sid,
                                      detail={**detail, "nth": n})
    return out
