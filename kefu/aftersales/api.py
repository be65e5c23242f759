"""After-sales cases (AFT-1, AFT-2, AFT-3, AFT-11) under /api/v1/."""

from django.http import FileResponse, Http404, StreamingHttpResponse
from ninja import Query, Router, Status

from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError
from kefu.core.models import Agent
from kefu.core.timeutil import parse_day

from . import evidence, logistics, money, rules, services
from . import selectors as sel
from .enums import CaseErrorCode, CaseReason, CaseState, CaseType
from .models import Case, CourierClaim
from .policy import policy_suggest
from .schemas import (
    CaseEvidenceOut,
    CaseOpenIn,
    CaseOut,
    CaseTransitionIn,
    CategoryPolicyIn,
    ClaimIn,
    ClaimOut,
    ClaimTransitionIn,
    EarlyRefundIn,
    HolidayIn,
    ItemAddIn,
    ItemChangeIn,
    LineAddIn,
    LineChangeIn,
    OverrideIn,
    RefundIn,
    RefundOut,
    RetentionDecideIn,
    RetentionIn,
    ReturnShippedIn,
    RulesOut,
    SecondServiceIn,
    SuggestionOut,
    VersionIn,
)

router = Router(tags=["aftersales"], auth=AUTH)
MAX_ZIP_FILES = 2000


def case_out(c: Case) -> dict:
    return {"id": c.pk, "type": c.type, "reason": c.reason, "responsible": c.responsible, "state": c.state,
            "version": c.version, "order_id": c.order.order_id if c.order_id else None,
            "buyer_id": c.order.customer.buyer_id if c.order_id else None,
            "intercepted": c.intercepted, "refused": c.refused, "owner": c.owner.name if c.owner_id else None,
            "note": c.note, "items": [{"sku": i.sku, "qty": i.qty} for i in c.items.all()],
            "money_lines": [{"id": m.pk, "kind": m.kind, "direction": m.direction, "amount": m.amount,
                             "state": m.state, "note": m.note, "early": m.early,
                             "pending_approval": m.approval_id is not None} for m in c.money_lines.all()],
            "events": [{"action": e.action, "from_state": e.from_state, "to_state": e.to_state,
                        "actor": e.actor.name if e.actor_id else None, "note": e.note, "created_at": e.created_at}
                       for e in c.events.all()],
            "allowed_transitions": sorted(services.TRANSITIONS[c.state]), "created_at": c.created_at,
            **case_extras(c)}


def case_extras(c: Case) -> dict:
    """The AFT-5..12 parts of a case (prefetched: claims, retentions, evidence, approvals, second_service)."""
    pending = next((a.request_id for a in c.approvals.all() if a.state == "pending"), None)
    ss = getattr(c, "second_service", None) if hasattr(c, "second_service") else None
    return {"return_courier": c.return_courier, "return_tracking_no": c.return_tracking_no,
            "return_received_at": c.return_received_at, "return_due_at": c.return_due_at,
            "override_reason": c.override_reason, "pending_approval_id": pending,
            "claims": [claim_out(x) for x in c.claims.all()],
            "retentions": [{"id": r.pk, "offer": r.offer, "offer_amount": r.offer_amount, "outcome": r.outcome,
                            "created_at": r.created_at} for r in c.retentions.all()],
            "evidence_count": len(c.evidence.all()),
            "second_service": {"due_on": ss.due_on, "done_at": ss.done_at, "note": ss.note,
                               "satisfied": ss.satisfied} if ss else None,
            "money_outcome": logistics.money_outcome(c)}


def claim_out(x) -> dict:
    return {"id": x.pk, "case_id": x.case_id, "courier": x.courier, "tracking_no": x.tracking_no,
            "amount_claimed": x.amount_claimed, "amount_recovered": x.amount_recovered, "state": x.state,
            "version": x.version, "note": x.note}


