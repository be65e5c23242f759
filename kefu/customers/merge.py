"""Merge two records of one person (CRM-1), and undo a merge within UNDO_HOURS.

Every row of any app that points at the merged-away record (`source`) moves to the record kept
(`target`): the relations are read from the model graph, so an app that adds a buyer foreign key
is covered without being listed here. Two kinds are not moved:
- derived rows (REBUILT): the metric facts, rebuilt from the moved messages and orders by the one
  definition (`facts_rebuild`), so every figure follows the merge exactly;
- a row whose unique key the target already holds (the same tag, the same agent's rating
  invitation that day): it stays with the source, where an undo finds it.
The ids of what moved are kept on the CustomerMerge row, so an undo moves exactly those back. Rows
that arrived for the person while merged stay with the target. The source stays as an alias: its
buyer id resolves to the target (`customers_resolve`).
"""

import datetime as dt

from django.db import transaction
from django.db.models import Q, UniqueConstraint
from django.utils import timezone
from django.utils.module_loading import import_string

from kefu.core.access import user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .enums import CustomerErrorCode, CustomerEventKind
from .models import Customer, CustomerEvent, CustomerMerge
from .services import customers_lock

UNDO_HOURS = 24
# Facts derived from a buyer's raw rows: rebuilt after a merge or undo, never moved.
# A buyer's grade is recomputed too (a manual grade stays with its own record, back after an undo).
# The deferred rebuild's marks (ADR 0004) stay on their record: the merge rebuilds both records
# itself, and a later drain of either is harmless (a rebuild is idempotent).
REBUILT = frozenset({"metrics.Reception", "metrics.Turn", "metrics.OrderCredit", "care.ChurnFlag",
                     "crm.CustomerGrade", "metrics.DirtyBuyer"})
# Relations that are history of the records themselves, not the person's rows.
KEPT = frozenset({"customers.CustomerMerge.source", "customers.CustomerMerge.target"})
# Contact fields the target takes from the source when it has none (given back on undo).
FILLED = ("nick", "phone", "address")
# Called inside the transaction after the rows moved (and again after an undo), with
# shop=, customer_ids=: apps whose own derived rows depend on the buyer's rows.
AFTER_MOVE = (
    "kefu.crm.services.grades_after_merge",
    "kefu.care.churn.churn_after_merge",
)
CHUNK = 500


def buyer_relations():
    """(model, foreign key field) of every relation pointing at Customer, except the alias link."""
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete or not (rel.one_to_many or rel.one_to_one):
            continue
        if rel.related_model is Customer:
            continue  # merged_into: repointed by hand below
        yield rel.related_model, rel.field


def _key(model, field) -> str:
    return f"{model._meta.label}.{field.name}"


def _unique_sets(model, field) -> list[tuple[str, ...]]:
    """The other fields of each unique key that includes the buyer field."""
    sets = []
    if field.unique:
        sets.append(())
    for c in model._meta.constraints:
        if isinstance(c, UniqueConstraint) and c.fields and field.name in c.fields:
            sets.append(tuple(f for f in c.fields if f != field.name))
    for ut in model._meta.unique_together:
        if field.name in ut:
            sets.append(tuple(f for f in ut if f != field.name))
    return sets


def _move(model, field, from_id: int, to_id: int, ids: list[int] | None = None) -> list[int]:
    """Point rows of `model` from one buyer to the other (all of them, or these ids: an undo),
    except those whose unique key the other buyer already holds. Returns the ids moved."""
    if ids is not None and len(ids) > CHUNK:
        return [i for k in range(0, len(ids), CHUNK) for i in _move(model, field, from_id, to_id, ids[k:k + CHUNK])]
    qs = model._default_manager.filter(**{field.attname: from_id})
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    sets = _unique_sets(model, field)
    if not sets:
        moving = list(qs.values_list("pk", flat=True))
    else:
        cols = sorted({f for s in sets for f in s})
        held = {s: set() for s in sets}
        for row in model._default_manager.filter(**{field.attname: to_id}).values(*cols):
            for s in sets:
                held[s].add(tuple(row[f] for f in s))
        moving = [row["pk"] for row in qs.values("pk", *cols)
                  if all(tuple(row[f] for f in s) not in held[s] for s in sets)]
    for i in range(0, len(moving), CHUNK):
        model._default_manager.filter(pk__in=moving[i:i + CHUNK]).update(**{field.attname: to_id})
    return moving


def _after_move(shop: Shop, customer_ids: list[int]) -> None:
    from kefu.metrics.services import facts_rebuild

    facts_rebuild(shop=shop, customer_ids=customer_ids)
    for path in AFTER_MOVE:
        import_string(path)(shop=shop, customer_ids=customer_ids)


