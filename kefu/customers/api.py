from django.http import Http404
from ninja import Query, Router, Schema, Status

from kefu.core.access import sees_whole_shop
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import MAX_OFFSET
from kefu.crm.schemas import GradeIn, GradeOut
from kefu.crm.selectors import grades_list
from kefu.crm.services import grade_override_set

from . import merge as merging
from . import services
from .models import Customer, CustomerMerge, Tag
from .profile import buyer_profile
from .schemas import (
    BulkTagIn,
    BulkTagOut,
    BuyerMergeIn,
    BuyerNoteOut,
    BuyerOut,
    ContactsOut,
    MergeOut,
    NoteIn,
    ProfileOut,
    RevealIn,
    TagChangeIn,
    TagCountOut,
    TagIn,
    TagOut,
)
from .selectors import (
    buyer_filters_clean,
    buyers_list,
    cents,
    customer_find,
    customer_get_for_user,
    tags_of_shop,
    visible_buyers_q,
)
from .services import customer_spam_set

router = Router(tags=["customers"], auth=AUTH)


def _grade_out(g) -> dict:
    return {"buyer_id": g.customer.buyer_id, "nick": g.customer.nick, "grade": g.grade, "computed": g.computed,
            "override": g.override, "override_reason": g.override_reason, "spend": g.spend, "orders": g.orders,
            "computed_at": g.computed_at}


