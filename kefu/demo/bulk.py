"""The demo shop loaded through the file importers, for shops of millions of messages.

`demo_load` sends the generated rows through the ingest services in 2,000-row batches inside one
transaction; that is the right check of the services but too slow for 10M messages. Here the same
generator's rows are written to a generic orders file and a generic messages file (the columns
`kefu import orders|messages` reads) and imported by `kefu.importers.services.file_import`: the
streaming validating pass, short write transactions (COPY of the orders on PostgreSQL), then the
facts drain. Orders go first so the drain after them is cheap (their buyers have no messages yet)
and the one after the messages rebuilds each buyer once with everything.

Same seed, scale and end date → the same month as `demo_load`, and the same figures
(tests/demo/test_bulk.py). No demo extensions are added (the benchmark shops have none either).
"""

import csv
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from kefu.customers.models import Customer
from kefu.importers.formats import (
    GENERIC_MESSAGE_COLUMNS,
    GENERIC_ORDER_COLUMNS,
    GENERIC_ORDER_OPTIONAL,
)
from kefu.importers.services import file_import

from . import phrases as P
from .generator import World
from .services import DemoResult, demo_accounts, demo_shop_create

ORDER_COLUMNS = GENERIC_ORDER_COLUMNS + GENERIC_ORDER_OPTIONAL


@dataclass
class BulkResult(DemoResult):
    timings: dict = field(default_factory=dict)  # seconds: generate (files), orders, messages (import incl. drain)


def _items_text(items: list[dict]) -> str:
    return ";".join(f"{i['sku']}:{i['quantity']}:{i['price']}" for i in items)


def demo_files_write(world: World, directory: str | Path) -> tuple[Path, Path, int, int]:
    """The world's messages and orders as generic import files: (messages path, orders path, counts).

    Messages are streamed to disk as they are generated; the orders are complete only after the
    last message (the generator keeps them in memory until then)."""
    directory = Path(directory)
    messages_path, orders_path = directory / "messages.csv", directory / "orders.csv"
    n_messages = 0
    with open(messages_path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(GENERIC_MESSAGE_COLUMNS)
        for m in world.messages():
            w.writerow([m[c] for c in GENERIC_MESSAGE_COLUMNS])
            n_messages += 1
    orders = world.orders()
    with open(orders_path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(ORDER_COLUMNS)
        for o in orders:
            w.writerow([_items_text(o[c]) if c == "items" else o.get(c, "") for c in ORDER_COLUMNS])
    return messages_path, orders_path, n_messages, len(orders)


def demo_load_bulk(*, code: str, directory: str | Path, seed: int = 2026, days: int = 30, scale: float = 1.0,
                   end: dt.date | None = None, progress: Callable[[str], None] | None = None) -> BulkResult:
    """Create the demo shop, write its month to import files in `directory`, and import them."""
    say = progress or (lambda _msg: None)
    accounts = demo_accounts(code, seed=seed)
    world = World(seed=seed, end=end, days=days, scale=scale, shop_name=P.SHOP_NAME, id_prefix=code)
    with transaction.atomic():
        shop = demo_shop_create(code=code, world=world, accounts=accounts)
    timings = {}
    t = time.perf_counter()
    messages_path, orders_path, n_messages, n_orders = demo_files_write(world, directory)
    timings["generate"] = time.perf_counter() - t
    say(f"files written: {n_messages:,} messages, {n_orders:,} orders in {timings['generate']:.1f} s")
    for kind, path in (("orders", orders_path), ("messages", messages_path)):
        t = time.perf_counter()
        last = [t]

        def report(done: int, total: int, kind=kind, t=t, last=last) -> None:
            now = time.perf_counter()
            if now - last[0] >= 60 or (done == total and total):
                last[0] = now
                say(f"  {kind}: {done:,} of {total:,} rows written ({done / max(now - t, 1e-9):,.0f} rows/s)")

        got = file_import(shop=shop, kind=kind, path=path, progress=report)
        timings[kind] = time.perf_counter() - t
        timings[f"{kind}_parts"] = got.timings
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in got.timings.items())
        say(f"imported {kind}: {got.result.created:,} created in {timings[kind]:.1f} s ({parts}; "
            f"{got.run.rows_total / timings[kind]:,.0f} rows/s)")
    return BulkResult(shop=shop, messages=n_messages, orders=n_orders,
                      buyers=Customer.objects.filter(shop=shop).count(), date_from=world.start,
                      date_to=world.end, accounts=accounts, timings=timings)
