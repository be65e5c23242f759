"""Report queries compiled once per process and run again with new parameter values.

A report page runs some twenty ORM queries whose SQL text is the same on every request — only the
shop, the dates and the agent ids change — and building and compiling them cost more than the
database's work (docs/bench.md, "Pages"). `prepared_rows(build, static=…, **args)` compiles
`build(**static, **args)` once per process and *shape* (which function, its static inputs, and per
argument its kind: a value, None, or a list of a given length) and afterwards only binds the new
values to the stored SQL's parameters. Results are never cached: every call runs the query.

How the parameters are found: the first time a shape is seen, the query is built twice, with two
sets of probe values (numbers, dates, moments and strings from a range no real row uses). The SQL
text must be the same, and every parameter must either be a probe at the same place in both
compilations (a slot, bound to that argument from then on) or be equal in both (a constant of the
query). A value the builder derives from an argument (a day + 1), or SQL whose text depends on a
value, fails this check at the first run — loudly, never as a wrong figure. The values are always
bound as the driver's parameters (adapted as the ORM adapts them), never written into the SQL.

A builder must be a module-level function (no closure: what it reads besides its arguments is
frozen into the SQL) that may branch on an argument's shape (None or not, a list's length) but
never on its value: `if day.month == 12` would be compiled for the probes' month. The probes
catch derived values and values written into the SQL text, not such branches.
"""

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.utils.hashable import make_hashable


class PreparedQueryError(RuntimeError):
    """A builder whose SQL is not a fixed text with bound parameters (a programming error)."""


_INT_BASE = (-1_900_000_000, -1_800_000_000)  # inside every backend's 32-bit integer range
_DAY_BASE = (dt.date(1001, 1, 1), dt.date(1051, 1, 1))


def _probe(kind: type, probe_set: int, n: int):
    if kind is int:
        return _INT_BASE[probe_set] - n
    if kind is dt.datetime:
        base = _DAY_BASE[probe_set]
        return dt.datetime(base.year, base.month, base.day, tzinfo=dt.UTC) + dt.timedelta(days=n, seconds=7)
    if kind is dt.date:
        return _DAY_BASE[probe_set] + dt.timedelta(days=n)
    return f"\x01kefu-probe-{probe_set}-{n}"


def _kind(value) -> type:
    if isinstance(value, bool):
        raise PreparedQueryError("a bool argument changes the SQL: pass it as static")
    for kind in (dt.datetime, dt.date, int, str):  # datetime before date: it is a date too
        if isinstance(value, kind):
            return kind
    raise PreparedQueryError(f"cannot bind a {type(value).__name__} argument")


def _shape(args: dict) -> tuple:
    out = []
    for name, value in sorted(args.items()):
        if value is None:
            out.append((name, None))
        elif isinstance(value, (list, tuple)):
            out.append((name, "list", tuple(_kind(v) for v in value)))
        else:
            out.append((name, _kind(value)))
    return tuple(out)


def _probes(args: dict, probe_set: int, counter: list) -> dict:
    """Distinct probe values in place of every bound value (the counter keeps them distinct)."""
    def one(v):
        counter[0] += 1
        return _probe(_kind(v), probe_set, counter[0])

    return {name: None if v is None else [one(x) for x in v] if isinstance(v, (list, tuple)) else one(v)
            for name, v in args.items()}


def _forms(conn, value) -> list[tuple[str, object]]:
    """The forms a value takes among a compiled query's parameters: as given, or adapted by the
    backend's operations (as a date or moment field adapts it)."""
    out = [("raw", value)]
    if isinstance(value, dt.datetime):
        out.append(("datetime", conn.ops.adapt_datetimefield_value(value)))
    elif isinstance(value, dt.date):
        out.append(("date", conn.ops.adapt_datefield_value(value)))
    return out


def _adapt(conn, form: str, value):
    if form == "datetime":
        return conn.ops.adapt_datetimefield_value(value)
    if form == "date":
        return conn.ops.adapt_datefield_value(value)
    return value


@dataclass(frozen=True)
class _Prepared:
    alias: str
    sql: str
    params: tuple
    slots: tuple  # (parameter position, argument name, index in a list argument or None, form)
    names: tuple  # the result's column names
    converters: dict  # position → (converters, expression), as the ORM's compiler applies them


_CACHE: "OrderedDict[tuple, _Prepared]" = OrderedDict()
_CACHE_SIZE = 1024
_LOCK = Lock()


def _compile(qs: QuerySet):
    compiler = qs.query.get_compiler(using=qs.db)
    sql, params = compiler.as_sql()
    return compiler, sql, tuple(params)