# Declared before any /customers/{buyer_id} GET so that "grades" is never read as a buyer id.
@router.get("/customers/grades", response=list[GradeOut])
def customer_grades(request, shop: str | None = None, grade: str | None = Query(None, max_length=20),
                    q: str = Query("", max_length=120), limit: int = Query(100, ge=1, le=1000),
                    offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """PRE-9: the graded list (supervisors and up), highest spend first; filter by `grade`."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not sees_whole_shop(member):
        raise PermissionDenied("supervisors, managers and admins only")
    return [_grade_out(g) for g in grades_list(shop=shop_obj, grade=grade, q=q)[offset:offset + limit]]


@router.post("/customers/{buyer_id}/grade", response=GradeOut)
def customer_grade_set(request, buyer_id: str, payload: GradeIn, shop: str | None = None):
    """Grade a buyer by hand (wins over the rules; a reason is required; audited), or clear the
    manual grade with `grade: ""`. Any person of the shop."""
    shop_obj, member = request.auth.shop_for(shop)
    customer = customer_find(shop=shop_obj, buyer_id=buyer_id)
    if customer is None:
        raise Http404("customer")
    g = grade_override_set(shop=shop_obj, customer=customer, grade=payload.grade, reason=payload.reason,
                           actor=member)
    g.customer = customer
    return _grade_out(g)


class SpamIn(Schema):
    spam: bool


class CustomerOut(Schema):
    buyer_id: str
    nick: str
    is_spam: bool


@router.post("/customers/{buyer_id}/spam", response=CustomerOut)
def customer_spam(request, buyer_id: str, payload: SpamIn, shop: str | None = None):
    """Flag a buyer as spam/advertising (left out of every figure), or clear it. Supervisors and up."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not sees_whole_shop(member):
        raise PermissionDenied("supervisors, managers and admins only")
    customer = customer_find(shop=shop_obj, buyer_id=buyer_id)
    if customer is None:
        raise Http404("customer")
    actor = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
    customer = customer_spam_set(shop=shop_obj, customer=customer, spam=payload.spam, actor=actor)
    return {"buyer_id": customer.buyer_id, "nick": customer.nick, "is_spam": customer.is_spam}


# ---------------------------------------------------------------- buyer list and 360 (CRM-1)

def _buyer(request, shop: str | None, buyer_id: str):
    """The shop, the person and a buyer they may see, by platform id (an alias finds the record kept)."""
    shop_obj, member = request.auth.shop_for(shop)
    c = customer_find(shop=shop_obj, buyer_id=buyer_id)
    if c is None:
        raise Http404("customer")
    return shop_obj, member, customer_get_for_user(shop=shop_obj, member=member, id=c.pk)


def buyer_out(c) -> dict:
    from kefu.core.access import mask_phone

    grade = getattr(c, "grade", None)
    return {"buyer_id": c.buyer_id, "nick": c.nick, "phone": mask_phone(c.phone), "grade": grade.grade if grade else None,
            "tags": [t.tag.name for t in c.taggings.all()], "spend": cents(c.spend), "paid_orders": c.paid_orders,
            "first_paid_at": c.first_paid_at, "last_paid_at": c.last_paid_at, "at_risk": c.at_risk,
            "is_spam": c.is_spam}


@router.get("/customers", response=list[BuyerOut])
def customers_get(request, shop: str | None = None, q: str = Query("", max_length=120),
                  grade: str = Query("", max_length=20), tag: int | None = None, spend_min: str = "",
                  spend_max: str = "", last_paid_from: str = "", last_paid_to: str = "", at_risk: str = "",
                  sort: str = "last_paid", limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """CRM-1: the buyers you may see (agents: the buyers they served), searched by nick, platform id,
    phone tail or order id, filtered by grade, tag, spend, last payment day and churn risk."""
    shop_obj, member = request.auth.shop_for(shop)
    filters = buyer_filters_clean({"q": q, "grade": grade, "tag": tag, "spend_min": spend_min,
                                   "spend_max": spend_max, "last_paid_from": last_paid_from,
                                   "last_paid_to": last_paid_to, "at_risk": at_risk, "sort": sort})
    return [buyer_out(c) for c in buyers_list(shop=shop_obj, member=member, filters=filters)[offset:offset + limit]]


def _rows(items, kind, state, text, at) -> list[dict]:
    return [{"id": i.pk, "kind": str(kind(i) or ""), "state": str(state(i) or ""), "text": str(text(i) or ""),
             "at": at(i)} for i in items]


@router.get("/customers/{buyer_id}", response=ProfileOut)
def customer_get(request, buyer_id: str, shop: str | None = None):
    """The buyer 360: ids on each platform, masked contacts, grade, tags, figures, and the latest
    orders, cases, complaints, reviews, conversations, notes, follow-ups, revisits, surprises and
    care messages, whether they opted out, and why they are at risk."""
    shop_obj, member, c = _buyer(request, shop, buyer_id)
    p = buyer_profile(shop=shop_obj, member=member, customer=c)
    f = p["figures"]
    out = {"buyer_id": c.buyer_id, "nick": c.nick, "phone": p["contacts"]["phone"],
           "address": p["contacts"]["address"], "grade": p["grade"].grade if p["grade"] else None,
           "tags": [t.name for t in p["tags"]], "spend": cents(f.spend), "paid_orders": f.paid_orders,
           "first_paid_at": f.first_paid_at, "last_paid_at": f.last_paid_at, "at_risk": f.at_risk,
           "is_spam": c.is_spam, "platform_ids": p["platform_ids"], "reorder_interval_days": p["reorder_interval_days"],
           "orders": p["orders"], "order_count": p["order_count"], "review_counts": p["review_counts"],
           "opted_out": p["opt_out"] is not None}
    out["cases"] = _rows(p["cases"], lambda x: x.type, lambda x: x.state, lambda x: x.get_reason_display(),
                         lambda x: x.created_at)
    out["complaints"] = _rows(p["complaints"], lambda x: x.category, lambda x: x.state, lambda x: x.summary,
                              lambda x: x.created_at)
    out["reviews"] = _rows(p["reviews"], lambda x: x.level, lambda x: getattr(getattr(x, "task", None), "outcome", ""),
                           lambda x: x.text, lambda x: x.created_at)
    out["conversations"] = _rows(p["conversations"], lambda x: "conversation", lambda x: "closed" if x.closed_at
                                 else "open", lambda x: x.agent.name if x.agent else "", lambda x: x.started_at)
    out["notes"] = _rows(p["notes"], lambda x: x.kind, lambda x: "", lambda x: x.text, lambda x: x.created_at)
    out["followups"] = _rows(p["followups"], lambda x: x.kind, lambda x: x.state, lambda x: x.note,
                             lambda x: x.created_at)
    out["revisits"] = _rows(p["revisits"], lambda x: x.plan.name, lambda x: x.state, lambda x: x.outcome,
                            lambda x: x.due_on)
    out["surprises"] = _rows(p["surprises"], lambda x: x.kind, lambda x: x.state,
                             lambda x: f"{x.description} ¥{x.cost}", lambda x: x.created_at)
    out["care_messages"] = _rows(p["care_sends"], lambda x: x.campaign.name, lambda x: x.outcome,
                                 lambda x: x.outbound.state if x.outbound else "", lambda x: x.created_at)
    out["churn_reasons"] = _rows(p["churn_flags"], lambda x: x.reason, lambda x: "open", lambda x: x.detail,
                                 lambda x: x.raised_at)
    return out


@router.post("/customers/{buyer_id}/contacts/reveal", response=ContactsOut)
def customer_reveal(request, buyer_id: str, payload: RevealIn, shop: str | None = None):
    """Phone and address unmasked, for supervisors, managers, admins and the warehouse; every call is
    written to the audit log (integration tokens: as the integration)."""
    shop_obj, member, c = _buyer(request, shop, buyer_id)
    if member is None:  # an integration reads contacts as the shop's system
        from kefu.core.services import audit_record

        audit_record(shop=shop_obj, actor=None, action="customer.unmask", entity=c,
                     after={"fields": ["phone", "address"], "by": "integration", "reason": payload.reason})
        return {"phone": c.phone, "address": c.address}
    return services.customer_contacts_reveal(shop=shop_obj, customer=c, member=member, reason=payload.reason)


@router.post("/customers/{buyer_id}/tags", response=list[TagOut])
def customer_tag_post(request, buyer_id: str, payload: TagChangeIn, shop: str | None = None):
    """Put one of the shop's tags on the buyer (no change when it is there)."""
    shop_obj, member, c = _buyer(request, shop, buyer_id)
    services.customer_tag_add(shop=shop_obj, customer=c, tag=payload.tag, actor=member)
    return _tags_out(c)


@router.post("/customers/{buyer_id}/tags/remove", response=list[TagOut])
def customer_tag_remove_post(request, buyer_id: str, payload: TagChangeIn, shop: str | None = None):
    shop_obj, member, c = _buyer(request, shop, buyer_id)
    services.customer_tag_remove(shop=shop_obj, customer=c, tag=payload.tag, actor=member)
    return _tags_out(c)


def _tags_out(c) -> list[dict]:
    from .selectors import customer_tags

    return [{"id": t.pk, "name": t.name, "color": t.color} for t in customer_tags(customer=c)]


@router.post("/customers/{buyer_id}/notes", response={201: BuyerNoteOut})
def customer_note_post(request, buyer_id: str, payload: NoteIn, shop: str | None = None):
    """A note on the buyer, or a phone note (`kind: phone`) of a call."""
    shop_obj, member, c = _buyer(request, shop, buyer_id)
    n = services.customer_note_add(shop=shop_obj, customer=c, text=payload.text, kind=payload.kind, actor=member)
    return Status(201, {"id": n.pk, "kind": n.kind, "text": n.text, "author": member.name if member else None,
                        "created_at": n.created_at})


def merge_out(m: CustomerMerge) -> dict:
    return {"id": m.pk, "source": m.source.buyer_id, "target": m.target.buyer_id, "created_at": m.created_at,
            "undone_at": m.undone_at, "moved": {k: len(v) for k, v in m.moved.items() if k != "filled"}}


@router.post("/customers/{buyer_id}/merge", response={201: MergeOut})
def customer_merge_post(request, buyer_id: str, payload: BuyerMergeIn, shop: str | None = None):
    """Merge this record into `into` (the same person): every row moves there and the figures are
    rebuilt; undo within 24 hours. Supervisors, managers and the care owners."""
    shop_obj, member, source = _buyer(request, shop, buyer_id)
    target = customer_find(shop=shop_obj, buyer_id=payload.into)
    if target is None:
        raise NotFound("no such buyer in this shop", field="into")
    target = customer_get_for_user(shop=shop_obj, member=member, id=target.pk)
    m = merging.customer_merge(shop=shop_obj, source=source, target=target, actor=member, reason=payload.reason)
    return Status(201, merge_out(m))


@router.post("/customer-merges/{merge_id}/undo", response=MergeOut)
def customer_merge_undo_post(request, merge_id: int, shop: str | None = None):
    """Undo a merge (within 24 hours, the newest merge of the two records first)."""
    shop_obj, member = request.auth.shop_for(shop)
    if not CustomerMerge.objects.filter(shop=shop_obj, pk=merge_id).exists():
        raise Http404("merge")
    m = merging.customer_merge_undo(shop=shop_obj, merge_id=merge_id, actor=member)
    m = CustomerMerge.objects.select_related("source", "target").get(pk=m.pk)
    return merge_out(m)


@router.get("/customer-tags", response=list[TagCountOut])
def customer_tags_get(request, shop: str | None = None):
    """The shop's buyer tags with how many buyers carry each."""
    shop_obj, _member = request.auth.shop_for(shop)
    return [{"id": t.pk, "name": t.name, "color": t.color, "buyers": t.n} for t in tags_of_shop(shop=shop_obj)]


@router.post("/customer-tags", response={201: TagOut})
def customer_tag_create(request, payload: TagIn, shop: str | None = None):
    """Define a tag (supervisors and up)."""
    shop_obj, member = request.auth.shop_for(shop)
    t = services.tag_create(shop=shop_obj, name=payload.name, color=payload.color, actor=member)
    return Status(201, {"id": t.pk, "name": t.name, "color": t.color})


@router.post("/customer-tags/{tag_id}/delete", response=BulkTagOut)
def customer_tag_delete(request, tag_id: int, shop: str | None = None):
    """Delete a tag and take it off every buyer (supervisors and up)."""
    shop_obj, member = request.auth.shop_for(shop)
    if not Tag.objects.filter(shop=shop_obj, pk=tag_id).exists():
        raise Http404("tag")
    return {"changed": services.tag_delete(shop=shop_obj, tag=tag_id, actor=member)}


@router.post("/customer-tags/bulk", response=BulkTagOut)
def customer_tags_bulk_post(request, payload: BulkTagIn, shop: str | None = None):
    """Add (or remove, `action: remove`) one tag on up to 1,000 buyers you may see."""
    shop_obj, member = request.auth.shop_for(shop)
    if payload.action not in ("add", "remove"):
        raise KefuError("add or remove", field="action")
    resolved = {b: merged or pk for b, pk, merged in Customer.objects.filter(
        shop=shop_obj, buyer_id__in=payload.buyer_ids).values_list("buyer_id", "pk", "merged_into_id")}
    visible = set(Customer.objects.filter(pk__in=set(resolved.values())).filter(visible_buyers_q(member))
                  .values_list("pk", flat=True))
    missing = [b for b in payload.buyer_ids if resolved.get(b) not in visible]
    if missing:
        raise NotFound(f"no buyer {missing[0]!r} you may see in this shop", field="buyer_ids")
    n = services.customer_tags_bulk(shop=shop_obj, customer_ids=visible, tag=payload.tag,
                                    add=payload.action == "add", actor=member)
    return {"changed": n}