@router.post("/cases", response={201: CaseOut})
def case_post(request, payload: CaseOpenIn, shop: str | None = None):
    """Open an after-sales case (售后单) with its items and planned money lines."""
    shop_obj, member = request.auth.shop_for(shop)
    order = sel.order_get_in_shop(shop=shop_obj, order_id=payload.order_id) if payload.order_id else None
    owner = None
    if payload.owner_id is not None:
        owner = Agent.objects.filter(shop=shop_obj, pk=payload.owner_id, active=True).first()
        if owner is None:
            raise KefuError("no such person in this shop", field="owner_id", code="not_found")
    case = services.case_open(
        shop=shop_obj, actor_agent=member, type=payload.type, reason=payload.reason, order=order,
        responsible=payload.responsible or "", items=[(i.sku, i.qty) for i in payload.items],
        intercepted=payload.intercepted, refused=payload.refused, owner=owner, note=payload.note,
        money_lines=[services.MoneyLineIn(kind=m.kind, direction=m.direction, amount=m.amount, note=m.note)
                     for m in payload.money_lines])
    return Status(201, case_out(sel.case_get_for_user(shop=shop_obj, member=None, id=case.pk)))


@router.get("/cases", response=list[CaseOut])
def cases_get(request, shop: str | None = None, state: CaseState | None = None, type: CaseType | None = None,
              order_id: str | None = None, limit: int = Query(100, ge=1, le=1000)):
    """Cases, newest first. Agents see their own and the unassigned ones."""
    shop_obj, member = request.auth.shop_for(shop)
    qs = sel.cases_for(shop=shop_obj, member=member, state=state, type=type, order_id=order_id)
    return [case_out(c) for c in qs.prefetch_related(*sel.CASE_PREFETCH)[:limit]]


@router.get("/cases/policy", response=SuggestionOut)
def case_policy(request, order_id: str | None = None, reason: CaseReason | None = None, shop: str | None = None,
                sku: str | None = None,
                worn: bool = False, refused: bool = False, responsible: str | None = None,
                new_item_price: str | None = None, override_reason: str = ""):
    """The policy's suggestion for an order and a reason: handling, who pays which shipping, the price
    difference of an exchange (`new_item_price`) and whether to escalate. It suggests; you decide."""
    shop_obj, _member = request.auth.shop_for(shop)
    if not order_id:
        raise KefuError("required", field="order_id")
    if not reason:
        raise KefuError("required", field="reason")
    order = sel.order_get_in_shop(shop=shop_obj, order_id=order_id)
    days = sel.days_since_signed_in_shop(shop_obj, order)
    price = sel.item_price(order, sku)
    first_sku = sku or next((it.sku_code for it in order.items.all()), None)
    windows = sel.windows_for(shop=shop_obj, category=sel.category_of(shop_obj, first_sku), signed_at=order.signed_at)
    s = policy_suggest(reason=reason, responsible=responsible, days_since_signed=days, worn=worn,
                       refused=refused, item_price=price, new_item_price=new_item_price,
                       override_reason=override_reason, window_days=windows["quality_days_effective"],
                       category_return_days=windows["return_days_effective"])
    return {**s.__dict__, "case_type": s.case_type, "days_since_signed": days, "item_price": price,
            "windows": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in windows.items()}}


