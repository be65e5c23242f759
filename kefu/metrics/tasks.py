import logging

from django_tasks import task

from kefu.core.models import Shop

from .audit import rollup_differences
from .services import rollups_rebuild

log = logging.getLogger("kefu.metrics")


@task()
def rollup_audit(shop_id: int) -> int:
    """Nightly: compare the incremental roll-up with a recompute from raw rows; repair drift."""
    shop = Shop.objects.get(pk=shop_id)
    diffs = rollup_differences(shop=shop)
    if diffs:
        log.error("roll-up drift in shop %s: %d differences, first %s; rebuilding", shop.code, len(diffs), diffs[0])
        rollups_rebuild(shop=shop)
    return len(diffs)
