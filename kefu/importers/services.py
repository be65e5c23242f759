"""File imports: validate every row first, then write everything in one transaction."""

from collections.abc import Callable
from pathlib import Path

from django.db import transaction

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.inputs import IngestResult
from kefu.core.models import Shop
from kefu.metrics.queue import buyers_rebuild_now
from kefu.orders.services import orders_clean, orders_upsert

from .files import read_table
from .formats import map_rows

BATCH = 2000


def file_import(
    *, shop: Shop, kind: str, path: str | Path, fmt: str = "generic",
    progress: Callable[[int, int], None] | None = None, options: dict | None = None,
) -> tuple[IngestResult, list[str]]:
    """Import a messages or orders file. A bad row raises ValidationFailed and changes nothing.

    Row numbers in errors are the file's line numbers (the header is line 1). `options` go to
    the format (`amounts` for taobao); notes starting with "reading:" say how the file was read.
    """
    headers, raw = read_table(path)
    rows, warnings = map_rows(kind, fmt, headers, raw, **(options or {}))
    clean = (messages_clean if kind == "messages" else orders_clean)(rows, tz=shop.tz, first_row=2)
    ingest = messages_ingest if kind == "messages" else orders_upsert
    total = IngestResult()
    with transaction.atomic():
        for i in range(0, len(clean), BATCH):
            total.add(ingest(shop=shop, rows=clean[i : i + BATCH]))
            if progress:
                progress(min(i + BATCH, len(clean)), len(clean))
        buyers_rebuild_now(shop=shop, customer_ids=total.customer_ids)
    return total, warnings