@router.get("/cases/{case_id}", response=CaseOut)
def case_get(request, case_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return case_out(sel.case_get_for_user(shop=shop_obj, member=member, id=case_id))


@router.post("/cases/{case_id}/transition", response={200: CaseOut, 409: dict})
def case_transition_post(request, case_id: int, payload: CaseTransitionIn, shop: str | None = None):
    """Move a case along its state machine. Send the `version` you read as `expected_version`:
    if someone changed the case since, the answer is 409 `stale_version` (reload and retry)."""
    shop_obj, member = request.auth.shop_for(shop)
    case = sel.case_get_for_user(shop=shop_obj, member=member, id=case_id)
    services.case_transition(shop=shop_obj, case=case, to=payload.to, actor_agent=member,
                             expected_version=payload.expected_version, note=payload.note)
    return case_out(sel.case_get_for_user(shop=shop_obj, member=member, id=case_id))


# ---------------------------------------------------------------- edits, refunds, evidence, claims (AFT-5..12)

def _case(request, shop: str | None, case_id: int):
    shop_obj, member = request.auth.shop_for(shop)
    return shop_obj, member, sel.case_get_for_user(shop=shop_obj, member=member, id=case_id)


def _fresh(shop_obj, member, case_id):
    return case_out(sel.case_get_for_user(shop=shop_obj, member=member, id=case_id))


@router.post("/cases/{case_id}/refund", response={200: RefundOut, 409: dict})
def case_refund_post(request, case_id: int, payload: RefundIn, shop: str | None = None):
    """Refund (or compensate, `to`) the planned shop→buyer lines. Within your authority the case moves
    at once (`executed`); above it an approval request is filed (`pending`, `approval_id`) and the case
    moves on when an approver approves it (executed exactly once) — a rejection stays in its timeline."""
    shop_obj, member, case = _case(request, shop, case_id)

    _c, link = money.case_refund(shop=shop_obj, case=case, actor_agent=member,
                                 expected_version=payload.expected_version, to=payload.to, note=payload.note,
                                 request_id=payload.request_id)
    return {"outcome": "pending" if link else "executed", "approval_id": link.request_id if link else None,
            "case": _fresh(shop_obj, member, case_id)}


@router.post("/cases/{case_id}/early-refund", response={200: RefundOut, 409: dict})
def case_early_refund_post(request, case_id: int, payload: EarlyRefundIn, shop: str | None = None):
    """Refund before the returned parcel arrives (AFT-6): needs the return's tracking number and a trusted
    buyer or an amount under the threshold; the parcel is then due within N days."""
    shop_obj, member, case = _case(request, shop, case_id)

    _c, link = money.case_early_refund(shop=shop_obj, case=case, actor_agent=member,
                                       expected_version=payload.expected_version, note=payload.note)
    return {"outcome": "pending" if link else "executed", "approval_id": link.request_id if link else None,
            "case": _fresh(shop_obj, member, case_id)}


def _edit(request, shop, case_id, fn):
    shop_obj, member, case = _case(request, shop, case_id)
    fn(shop_obj, member, case)
    return _fresh(shop_obj, member, case_id)


@router.post("/cases/{case_id}/return-shipped", response={200: CaseOut, 409: dict})
def case_return_shipped_post(request, case_id: int, payload: ReturnShippedIn, shop: str | None = None):
    """The buyer's return parcel: courier and tracking number."""
    return _edit(request, shop, case_id, lambda s, m, c: money.case_return_shipped(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version, courier=payload.courier,
        tracking_no=payload.tracking_no))


@router.post("/cases/{case_id}/return-arrived", response={200: CaseOut, 409: dict})
def case_return_arrived_post(request, case_id: int, payload: VersionIn, shop: str | None = None):
    """The returned parcel of an early refund arrived."""
    return _edit(request, shop, case_id, lambda s, m, c: money.case_return_arrived(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version))


@router.post("/cases/{case_id}/lines", response={200: CaseOut, 409: dict})
def case_line_add_post(request, case_id: int, payload: LineAddIn, shop: str | None = None):
    """Add a money line to an open case."""
    return _edit(request, shop, case_id, lambda s, m, c: money.case_line_add(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version, kind=payload.kind,
        direction=payload.direction, amount=payload.amount, note=payload.note))


@router.post("/cases/{case_id}/lines/{line_id}", response={200: CaseOut, 409: dict})
def case_line_change_post(request, case_id: int, line_id: int, payload: LineChangeIn, shop: str | None = None):
    """Change a planned money line (only the fields given)."""
    return _edit(request, shop, case_id, lambda s, m, c: money.case_line_change(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version, line_id=line_id,
        kind=payload.kind, direction=payload.direction, amount=payload.amount, note=payload.note))


@router.post("/cases/{case_id}/lines/{line_id}/delete", response={200: CaseOut, 409: dict})
def case_line_delete_post(request, case_id: int, line_id: int, payload: VersionIn, shop: str | None = None):
    return _edit(request, shop, case_id, lambda s, m, c: money.case_line_remove(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version, line_id=line_id))


@router.post("/cases/{case_id}/items", response={200: CaseOut, 409: dict})
def case_item_add_post(request, case_id: int, payload: ItemAddIn, shop: str | None = None):
    return _edit(request, shop, case_id, lambda s, m, c: money.case_item_add(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version, sku=payload.sku, qty=payload.qty))


@router.post("/cases/{case_id}/items/{item_id}", response={200: CaseOut, 409: dict})
def case_item_change_post(request, case_id: int, item_id: int, payload: ItemChangeIn, shop: str | None = None):
    return _edit(request, shop, case_id, lambda s, m, c: money.case_item_change(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version, item_id=item_id, qty=payload.qty))


@router.post("/cases/{case_id}/items/{item_id}/delete", response={200: CaseOut, 409: dict})
def case_item_delete_post(request, case_id: int, item_id: int, payload: VersionIn, shop: str | None = None):
    return _edit(request, shop, case_id, lambda s, m, c: money.case_item_remove(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version, item_id=item_id))


@router.post("/cases/{case_id}/override", response={200: CaseOut, 409: dict})
def case_override_post(request, case_id: int, payload: OverrideIn, shop: str | None = None):
    """Lift the policy's window for this case with a reason (AFT-2); money stays within authority."""
    return _edit(request, shop, case_id, lambda s, m, c: money.case_override(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version, reason=payload.reason))


@router.post("/cases/{case_id}/claims", response={200: CaseOut, 409: dict})
def case_claim_post(request, case_id: int, payload: ClaimIn, shop: str | None = None):
    """File a courier claim for a lost, damaged or short parcel (AFT-7)."""
    return _edit(request, shop, case_id, lambda s, m, c: logistics.claim_file(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version,
        amount_claimed=payload.amount_claimed, courier=payload.courier, tracking_no=payload.tracking_no,
        note=payload.note))


@router.post("/claims/{claim_id}/transition", response={200: ClaimOut, 409: dict})
def claim_transition_post(request, claim_id: int, payload: ClaimTransitionIn, shop: str | None = None):
    """Move a claim: filed → accepted → paid (with `amount_recovered`) or rejected."""
    shop_obj, member = request.auth.shop_for(shop)
    claim = CourierClaim.objects.filter(shop=shop_obj, pk=claim_id).first()
    if claim is None:
        raise Http404("claim")
    sel.case_get_for_user(shop=shop_obj, member=member, id=claim.case_id)  # the person must see the case
    return claim_out(logistics.claim_transition(
        shop=shop_obj, claim_id=claim_id, actor_agent=member, to=payload.to,
        expected_version=payload.expected_version, amount_recovered=payload.amount_recovered, note=payload.note))


@router.post("/cases/{case_id}/retention", response={200: CaseOut, 409: dict})
def case_retention_post(request, case_id: int, payload: RetentionIn, shop: str | None = None):
    """Record a retention offer instead of the refund (AFT-10)."""
    return _edit(request, shop, case_id, lambda s, m, c: logistics.retention_offer(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version, offer=payload.offer,
        offer_amount=payload.offer_amount))


@router.post("/cases/{case_id}/retention/{attempt_id}", response={200: CaseOut, 409: dict})
def case_retention_decide_post(request, case_id: int, attempt_id: int, payload: RetentionDecideIn,
                               shop: str | None = None):
    """The buyer's answer to the offer; accepted with an amount adds a planned compensation line."""
    return _edit(request, shop, case_id, lambda s, m, c: logistics.retention_decide(
        shop=s, case=c, actor_agent=m, expected_version=payload.expected_version, attempt_id=attempt_id,
        accepted=payload.accepted))


@router.post("/cases/{case_id}/second-service", response={200: CaseOut, 409: dict})
def case_second_service_post(request, case_id: int, payload: SecondServiceIn, shop: str | None = None):
    """Record the second-service follow-up after a refund."""
    return _edit(request, shop, case_id, lambda s, m, c: logistics.second_service_done(
        shop=s, case=c, actor_agent=m, note=payload.note, satisfied=payload.satisfied))


@router.get("/aftersales/early-refunds/overdue", response=list[CaseOut])
def early_overdue_get(request, shop: str | None = None):
    """Early refunds whose returned parcel is overdue: follow them up."""
    shop_obj, member = request.auth.shop_for(shop)
    return [case_out(c) for c in sel.early_refunds_overdue(shop=shop_obj, member=member)
            .prefetch_related(*sel.CASE_PREFETCH)[:500]]


@router.get("/aftersales/second-services/due", response=list[dict])
def second_services_get(request, shop: str | None = None):
    """Second-service follow-ups due today or earlier."""
    shop_obj, member = request.auth.shop_for(shop)
    return [{"case_id": s.case_id, "due_on": s.due_on, "buyer_id": s.case.order.customer.buyer_id
             if s.case.order_id else None, "owner": s.case.owner.name if s.case.owner_id else None}
            for s in sel.second_services_due(shop=shop_obj, member=member)[:500]]


# ---------------------------------------------------------------- evidence (AFT-5)

def evidence_out(e) -> dict:
    return {"id": e.pk, "case_id": e.case_id, "buyer_id": e.buyer_id, "sku": e.sku, "kind": e.kind, "name": e.name,
            "content_type": e.content_type, "size": e.size, "sha256": e.sha256,
            "has_thumbnail": bool(e.thumbnail_name), "note": e.note,
            "uploaded_by": e.uploaded_by.name if e.uploaded_by_id else None, "created_at": e.created_at}


@router.post("/cases/{case_id}/evidence", response={201: CaseEvidenceOut},
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file"], "properties": {
                     "file": {"type": "string", "format": "binary"}, "sku": {"type": "string"},
                     "note": {"type": "string"}}}}}}})