def customer_merge(*, shop: Shop, source: Customer, target: Customer, actor: Agent | None,
                   reason: str = "", now: dt.datetime | None = None) -> CustomerMerge:
    """Merge `source` into `target` (two records of one person). Supervisors and up."""
    from .selectors import sees_all_buyers

    if actor is not None and not sees_all_buyers(actor):
        raise PermissionDenied("supervisors, managers and the care owners merge buyers", field="source")
    reason = clean_text(reason, field="reason", max_len=300)
    if source.shop_id != shop.pk or target.shop_id != shop.pk:
        raise NotFound("buyer not found", field="source")
    if source.pk == target.pk:
        raise KefuError("a record cannot be merged into itself", field="target", code=CustomerErrorCode.MERGE_SAME)
    now = now or timezone.now()
    with transaction.atomic():
        customers_lock(shop=shop, customer_ids=[source.pk, target.pk])
        source = Customer.objects.get(pk=source.pk)
        target = Customer.objects.get(pk=target.pk)
        for c, f in ((source, "source"), (target, "target")):
            if c.merged_into_id is not None:
                raise KefuError(f"{c.buyer_id} was merged into another record", field=f, code=CustomerErrorCode.MERGED)
        if source.is_spam != target.is_spam:
            raise KefuError("one record is flagged as spam and the other is not", field="source",
                            code=CustomerErrorCode.MERGE_SPAM)
        moved: dict[str, list[int]] = {}
        for model, field in buyer_relations():
            key = _key(model, field)
            if model._meta.label in REBUILT or key in KEPT:
                continue
            ids = _move(model, field, source.pk, target.pk)
            if ids:
                moved[key] = ids
        aliases = list(Customer.objects.filter(merged_into=source).values_list("pk", flat=True))
        Customer.objects.filter(pk__in=aliases).update(merged_into=target)
        if aliases:
            moved["customers.Customer.merged_into"] = aliases
        filled = {}
        for f in FILLED:
            if not getattr(target, f) and getattr(source, f):
                filled[f] = getattr(source, f)
                setattr(target, f, filled[f])
        if filled:
            target.save(update_fields=list(filled))
        moved["filled"] = filled
        source.merged_into = target
        source.save(update_fields=["merged_into"])
        merge = CustomerMerge.objects.create(shop=shop, source=source, target=target, reason=reason, moved=moved,
                                             merged_by=actor, created_at=now)
        _after_move(shop, [source.pk, target.pk])
        counts = {k: len(v) for k, v in moved.items() if k != "filled"}
        detail = f"{source.buyer_id} → {target.buyer_id}"
        CustomerEvent.objects.bulk_create([
            CustomerEvent(shop=shop, customer=target, kind=CustomerEventKind.MERGE, detail=detail, actor=actor),
            CustomerEvent(shop=shop, customer=source, kind=CustomerEventKind.MERGE, detail=detail, actor=actor)])
        audit_record(shop=shop, actor=user_of(actor), action="customer.merge", entity=merge,
                     after={"source": source.buyer_id, "target": target.buyer_id, "reason": reason, "moved": counts,
                            "filled": sorted(filled)})
    return merge


def customer_merge_undo(*, shop: Shop, merge_id: int, actor: Agent | None,
                        now: dt.datetime | None = None) -> CustomerMerge:
    """Move back exactly what a merge moved, within UNDO_HOURS, newest merge first."""
    from .selectors import sees_all_buyers

    if actor is not None and not sees_all_buyers(actor):
        raise PermissionDenied("supervisors, managers and the care owners merge buyers", field="merge")
    now = now or timezone.now()
    with transaction.atomic():
        merge = CustomerMerge.objects.select_for_update().filter(shop=shop, pk=merge_id).first()
        if merge is None:
            raise NotFound("merge not found", field="merge_id")
        if merge.undone_at is not None:
            raise KefuError("this merge was undone already", field="merge_id", code=CustomerErrorCode.ALREADY_DONE)
        if now - merge.created_at > dt.timedelta(hours=UNDO_HOURS):
            raise KefuError(f"a merge can be undone within {UNDO_HOURS} hours", field="merge_id",
                            code=CustomerErrorCode.UNDO_EXPIRED)
        ids = (merge.source_id, merge.target_id)
        later = CustomerMerge.objects.filter(shop=shop, undone_at__isnull=True, created_at__gte=merge.created_at) \
            .exclude(pk=merge.pk).filter(_either(ids)).exists()
        if later:
            raise KefuError("a later merge of these records must be undone first", field="merge_id",
                            code=CustomerErrorCode.UNDO_ORDER)
        customers_lock(shop=shop, customer_ids=ids)
        relations = {_key(m, f): (m, f) for m, f in buyer_relations()}
        for key, row_ids in merge.moved.items():
            if key == "filled":
                continue
            if key == "customers.Customer.merged_into":
                Customer.objects.filter(pk__in=row_ids, merged_into_id=merge.target_id).update(
                    merged_into_id=merge.source_id)
                continue
            if key in relations:  # an app removed since the merge has nothing to give back
                model, field = relations[key]
                _move(model, field, merge.target_id, merge.source_id, ids=row_ids)
        target = Customer.objects.get(pk=merge.target_id)
        back = [f for f, v in (merge.moved.get("filled") or {}).items() if getattr(target, f) == v]
        for f in back:
            setattr(target, f, "")
        if back:
            target.save(update_fields=back)
        Customer.objects.filter(pk=merge.source_id).update(merged_into=None)
        merge.undone_at, merge.undone_by = now, actor
        merge.save(update_fields=["undone_at", "undone_by"])
        _after_move(shop, list(ids))
        source = Customer.objects.get(pk=merge.source_id)
        detail = f"{source.buyer_id} ← {target.buyer_id}"
        CustomerEvent.objects.bulk_create([
            CustomerEvent(shop=shop, customer_id=cid, kind=CustomerEventKind.UNMERGE, detail=detail, actor=actor)
            for cid in ids])
        audit_record(shop=shop, actor=user_of(actor), action="customer.unmerge", entity=merge,
                     before={"merged": True}, after={"source": source.buyer_id, "target": target.buyer_id})
    return merge


def _either(ids) -> Q:
    return Q(source_id__in=ids) | Q(target_id__in=ids)
