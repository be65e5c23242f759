"""Sums over several date ranges in one query (the KPI report's today, period and previous period).

The ranges may overlap (today lies inside this month), so rows cannot be put in one range each.
Instead the days the ranges cover are cut into pieces at every range's first day and the day after
its last; each row falls in exactly one piece (a CASE on its day or moment), the query sums per key and
piece, and each range adds up the pieces it is made of. One range is one piece: its sums are the
plain `GROUP BY key` sums. The figure sets of other apps thus run one query per report, not one per
range.
"""

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from functools import reduce
from operator import or_

from django.db import connections
from django.db.models import Aggregate, IntegerField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL

from kefu.core.prepared import prepared_dicts
from kefu.core.timeutil import day_bounds

DayRange = tuple[dt.date, dt.date]  # (first day, last day), both shop days, inclusive
ONE_DAY = dt.timedelta(days=1)


def ids_arg(ids) -> list[int] | None:
    """Ids as a bound list argument of sums_per_range (distinct, in a stable order); None = all."""
    return None if ids is None else sorted(set(ids))


def range_bounds(day_range: DayRange, tz: zoneinfo.ZoneInfo | None = None) -> tuple:
    """[first, end) of a range: its first day and the day after its last, or their first moments."""
    return _bound(day_range[0], tz), _bound(day_range[1] + ONE_DAY, tz)


def _bound(day: dt.date, tz):
    """A span's edge as the field compares it: the day, or the first moment of the shop day."""
    return day if tz is None else day_bounds(day, tz)[0]


def pieces(ranges: Sequence[DayRange]) -> tuple[list[tuple[dt.date, dt.date]], list[list[int]]]:
    """The covered days cut at every range's edges: [(first day, day after the last)] of each piece,
    and per range the pieces it is made of."""
    cuts = sorted({d for f, t in ranges for d in (f, t + ONE_DAY)})
    spans = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False)
             if any(f <= a and b <= t + ONE_DAY for f, t in ranges)]
    return spans, [[j for j, (a, b) in enumerate(spans) if f <= a and b <= t + ONE_DAY] for f, t in ranges]


def _joined(spans: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Adjacent pieces as one span (fewer conditions in the query's WHERE)."""
    out: list[tuple[dt.date, dt.date]] = []
    for a, b in spans:
        if out and out[-1][1] == a:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _piece_case(qs: QuerySet, field: str, ends: list) -> RawSQL:
    """`CASE WHEN field < end₀ THEN 0 WHEN field < end₁ THEN 1 … END`: the piece of a row (rows are
    those of the pieces only, which are in order). Written as SQL: the ORM compiles a CASE of Q
    conditions at about the cost of the query it saves; the bounds (dates, or moments when the field
    is one) are adapted by the database's own operations, as the ORM adapts a filter's."""
    ops = connections[qs.db].ops
    column = f"{ops.quote_name(qs.model._meta.db_table)}.{ops.quote_name(qs.model._meta.get_field(field).column)}"
    params = [ops.adapt_datetimefield_value(end) if isinstance(end, dt.datetime) else ops.adapt_datefield_value(end)
              for end in ends]
    whens = " ".join(f"WHEN {column} < %s THEN {j}" for j in range(len(ends)))
    return RawSQL(f"CASE {whens} END", params, output_field=IntegerField())


def _sums_query(*, base: Callable[..., QuerySet], keys: tuple[str, ...], field: str, aggregates: dict,
                lo: list, hi: list, ends: list, **args) -> QuerySet:
    """The query of sums_per_range: `base(**args)`'s rows of the spans [lo, hi), summed per key and
    piece (`ends`: the pieces' ends, none when there is one piece)."""
    qs = base(**args)
    piece = _piece_case(qs, field, ends) if ends else Value(0, output_field=IntegerField())
    within = reduce(or_, (Q(**{f"{field}__gte": a, f"{field}__lt": b}) for a, b in zip(lo, hi, strict=True)))
    return qs.filter(within).order_by().annotate(_piece=piece).values(*keys, "_piece").annotate(**aggregates)


def _add(a, b):
    """Two partial sums of one figure (None: no value, as SUM over nothing)."""
    if a is None:
        return b
    return a if b is None else a + b


def sums_per_range(base: Callable[..., QuerySet], *, args: dict, key: str | tuple[str, ...],
                   ranges: Sequence[DayRange], field: str, aggregates: dict[str, Aggregate],
                   tz: zoneinfo.ZoneInfo | None = None) -> list[dict]:
    """Per range (in order): {value of `key`: {name: sum}} for the keys with rows in that range — what
    `base(**args).filter(range).values(key).annotate(**aggregates)` gives for each range alone (a
    tuple `key` groups by several fields and keys the result by their tuple). `base` is a
    module-level function of `args` only (the query is compiled once per shape and run with new
    values: kefu.core.prepared). The aggregates must add up across pieces of a range: counts and
    sums (with their own `filter=`), never distinct counts or averages. `tz`: `field` is a moment,
    the ranges are shop days in that zone."""
    if not ranges:
        return []
    spans, made_of = pieces(ranges)
    keys = key if isinstance(key, tuple) else (key,)
    joined = _joined(spans)
    lo, hi = [_bound(a, tz) for a, _b in joined], [_bound(b, tz) for _a, b in joined]
    ends = [_bound(b, tz) for _a, b in spans] if len(spans) > 1 else []
    rows = prepared_dicts(_sums_query, static={"base": base, "keys": keys, "field": field, "aggregates": aggregates},
                          lo=lo, hi=hi, ends=ends, **args)
    per_piece: list[dict] = [{} for _ in spans]
    for row in rows:
        k = tuple(row[f] for f in keys) if isinstance(key, tuple) else row[key]
        per_piece[row["_piece"]][k] = row
    out: list[dict] = []
    for parts in made_of:
        sums: dict = {}
        for j in parts:
            for k, row in per_piece[j].items():
                s = sums.get(k)
                if s is None:
                    sums[k] = {name: row[name] for name in aggregates}
                else:
                    for name in aggregates:
                        s[name] = _add(s[name], row[name])
        out.append(sums)
    return out