def case_evidence_post(request, case_id: int, shop: str | None = None):
    """Attach a photo (jpg/png/gif/webp), PDF or mp4 (≤ 10 MB, checked by content) as multipart `file`."""
    shop_obj, member, case = _case(request, shop, case_id)
    upload = request.FILES.get("file")
    if upload is None:
        raise KefuError("a multipart file field named file", field="file")
    if upload.size > evidence.max_bytes():
        raise KefuError(f"larger than {evidence.max_bytes() // (1024 * 1024)} MB", field="file",
                        code=CaseErrorCode.FILE_SIZE)
    ev = evidence.evidence_add(shop=shop_obj, case=case, actor_agent=member, name=upload.name, data=upload.read(),
                               sku=request.POST.get("sku", ""), note=request.POST.get("note", ""))
    return Status(201, evidence_out(ev))


def _period(value: str | None, field: str):
    if not value:
        return None
    try:
        return parse_day(value)
    except ValueError as exc:
        raise KefuError(str(exc), field=field) from exc


@router.get("/evidence", response=list[CaseEvidenceOut])
def evidence_get(request, shop: str | None = None, buyer_id: str | None = None, sku: str | None = None,
                 case_id: int | None = None, date_from: str | None = Query(None, alias="from"),
                 date_to: str | None = Query(None, alias="to"), limit: int = Query(200, ge=1, le=1000)):
    """Evidence by buyer id, SKU, case and period (shop days)."""
    shop_obj, member = request.auth.shop_for(shop)
    qs = sel.evidence_for(shop=shop_obj, member=member, buyer_id=buyer_id, sku=sku, case_id=case_id,
                          date_from=_period(date_from, "from"), date_to=_period(date_to, "to"))
    return [evidence_out(e) for e in qs[:limit]]


