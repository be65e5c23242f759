import logging

from django_tasks import task

from kefu.core.models import Shop

from .audit import rollup_differences
from .services import rollups_rebuild

log = logging.getLogger("kefu.metrics")


@task(priority=50)
def facts_drain_task() -> int:
    """Rebuild marked buyers (ADR 0004) until none is left, lingering a moment for new ones; after
    TASK_SECONDS hand the worker back to other tasks and queue the rest."""
    from .queue import facts_drain_linger

    return facts_drain_linger()


@task()
def rollup_audit(shop_id: int) -> int:
    """Nightly: compare the incremental roll-up with a recompute from raw rows; repair drift.

    Marked buyers are drained first (their figures are behind on purpose, not drifted); a
    difference found while new marks arrived is checked once more after draining them."""
    from .queue import facts_drain, facts_pending

    shop = Shop.objects.get(pk=shop_id)
    facts_drain(shop=shop)
    diffs = rollup_differences(shop=shop)
    if diffs and facts_pending(shop=shop):
        facts_drain(shop=shop)
        diffs = rollup_differences(shop=shop)
    if diffs:
        log.error("roll-up drift in shop %s: %d differences, first %s; rebuilding", shop.code, len(diffs), diffs[0])
        rollups_rebuild(shop=shop)
    return len(diffs)
