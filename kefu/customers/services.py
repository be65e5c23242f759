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