@router.get("/evidence/zip")
def evidence_zip_get(request, shop: str | None = None, buyer_id: str | None = None, sku: str | None = None,
                     date_from: str | None = Query(None, alias="from"), date_to: str | None = Query(None, alias="to")):
    """The evidence of a SKU (or a buyer) over a period as one zip, streamed (buyer_id/case/file inside)."""
    shop_obj, member = request.auth.shop_for(shop)
    return evidence_zip_response(shop_obj, member, buyer_id=buyer_id, sku=sku, date_from=_period(date_from, "from"),
                                 date_to=_period(date_to, "to"))


def evidence_zip_response(shop_obj, member, *, buyer_id, sku, date_from, date_to):
    if not sku and not buyer_id:
        raise KefuError("name a SKU or a buyer id", field="sku")
    rows = list(sel.evidence_for(shop=shop_obj, member=member, buyer_id=buyer_id, sku=sku, date_from=date_from,
                                 date_to=date_to)[:MAX_ZIP_FILES])
    resp = StreamingHttpResponse(evidence.zip_stream(rows), content_type="application/zip")
    label = "_".join(x for x in (sku, buyer_id, date_from and date_from.isoformat(),
                                 date_to and date_to.isoformat()) if x)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label)[:80] or "evidence"
    resp["Content-Disposition"] = f'attachment; filename="evidence-{safe}.zip"'
    return resp


