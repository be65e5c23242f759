"""What every platform order format shares: amounts, status labels, grouping rows into orders.

A format turns the rows of one export file into Kefu's generic order rows (the shape
`kefu.orders.services.order_clean` reads). It never touches the database: validation and
writing are the importer's job, so a bad cell is still reported with the file's line number
(`_line` on each generic row).
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from kefu.core.errors import KefuError
from kefu.orders.services import parse_money

ZERO = Decimal("0.00")


def amount(value) -> Decimal | None:
    """A money cell as Decimal, or None when it is not an amount (validation names it later)."""
    try:
        return parse_money(value, "amount")
    except KefuError:
        return None


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\x00", "").strip()


def status_of(label: str, table: Iterable[tuple[str, str]]) -> str:
    """Kefu status for a platform label ('' when empty; '?label' is refused by validation, naming it)."""
    label = text(label)
    if not label:
        return ""
    for needle, code in table:
        if needle in label:
            return code
    return "?" + label


@dataclass
class OrderFormat:
    """One platform's order export."""

    name: str
    label: str
    # header → what it means (documentation and detection); required ones must be present
    columns: dict[str, str]
    required: tuple[str, ...]
    # (headers, file rows, notes, **options) → generic order rows, one at a time; notes for the
    # import summary are appended to `notes` (those counting the file's rows once they are all read)
    convert: Callable[..., Iterator[dict]]
    options: tuple[str, ...] = field(default=())
    # the column holding the order id when a file has one line per item (grouped by group_lines)
    group_key: str = ""
    # (headers, all the file's rows, **options) → options decided from the whole file (a pass of
    # its own, before the conversion: taobao's amounts=auto)
    prepare: Callable[..., dict] | None = None

    def missing(self, headers: list[str]) -> list[str]:
        return [c for c in self.required if c not in headers]

    def score(self, headers: list[str]) -> int:
        """How many of this format's known columns the file has."""
        return sum(1 for h in headers if h in self.columns)

    def ignored(self, headers: list[str]) -> list[str]:
        return [h for h in headers if h and h not in self.columns]


def group_lines(rows: Iterable[dict], key: str, first_line: int = 2) -> Iterator[tuple[int, list[dict]]]:
    """Consecutive rows of one order together: (file line of its first row, rows), as they come.

    Exports with one line per item (JD, 抖店 商品维度, Shopify) repeat the order id on each line,
    next to each other. Lines of one order further apart come out as two groups of the same id:
    the importer sees the id repeated and groups the file in memory instead (`lines_regrouped`).
    """
    current, group, line = None, [], 0
    for i, r in enumerate(rows):
        oid = text(r.get(key))
        if oid and oid == current:
            group.append(r)
            continue
        if group:
            yield line, group
        current, group, line = oid or None, [r], r.get("_line", first_line + i)  # no id: its own group
    if group:
        yield line, group


def lines_regrouped(rows: Iterable[dict], key: str) -> list[dict]:
    """The file's rows with the lines of each order moved next to its first line (stable)."""
    first: dict[str, int] = {}
    ranked = []
    for i, r in enumerate(rows):
        oid = text(r.get(key))
        ranked.append((first.setdefault(oid, i) if oid else i, i, r))
    ranked.sort(key=lambda t: t[:2])
    return [r for _, _, r in ranked]


def items_text(items: list[tuple[str, int | str, Decimal | None]]) -> list[dict] | str:
    """Items as the generic `items` value; an unreadable quantity or price stays text for validation."""
    out = []
    for sku, qty, price in items:
        try:
            q = int(float(text(qty) or 1))
        except ValueError:
            return f"{sku}:{text(qty)}:{price}"
        out.append({"sku": text(sku)[:80], "quantity": q, "price": str(price if price is not None else ZERO)})
    return out


def sum_amounts(values) -> Decimal | str:
    total = ZERO
    for v in values:
        a = amount(v)
        if a is None:
            return text(v)  # the bad cell, for validation to name
        total += a
    return total
