"""Writes of buyers (customers): resolving platform ids, the per-buyer lock, spam flags, shop-defined
tags (one buyer or in bulk), notes and phone notes, and the audited reveal of phone and address.
Merging two records of one person lives in merge.py."""

from django.db import transaction

from kefu.core.access import sees_contacts, sees_whole_shop, user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .enums import CustomerErrorCode, CustomerEventKind, NoteKind, TagColor
from .models import Customer, CustomerEvent, CustomerNote, CustomerTag, Tag

BULK_MAX = 1000  # buyers per bulk tag request (a page of the list is 50; "all matching" is capped)
TAGS_MAX = 200  # tags per shop


def customers_resolve(*, shop: Shop, nicks: dict[str, str]) -> dict[str, int]:
    """buyer id → customer id; a buyer met for the first time is created with its nick. The buyer id
    of a record merged into another (an alias) resolves to the record it was merged into."""
    ids = {b for b in nicks if b}
    found = {b: merged or cid for b, cid, merged in Customer.objects.filter(shop=shop, buyer_id__in=ids)
             .values_list("buyer_id", "id", "merged_into_id")}
    missing = ids - set(found)
    if missing:
        Customer.objects.bulk_create(
            [Customer(shop=shop, buyer_id=b, nick=nicks.get(b) or "") for b in sorted(missing)],
            ignore_conflicts=True,
            batch_size=1000,
        )
        found.update({b: merged or cid for b, cid, merged in Customer.objects.filter(shop=shop, buyer_id__in=missing)
                      .values_list("buyer_id", "id", "merged_into_id")})
    return found


def customers_lock(*, shop: Shop, customer_ids) -> set[int]:
    """Lock these buyers in id order — the one lock order of every writer of a buyer's rows (facts,
    conversations, routing, merges, care sends) — and return the ids of those flagged as spam.

    FOR NO KEY UPDATE: it excludes the other lockers but not an INSERT of a message or order that
    references the buyer (a foreign key takes KEY SHARE), so ingestion never waits for a rebuild.
    """
    ids = sorted(set(customer_ids))
    spam: set[int] = set()
    for i in range(0, len(ids), 500):
        locked = (Customer.objects.select_for_update(no_key=True)
                  .filter(shop=shop, id__in=ids[i : i + 500]).order_by("id"))
        spam.update(cid for cid, is_spam in locked.values_list("id", "is_spam") if is_spam)
    return spam


def customer_spam_set(*, shop: Shop, customer: Customer, spam: bool, actor=None) -> Customer:
    """Flag a buyer as spam/advertising (left out of every figure) or clear the flag."""
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


# ---------------------------------------------------------------- tags

def _tag_editor(actor: Agent | None) -> None:
    if actor is not None and not sees_whole_shop(actor):
        raise PermissionDenied("supervisors, managers and admins define the shop's tags", field="tag")


def tag_resolve(*, shop: Shop, tag) -> Tag:
    """A Tag of this shop, given as the row, its id or its name."""
    if isinstance(tag, Tag):
        if tag.shop_id != shop.pk:
            raise NotFound("no such tag in this shop", field="tag", code=CustomerErrorCode.UNKNOWN_TAG)
        return tag
    if isinstance(tag, int) and not isinstance(tag, bool):
        found = Tag.objects.filter(shop=shop, pk=tag).first()
    elif isinstance(tag, str):
        found = Tag.objects.filter(shop=shop, name=tag.strip()).first()
    else:
        raise KefuError("a tag name or id", field="tag")
    if found is None:
        raise KefuError(f"no tag {tag!r} in this shop", field="tag", code=CustomerErrorCode.UNKNOWN_TAG)
    return found


def tag_create(*, shop: Shop, name: str, color: str = TagColor.BLUE, actor: Agent | None) -> Tag:
    _tag_editor(actor)
    name = clean_text(name, field="name", max_len=20, required=True)
    if color not in TagColor.values:
        raise KefuError(f"one of {', '.join(TagColor.values)}", field="color")
    with transaction.atomic():
        Shop.objects.select_for_update().get(pk=shop.pk)  # the name check and the count hold
        if Tag.objects.filter(shop=shop, name=name).exists():
            raise KefuError(f"tag {name!r} exists", field="name", code=CustomerErrorCode.TAG_EXISTS)
        if Tag.objects.filter(shop=shop).count() >= TAGS_MAX:
            raise KefuError(f"at most {TAGS_MAX} tags", field="name", code=CustomerErrorCode.TOO_MANY)
        tag = Tag.objects.create(shop=shop, name=name, color=color, created_by=actor)
        audit_record(shop=shop, actor=user_of(actor), action="tag.create", entity=tag,
                     after={"name": name, "color": color})
    return tag