@router.get("/evidence/{evidence_id}/file")
def evidence_file_get(request, evidence_id: int, shop: str | None = None, thumbnail: bool = False):
    """Download one file (or its thumbnail)."""
    shop_obj, member = request.auth.shop_for(shop)
    ev = sel.evidence_get(shop=shop_obj, member=member, id=evidence_id)
    return evidence_file_response(ev, thumbnail=thumbnail)


def evidence_file_response(ev, *, thumbnail: bool = False):
    thumb = thumbnail and bool(ev.thumbnail_name)
    resp = FileResponse(evidence.evidence_open(ev, thumbnail=thumb),
                        content_type="image/jpeg" if thumb else ev.content_type)
    resp["Content-Disposition"] = f'inline; filename="{ev.name}"'
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


# ---------------------------------------------------------------- rules (AFT-2, AFT-12)

@router.get("/aftersales/rules", response=RulesOut)
def rules_get(request, shop: str | None = None):
    """Return windows per category and the holidays that extend them."""
    shop_obj, _member = request.auth.shop_for(shop)
    return sel.rules_for(shop=shop_obj)


@router.post("/aftersales/category-policies", response=RulesOut)
def category_policy_post(request, payload: CategoryPolicyIn, shop: str | None = None):
    """Set a category's return window (days from signing) and quality-problem window."""
    shop_obj, member = request.auth.shop_for(shop)
    rules.category_policy_set(shop=shop_obj, member=member, category=payload.category,
                              return_days=payload.return_days, quality_days=payload.quality_days, note=payload.note)
    return sel.rules_for(shop=shop_obj)


@router.post("/aftersales/category-policies/{policy_id}/delete", response=RulesOut)
def category_policy_delete_post(request, policy_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    rules.category_policy_delete(shop=shop_obj, member=member, policy_id=policy_id)
    return sel.rules_for(shop=shop_obj)


@router.post("/aftersales/holidays", response=RulesOut)
def holiday_post(request, payload: HolidayIn, shop: str | None = None):
    """A holiday (both ends included) that extends return windows by its days."""
    shop_obj, member = request.auth.shop_for(shop)
    rules.holiday_add(shop=shop_obj, member=member, name=payload.name, date_from=payload.date_from,
                      date_to=payload.date_to)
    return sel.rules_for(shop=shop_obj)


@router.post("/aftersales/holidays/{holiday_id}/delete", response=RulesOut)
def holiday_delete_post(request, holiday_id: int, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    rules.holiday_delete(shop=shop_obj, member=member, holiday_id=holiday_id)
    return sel.rules_for(shop=shop_obj)