def _index(conn, probes: dict) -> dict:
    """(type, form value) → (argument, index, form) of every probe value."""
    out = {}
    for name, v in probes.items():
        for i, x in [(None, v)] if not isinstance(v, list) else enumerate(v):
            if x is None:
                continue
            for form, value in _forms(conn, x):
                out.setdefault((type(value), value), (name, i, form))
    return out


_EMPTY = _Prepared(alias="", sql="", params=(), slots=(), names=(), converters={})


def _compile_empty(qs: QuerySet, build) -> None:
    try:
        _compile(qs)
    except EmptyResultSet:
        return
    raise PreparedQueryError(f"{build.__qualname__}: whether the query is empty depends on an argument's value")


def _prepare(build: Callable, static: dict, args: dict) -> _Prepared:
    if getattr(build, "__closure__", None):
        raise PreparedQueryError(f"{build.__qualname__}: a builder must not be a closure")
    counter = [0]
    probes_a, probes_b = _probes(args, 0, counter), _probes(args, 1, [0])
    qs_a, qs_b = build(**static, **probes_a), build(**static, **probes_b)
    if qs_a._fields is None:
        raise PreparedQueryError(f"{build.__qualname__}: build a values() or values_list() query")
    try:
        compiler, sql, params_a = _compile(qs_a)
    except EmptyResultSet:  # e.g. `id__in=[]`: the ORM answers nothing without asking the database
        _compile_empty(qs_b, build)
        return _EMPTY
    _, sql_b, params_b = _compile(qs_b)
    if sql != sql_b or len(params_a) != len(params_b):
        raise PreparedQueryError(f"{build.__qualname__}: the SQL text depends on an argument's value")
    conn = connections[qs_a.db]
    index_a, index_b = _index(conn, probes_a), _index(conn, probes_b)
    slots = []
    for j, (pa, pb) in enumerate(zip(params_a, params_b, strict=True)):
        slot_a, slot_b = index_a.get((type(pa), pa)), index_b.get((type(pb), pb))
        if slot_a is not None and slot_a == slot_b:
            slots.append((j, *slot_a))
        elif slot_a is not None or slot_b is not None or type(pa) is not type(pb) or pa != pb:
            raise PreparedQueryError(f"{build.__qualname__}: parameter {j} is derived from an argument "
                                     f"({pa!r} / {pb!r}); pass the derived value as an argument")
    query = qs_a.query
    names = (*query.extra_select, *query.values_select, *query.annotation_select)
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    if len(fields) != len(names):
        raise PreparedQueryError(f"{build.__qualname__}: unexpected select list")
    return _Prepared(alias=qs_a.db, sql=sql, params=params_a, slots=tuple(slots), names=names,
                     converters=compiler.get_converters(fields))


def prepared_rows(build: Callable[..., QuerySet], *, static: dict | None = None, **args) -> list[tuple]:
    """The rows of `build(**static, **args)` (a values()/values_list() query) as tuples in the
    order of `prepared_names(...)`: its extra, values and annotation columns, converted as the ORM
    converts them. `static` are inputs that shape the SQL (functions, field names, aggregates:
    hashable after make_hashable); `args` are bound: ints, dates, aware datetimes, strings, lists of
    those (their length is part of the shape) or None (a shape of its own)."""
    return prepared_query(build, static=static, **args)[1]


def prepared_query(build: Callable[..., QuerySet], *, static: dict | None = None, **args) -> tuple[tuple, list]:
    """(column names, rows) of prepared_rows."""
    static = static or {}
    key = (build, make_hashable(static), _shape(args))
    with _LOCK:
        prepared = _CACHE.get(key)
        if prepared is not None:
            _CACHE.move_to_end(key)
    if prepared is None:
        prepared = _prepare(build, static, args)
        with _LOCK:
            _CACHE[key] = prepared
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    if prepared is _EMPTY:
        return (), []
    conn = connections[prepared.alias]
    params = list(prepared.params)
    for j, name, i, form in prepared.slots:
        value = args[name] if i is None else args[name][i]
        params[j] = _adapt(conn, form, value)
    with conn.cursor() as cursor:
        cursor.execute(prepared.sql, params)
        rows = cursor.fetchall()
    width = len(prepared.names)
    if prepared.converters:
        out = []
        for row in rows:
            row = list(row[:width])
            for pos, (convs, expression) in prepared.converters.items():
                value = row[pos]
                for conv in convs:
                    value = conv(value, expression, conn)
                row[pos] = value
            out.append(tuple(row))
        return prepared.names, out
    return prepared.names, [tuple(r[:width]) for r in rows]


def prepared_dicts(build: Callable[..., QuerySet], *, static: dict | None = None, **args) -> list[dict]:
    """prepared_rows as dicts keyed by column name (what values() gives)."""
    names, rows = prepared_query(build, static=static, **args)
    return [dict(zip(names, r, strict=True)) for r in rows]