def tag_delete(*, shop: Shop, tag, actor: Agent | None) -> int:
    """Delete a tag and take it off every buyer; returns how many buyers had it."""
    _tag_editor(actor)
    tag = tag_resolve(shop=shop, tag=tag)
    with transaction.atomic():
        n = CustomerTag.objects.filter(tag=tag).count()
        audit_record(shop=shop, actor=user_of(actor), action="tag.delete", entity=tag,
                     before={"name": tag.name, "buyers": n})
        tag.delete()
    return n


def customer_tag_add(*, shop: Shop, customer: Customer, tag, actor: Agent | None) -> bool:
    """Put a tag on a buyer; False when it was already there. Any person of the shop (or a rule)."""
    return customer_tags_bulk(shop=shop, customer_ids=[customer.pk], tag=tag, add=True, actor=actor) == 1


def customer_tag_remove(*, shop: Shop, customer: Customer, tag, actor: Agent | None) -> bool:
    return customer_tags_bulk(shop=shop, customer_ids=[customer.pk], tag=tag, add=False, actor=actor) == 1


def customer_tags_bulk(*, shop: Shop, customer_ids, tag, add: bool, actor: Agent | None) -> int:
    """Add (or remove) one tag on many buyers at once; returns how many buyers changed. Buyers must
    be of this shop and not merged away; each change is an event on the buyer's timeline."""
    tag = tag_resolve(shop=shop, tag=tag)
    try:
        ids = sorted({int(i) for i in customer_ids})
    except (TypeError, ValueError) as exc:
        raise KefuError("buyer ids are numbers", field="customer_ids") from exc
    if not ids:
        raise KefuError("choose at least one buyer", field="customer_ids")
    if len(ids) > BULK_MAX:
        raise KefuError(f"at most {BULK_MAX} buyers at once", field="customer_ids", code=CustomerErrorCode.TOO_MANY)
    found = set(Customer.objects.filter(shop=shop, pk__in=ids, merged_into__isnull=True).values_list("pk", flat=True))
    if len(found) != len(ids):
        raise NotFound(f"no buyer {sorted(set(ids) - found)[0]} in this shop", field="customer_ids")
    with transaction.atomic():
        have = set(CustomerTag.objects.filter(tag=tag, customer_id__in=ids).values_list("customer_id", flat=True))
        if add:
            change = [i for i in ids if i not in have]
            CustomerTag.objects.bulk_create([CustomerTag(shop=shop, customer_id=i, tag=tag, added_by=actor)
                                             for i in change], ignore_conflicts=True)
        else:
            change = [i for i in ids if i in have]
            CustomerTag.objects.filter(tag=tag, customer_id__in=change).delete()
        kind = CustomerEventKind.TAG_ADD if add else CustomerEventKind.TAG_REMOVE
        CustomerEvent.objects.bulk_create([CustomerEvent(shop=shop, customer_id=i, kind=kind, detail=tag.name,
                                                         actor=actor) for i in change])
    return len(change)


# ---------------------------------------------------------------- notes

def customer_note_add(*, shop: Shop, customer: Customer, text: str, actor: Agent | None,
                      kind: str = NoteKind.NOTE) -> CustomerNote:
    """A note on the buyer, or a phone note (电话记录) of a call."""
    if kind not in NoteKind.values:
        raise KefuError(f"one of {', '.join(NoteKind.values)}", field="kind")
    text = clean_text(text, field="text", max_len=1000, required=True)
    if customer.shop_id != shop.pk:
        raise NotFound("buyer not found", field="customer")
    return CustomerNote.objects.create(shop=shop, customer=customer, kind=kind, text=text, author=actor)


# ---------------------------------------------------------------- contacts

def customer_contacts_reveal(*, shop: Shop, customer: Customer, member: Agent | None, reason: str = "") -> dict:
    """Phone and address unmasked, for the roles that need them (Q-5); every reveal is written to the
    append-only audit log with who, when and why, and shown on the buyer's timeline."""
    if member is None or not sees_contacts(member):
        raise PermissionDenied("your role sees buyers' phone and address masked", field="contacts")
    if customer.shop_id != shop.pk:
        raise NotFound("buyer not found", field="customer")
    reason = clean_text(reason, field="reason", max_len=200)
    with transaction.atomic():
        audit_record(shop=shop, actor=user_of(member), action="customer.unmask", entity=customer,
                     after={"fields": ["phone", "address"], "by": member.name, "reason": reason})
        CustomerEvent.objects.create(shop=shop, customer=customer, kind=CustomerEventKind.UNMASK,
                                     detail=reason, actor=member)
    return {"phone": customer.phone, "address": customer.address, "masked": False}
