"""Courier claims for lost or damaged parcels (AFT-7) and refund retention with its follow-up (AFT-10).

A claim moves along CLAIM_TRANSITIONS (filed → accepted → paid, or rejected) with its own version;
`paid` records the amount the courier actually paid. The case page shows the money outcome: what
the shop paid the buyer against what it recovered from the courier.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kefu.approvals.authority import clean_amount
from kefu.core.errors import KefuError, NotFound
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop

from .enums import (
    CaseErrorCode,
    CaseReason,
    ClaimState,
    EventAction,
    MoneyLineKind,
    RetentionOutcome,
)
from .models import Case, CaseMoneyLine, CourierClaim, RetentionAttempt, SecondService
from .money import locked_case, record
from .services import _choice, _member

C, E, A = ClaimState, CaseErrorCode, EventAction
CLAIM_TRANSITIONS: dict[str, frozenset[str]] = {
    C.FILED: frozenset({C.ACCEPTED, C.PAID, C.REJECTED}),
    C.ACCEPTED: frozenset({C.PAID, C.REJECTED}),
    C.PAID: frozenset(),
    C.REJECTED: frozenset(),
}
# Reasons where the courier is the one to claim from (000 §after-sales 2).
CLAIM_REASONS = frozenset({CaseReason.LOST_PARCEL, CaseReason.DAMAGED_PARCEL, CaseReason.MISSING_ITEM})


def claim_file(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, amount_claimed,
               courier: str = "", tracking_no: str = "", note: str = "") -> CourierClaim:
    """File a claim; courier and tracking number default to the order's."""
    actor_agent = _member(shop, actor_agent)
    if case.reason not in CLAIM_REASONS:
        raise KefuError("courier claims are for lost, damaged or short parcels", field="case_id")
    amount = clean_amount(amount_claimed, field="amount_claimed")
    order = case.order
    courier = clean_text(courier or (order.courier if order else ""), field="courier", max_len=40, required=True)
    tracking_no = clean_text(tracking_no or (order.tracking_no if order else ""), field="tracking_no", max_len=64,
                             required=True)
    note = clean_text(note, field="note", max_len=500)
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version, editable=False)
        claim = CourierClaim.objects.create(shop=shop, case=locked, courier=courier, tracking_no=tracking_no,
                                            amount_claimed=amount, note=note)
        record(shop=shop, case=locked, actor=actor_agent, action=A.CLAIM,
               note=f"{courier} {tracking_no} ¥{amount} {C.FILED.label}",
               audit={"claim": claim.pk, "amount": str(amount), "state": C.FILED})
    return claim


def claim_transition(*, shop: Shop, claim_id: int, actor_agent: Agent | None, to: str, expected_version,
                     amount_recovered=None, note: str = "") -> CourierClaim:
    """Move a claim on; `paid` needs the amount recovered (0 < amount ≤ claimed)."""
    actor_agent = _member(shop, actor_agent)
    to = _choice(to, ClaimState, "to")
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise KefuError("the claim version you read (a whole number)", field="expected_version")
    note = clean_text(note, field="note", max_len=500)
    recovered = None
    if to == C.PAID:
        if amount_recovered in (None, ""):
            raise KefuError("required when the courier paid", field="amount_recovered")
        recovered = clean_amount(amount_recovered, field="amount_recovered")
    with transaction.atomic():
        claim = CourierClaim.objects.select_for_update().filter(shop=shop, pk=claim_id).first()
        if claim is None:
            raise NotFound("claim not found", field="claim_id")
        if claim.version != expected_version:
            raise KefuError(f"claim #{claim.pk} changed since you read it (now version {claim.version})",
                            field="expected_version", code=E.STALE_VERSION)
        if to not in CLAIM_TRANSITIONS[claim.state]:
            raise KefuError(f"cannot move a claim from {claim.state} to {to}", field="to",
                            code=E.INVALID_CLAIM_TRANSITION)
        if recovered is not None and recovered > claim.amount_claimed:
            raise KefuError(f"more than claimed (¥{claim.amount_claimed})", field="amount_recovered")
        from_state = claim.state
        claim.state = to
        claim.version += 1
        if recovered is not None:
            claim.amount_recovered = recovered
        if note:
            claim.note = note
        claim.save()
        case = Case.objects.select_for_update().get(pk=claim.case_id)
        record(shop=shop, case=case, actor=actor_agent, action=A.CLAIM, bump=False,
               note=f"{claim.courier} {claim.tracking_no}：{ClaimState(from_state).label} → {ClaimState(to).label}"
                    + (f" ¥{recovered}" if recovered is not None else "") + (f" {note}" if note else ""),
               audit={"claim": claim.pk, "from": from_state, "to": to,
                      "recovered": str(recovered) if recovered is not None else None})
    return claim


