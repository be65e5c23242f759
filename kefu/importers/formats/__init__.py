"""Column mappings of the platforms' export files onto Kefu's generic rows.

`map_rows(kind, fmt, headers, rows)` → (generic rows one at a time, notes for the import summary). Order
formats: generic, taobao, jd, pdd, douyin, shopify (one module each, documented in the README).
A file whose columns do not fit the format asked for is refused with the formats it looks like.
"""

from collections.abc import Callable, Iterable, Iterator

from kefu.core.errors import KefuError

from .base import OrderFormat
from .douyin import DOUYIN
from .jd import JD
from .pdd import PDD
from .shopify import SHOPIFY
from .taobao import TAOBAO

GENERIC_MESSAGE_COLUMNS = ("message_id", "channel", "buyer_id", "buyer_nick", "agent_id", "sender", "sent_at", "text", "order_id")
GENERIC_ORDER_COLUMNS = (
    "order_id", "buyer_id", "created_at", "paid_at", "status", "total_amount", "paid_amount",
    "refund_amount", "refunded_at", "shipped_at", "signed_at", "closed_at", "items",
)
GENERIC_ORDER_OPTIONAL = ("buyer_nick", "title", "courier", "tracking_no", "address", "buyer_note", "seller_remark",
                          "printed_at", "completed_at")

ORDER_FORMATS: dict[str, OrderFormat] = {f.name: f for f in (TAOBAO, JD, PDD, DOUYIN, SHOPIFY)}
FORMAT_NAMES = ("generic", *ORDER_FORMATS)


def formats_guess(headers: list[str]) -> list[tuple[str, int, int]]:
    """Order formats this header row looks like, best first: [(name, known columns present, missing required)]."""
    generic_known = sum(1 for h in headers if h in GENERIC_ORDER_COLUMNS or h in GENERIC_ORDER_OPTIONAL)
    found = [("generic", generic_known, sum(1 for c in ("order_id", "buyer_id", "created_at") if c not in headers))]
    found += [(f.name, f.score(headers), len(f.missing(headers))) for f in ORDER_FORMATS.values()]
    return sorted((g for g in found if g[1]), key=lambda g: (g[2], -g[1]))


def group_key(kind: str, fmt: str, headers: list[str]) -> str:
    """The order-id column whose lines are grouped into one order ('' for one line per order)."""
    if kind != "orders":
        return ""
    if fmt == "auto":
        best = next((g for g in formats_guess(headers) if not g[2]), None)
        fmt = best[0] if best else fmt
    f = ORDER_FORMATS.get(fmt)
    return f.group_key if f else ""


def _unfit(fmt: str, missing: list[str], headers: list[str]) -> KefuError:
    looks = [g for g in formats_guess(headers) if g[0] != fmt]
    hint = ""
    if looks:
        hint = "; it looks like: " + ", ".join(
            f"{name} ({known} known column(s){', all required present' if not miss else f', {miss} required missing'})"
            for name, known, miss in looks[:3]
        )
        if not looks[0][2]:
            hint += f" — try --format {looks[0][0]}"
    elif headers:
        hint = "; its columns match no known format (" + ", ".join(FORMAT_NAMES) + ")"
    return KefuError(f"{fmt} file lacks the column(s): {', '.join(missing)}{hint}", field="header")


def map_rows(kind: str, fmt: str, headers: list[str], rows: Iterable[dict], *,
             again: Callable[[], Iterable[dict]] | None = None, prepared: dict | None = None,
             **options) -> tuple[Iterator[dict], list[str]]:
    """Rows in the generic shape for `kind` (messages|orders), as the file's rows are read, plus
    notes for the user (complete once the rows are all read).

    A format that decides something from the whole file first (taobao's amounts=auto) reads
    `again()` — the file's rows once more — or `rows` when it is a list.
    `fmt="auto"` picks the order format whose required columns are all present and which knows
    the most of the file's columns. Options: `amounts=auto|net|gross` (taobao). `prepared`: the
    options a format's whole-file pass decided (`map_prepare`), given to a reader of part of the file.
    """
    options = {k: v for k, v in options.items() if v is not None}
    if kind == "orders" and fmt == "auto":
        best = next((g for g in formats_guess(headers) if not g[2]), None)
        if best is None:
            raise _unfit("auto", ["order_id (no known format fits)"], headers)
        fmt = best[0]
        notes = [f"reading: format detected as {fmt}"]
    else:
        notes = []
    if fmt == "generic":
        required = ("message_id", "buyer_id", "sender", "sent_at") if kind == "messages" else ("order_id", "buyer_id", "created_at")
        missing = [c for c in required if c not in headers]
        if missing:
            if kind == "orders":
                raise _unfit("generic orders", missing, headers)
            raise KefuError(f"generic messages file lacks the column(s): {', '.join(missing)}", field="header")
        known = GENERIC_MESSAGE_COLUMNS if kind == "messages" else GENERIC_ORDER_COLUMNS + GENERIC_ORDER_OPTIONAL
        extra = [h for h in headers if h and h not in known and h != "buyer_nick"]
        if extra:
            notes.append(f"ignored unknown column(s): {', '.join(extra)}")
        return iter(rows), notes
    if kind == "orders" and fmt in ORDER_FORMATS:
        f = ORDER_FORMATS[fmt]
        missing = f.missing(headers)
        if missing:
            raise _unfit(fmt, missing, headers)
        unknown = [k for k in options if k not in f.options]
        if unknown:
            raise KefuError(f"--{unknown[0]} does not apply to the {fmt} format", field=unknown[0])
        ignored = f.ignored(headers)
        if ignored:
            notes.append(f"ignored column(s): {', '.join(ignored)}")
        if prepared is not None:
            options = prepared
        elif f.prepare:
            options = f.prepare(headers, again() if again else rows, **options)
        return f.convert(headers, rows, notes, **options), notes
    raise _unknown(kind, fmt)


def map_format(kind: str, fmt: str, headers: list[str]) -> str:
    """The format `fmt` stands for with these headers ('auto' resolved; '' when none fits)."""
    if kind == "orders" and fmt == "auto":
        best = next((g for g in formats_guess(headers) if not g[2]), None)
        return best[0] if best else ""
    return fmt


def map_prepare(kind: str, fmt: str, headers: list[str], again: Callable[[], Iterable[dict]], **options) -> dict:
    """The options the format decides from the whole file (read through `again()`), for map_rows'
    `prepared`: what map_rows would decide itself, so readers of parts of the file agree."""
    options = {k: v for k, v in options.items() if v is not None}
    f = ORDER_FORMATS.get(map_format(kind, fmt, headers)) if kind == "orders" else None
    if f is None or not f.prepare or f.missing(headers) or any(k not in f.options for k in options):
        return options  # map_rows refuses the unfit ones itself
    return f.prepare(headers, again(), **options)


def _unknown(kind: str, fmt: str) -> KefuError:
    known = "generic" if kind == "messages" else ", ".join(FORMAT_NAMES) + ", auto"
    return KefuError(f"unknown format {fmt!r} for {kind} (known: {known})", field="format")
