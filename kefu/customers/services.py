from kefu.core.models import Shop

from .models import Customer


def customers_resolve(*, shop: Shop, nicks: dict[str, str]) -> dict[str, int]:
    """buyer id → customer id; a buyer met for the first time is created with its nick."""
    ids = {b for b in nicks if b}
    found = dict(Customer.objects.filter(shop=shop, buyer_id__in=ids).values_list("buyer_id", "id"))
    missing = ids - set(found)
    if missing:
        Customer.objects.bulk_create(
            [Customer(shop=shop, buyer_id=b, nick=nicks.get(b) or "") for b in sorted(missing)],
            ignore_conflicts=True,
            batch_size=1000,
        )
        found.update(Customer.objects.filter(shop=shop, buyer_id__in=missing).values_list("buyer_id", "id"))
    return found


def customers_lock(*, shop: Shop, customer_ids) -> set[int]:
    """Lock these buyers in id order — the one lock order of every writer of a buyer's rows (facts,
    conversations, routing) — and return the ids of those flagged as spam.

    FOR NO KEY UPDATE: it excludes the other lockers but not an INSERT of a message or order that
    references the buyer (a foreign key takes KEY SHARE), so ingestion never waits for a rebuild.
    """
    return customers_lock_rows(shop=shop, customer_ids=customer_ids)[1]


def customers_lock_rows(*, shop: Shop, customer_ids, skip_locked: bool = False) -> tuple[set[int], set[int]]:
    """customers_lock returning (locked ids, spam ids among them); with skip_locked=True the buyers
    another transaction holds are left out instead of waited for (the drain of marked buyers)."""
    ids = sorted(set(customer_ids))
    got: set[int] = set()
    spam: set[int] = set()
    for i in range(0, len(ids), 500):
        locked = (Customer.objects.select_for_update(no_key=True, skip_locked=skip_locked)
                  .filter(shop=shop, id__in=ids[i : i + 500]).order_by("id"))
        for cid, is_spam in locked.values_list("id", "is_spam"):
            got.add(cid)
            if is_spam:
                spam.add(cid)
    return got, spam


def customer_spam_set(*, shop: Shop, customer: Customer, spam: bool, actor=None) -> Customer:
    """Flag a buyer as spam/advertising (left out of every figure) or clear the flag."""
    from django.db import transaction

    from kefu.core.services import audit_record
    from kefu.metrics.services import facts_rebuild

    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk, shop=shop)
        if customer.is_spam == spam:
            return customer
        customer.is_spam = spam
        customer.save(update_fields=["is_spam"])
        audit_record(shop=shop, actor=actor, action="customer.spam", entity=customer,
                     before={"is_spam": not spam}, after={"is_spam": spam})
        facts_rebuild(shop=shop, customer_ids=[customer.pk])
    return customer