def money_outcome(case: Case) -> dict:
    """Paid to the buyer (done shop→buyer lines), received from the buyer, recovered from couriers, net cost.
    Reads the prefetched money_lines and claims."""
    paid = sum((ln.amount for ln in case.money_lines.all() if ln.state == "done" and ln.direction == "shop_to_buyer"),
               Decimal("0.00"))
    received = sum((ln.amount for ln in case.money_lines.all()
                    if ln.state == "done" and ln.direction == "buyer_to_shop"), Decimal("0.00"))
    claims = list(case.claims.all())
    recovered = sum((c.amount_recovered for c in claims if c.state == C.PAID), Decimal("0.00"))
    open_claims = sum((c.amount_claimed for c in claims if c.state in (C.FILED, C.ACCEPTED)), Decimal("0.00"))
    return {"paid_to_buyer": paid, "received_from_buyer": received, "recovered_from_courier": recovered,
            "claims_open": open_claims, "net_cost": paid - received - recovered}


# ---------------------------------------------------------------- retention (AFT-10)

def retention_offer(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, offer: str,
                    offer_amount=None) -> RetentionAttempt:
    """Offer the buyer something instead of the refund (an exchange, a discount, a gift)."""
    actor_agent = _member(shop, actor_agent)
    offer = clean_text(offer, field="offer", max_len=300, required=True)
    amount = clean_amount(offer_amount, field="offer_amount") if offer_amount not in (None, "") else None
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version)
        if RetentionAttempt.objects.filter(case=locked, outcome=RetentionOutcome.OFFERED).exists():
            raise KefuError("an offer is still waiting for the buyer's answer", field="offer")
        att = RetentionAttempt.objects.create(shop=shop, case=locked, offer=offer, offer_amount=amount,
                                              by=actor_agent)
        record(shop=shop, case=locked, actor=actor_agent, action=A.RETENTION,
               note=offer + (f" ¥{amount}" if amount is not None else ""),
               audit={"retention": att.pk, "offer": offer, "amount": str(amount) if amount is not None else None})
    return att


def retention_decide(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, attempt_id: int,
                     accepted: bool) -> RetentionAttempt:
    """The buyer's answer. Accepted with an amount: a planned compensation line is added to the case."""
    actor_agent = _member(shop, actor_agent)
    if not isinstance(accepted, bool):
        raise KefuError("true or false", field="accepted")
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version)
        att = RetentionAttempt.objects.select_for_update().filter(case=locked, pk=attempt_id).first()
        if att is None:
            raise NotFound("retention attempt not found", field="attempt_id")
        if att.outcome != RetentionOutcome.OFFERED:
            raise KefuError("already answered", field="attempt_id", code=E.INVALID_TRANSITION)
        att.outcome = RetentionOutcome.ACCEPTED if accepted else RetentionOutcome.DECLINED
        att.decided_at = timezone.now()
        att.save(update_fields=["outcome", "decided_at"])
        if accepted and att.offer_amount:
            CaseMoneyLine.objects.create(shop=shop, case=locked, kind=MoneyLineKind.COMPENSATION,
                                         direction="shop_to_buyer", amount=att.offer_amount,
                                         note=f"挽留：{att.offer}"[:200])
        record(shop=shop, case=locked, actor=actor_agent, action=A.RETENTION,
               note=f"{att.offer}：{RetentionOutcome(att.outcome).label}",
               audit={"retention": att.pk, "outcome": att.outcome})
    return att


def second_service_done(*, shop: Shop, case: Case, actor_agent: Agent | None, note: str,
                        satisfied: bool | None = None) -> SecondService:
    """Record the second-service call after a refund (how the buyer is doing, anything still wrong)."""
    actor_agent = _member(shop, actor_agent)
    note = clean_text(note, field="note", max_len=500, required=True)
    if satisfied is not None and not isinstance(satisfied, bool):
        raise KefuError("true, false or empty", field="satisfied")
    with transaction.atomic():
        ss = SecondService.objects.select_for_update().filter(shop=shop, case_id=case.pk).first()
        if ss is None:
            raise NotFound("no second-service follow-up on this case (it comes with a refund)", field="case_id")
        if ss.done_at is not None:
            raise KefuError("already done", field="case_id", code=E.INVALID_TRANSITION)
        ss.done_at, ss.done_by, ss.note, ss.satisfied = timezone.now(), actor_agent, note, satisfied
        ss.save()
        locked = Case.objects.select_for_update().get(pk=case.pk)
        record(shop=shop, case=locked, actor=actor_agent, action=A.SECOND_SERVICE, note=note, bump=False,
               audit={"satisfied": satisfied})
    return ss
