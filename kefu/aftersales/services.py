"""Writes of the after-sales domain: open a case, move it along its state machine (AFT-1, AFT-11).

The state machine is TRANSITIONS and one function, case_transition. Every step writes a CaseEvent;
money-moving steps (refunded, compensated) are checked against the person's authority (the approvals
app's authority_check) and write an AuditLog row. Two people acting at once: the row is locked
(select_for_update) and its version compared inside the transaction, so exactly one wins.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kefu.approvals.authority import authority_check, clean_amount
from kefu.approvals.enums import MoneyKind
from kefu.core.access import user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import shop_day
from kefu.integrations import hooks
from kefu.orders.models import Order

from .enums import (
    CaseApprovalState,
    CaseErrorCode,
    CaseReason,
    CaseState,
    CaseType,
    Direction,
    MoneyLineKind,
    MoneyLineState,
    Party,
)
from .models import Case, CaseApproval, CaseEvent, CaseItem, CaseMoneyLine, SecondService

S, E = CaseState, CaseErrorCode

# state → the states it may move to. Anything not listed is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.OPEN: frozenset({S.WAITING_BUYER, S.WAITING_RETURN, S.REFUNDED, S.RESHIPPED, S.COMPENSATED, S.REJECTED,
                       S.ESCALATED, S.CLOSED}),
    S.WAITING_BUYER: frozenset({S.OPEN, S.WAITING_RETURN, S.REFUNDED, S.RESHIPPED, S.COMPENSATED, S.REJECTED,
                                S.ESCALATED, S.CLOSED}),
    # Early refund (AFT-6) is allowed once the return is on its way.
    S.WAITING_RETURN: frozenset({S.RECEIVED, S.REFUNDED, S.ESCALATED, S.CLOSED}),
    S.RECEIVED: frozenset({S.INSPECTED, S.ESCALATED}),
    S.INSPECTED: frozenset({S.REFUNDED, S.RESHIPPED, S.COMPENSATED, S.REJECTED, S.ESCALATED}),
    S.REFUNDED: frozenset({S.CLOSED}),
    S.RESHIPPED: frozenset({S.CLOSED}),
    S.COMPENSATED: frozenset({S.CLOSED}),
    S.REJECTED: frozenset({S.ESCALATED, S.CLOSED}),
    S.ESCALATED: frozenset({S.OPEN, S.WAITING_BUYER, S.WAITING_RETURN, S.REFUNDED, S.RESHIPPED, S.COMPENSATED,
                            S.REJECTED, S.CLOSED}),
    S.CLOSED: frozenset(),
}
# Steps that pay the buyer: the planned shop→buyer lines are checked against authority and marked done.
MONEY_STATES = frozenset({S.REFUNDED, S.COMPENSATED})
# The approvals app's money kind the authority check uses for paying a buyer back.
AUTHORITY_KIND = MoneyKind.COMPENSATION
NOTE_MAX = 500


@dataclass
class MoneyLineIn:
    kind: str
    direction: str
    amount: object
    note: str = ""


def _note(note, field: str = "note") -> str:
    return clean_text(note, field=field, max_len=NOTE_MAX)


def _member(shop: Shop, agent: Agent | None, field: str = "actor") -> Agent | None:
    if agent is not None and (agent.shop_id != shop.pk or not agent.active):
        raise PermissionDenied("this person does not work in this shop", field=field)
    return agent


def _choice(value, choices, field: str) -> str:
    if value not in choices.values:
        raise KefuError(f"must be one of {', '.join(choices.values)}", field=field)
    return value


def planned_payout(case: Case) -> Decimal:
    """What the shop still has to pay the buyer on this case (planned shop→buyer lines)."""
    return sum((ln.amount for ln in case.money_lines.all()
                if ln.state == MoneyLineState.PLANNED and ln.direction == Direction.SHOP_TO_BUYER), Decimal("0.00"))


def second_service_days() -> int:
    from django.conf import settings

    return int(getattr(settings, "KEFU_AFTERSALES_SECOND_SERVICE_DAYS", 3))


def after_refund(*, shop: Shop, case: Case) -> None:
    """Every refund gets a second-service follow-up (AFT-10), due some shop days later."""
    due = shop_day(timezone.now(), shop.tz) + dt.timedelta(days=second_service_days())
    SecondService.objects.get_or_create(case=case, defaults={"shop": shop, "due_on": due})


def has_pending_approval(case: Case) -> bool:
    return CaseApproval.objects.filter(case=case, state=CaseApprovalState.PENDING).exists()


# ---------------------------------------------------------------- open

def case_open(
    *, shop: Shop, actor_agent: Agent | None, type: str, reason: str, order: Order | None = None,
    responsible: str = "", items: list[tuple[str, int]] | None = None, intercepted: bool = False,
    refused: bool = False, owner: Agent | None = None, note: str = "", money_lines: list[MoneyLineIn] | None = None,
) -> Case:
    """Open a case (state open) with its items and planned money lines; the first CaseEvent."""
    actor_agent = _member(shop, actor_agent)
    type = _choice(type, CaseType, "type")
    reason = _choice(reason, CaseReason, "reason")
    if responsible:
        _choice(responsible, Party, "responsible")
    if order is not None and order.shop_id != shop.pk:
        raise NotFound("order not found", field="order_id")
    if owner is not None and (owner.shop_id != shop.pk or not owner.active):
        raise NotFound("person not found", field="owner_id")
    note = _note(note)
    clean_items = []
    ordered = {}
    if order is not None:
        for it in order.items.all():
            ordered[it.sku_code] = ordered.get(it.sku_code, 0) + it.quantity
    for i, (sku, qty) in enumerate(items or []):
        sku = (sku or "").strip() if isinstance(sku, str) else ""
        if not sku or len(sku) > 80:
            raise KefuError("a SKU code of 1 to 80 characters", field=f"items.{i}.sku")
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
            raise KefuError("a whole number of 1 or more", field=f"items.{i}.qty")
        if order is not None and ordered:
            if sku not in ordered:
                raise KefuError(f"{sku} is not in order {order.order_id}", field=f"items.{i}.sku")
            if qty > ordered[sku]:
                raise KefuError(f"more than ordered ({ordered[sku]})", field=f"items.{i}.qty")
        clean_items.append((sku, qty))
    lines = []
    for i, ln in enumerate(money_lines or []):
        lines.append(CaseMoneyLine(
            shop=shop, kind=_choice(ln.kind, MoneyLineKind, f"money_lines.{i}.kind"),
            direction=_choice(ln.direction, Direction, f"money_lines.{i}.direction"),
            amount=clean_amount(ln.amount, field=f"money_lines.{i}.amount"),
            note=_note(ln.note, field=f"money_lines.{i}.note")[:200]))
    with transaction.atomic():
        case = Case.objects.create(shop=shop, order=order, type=type, reason=reason, responsible=responsible or "",
                                   intercepted=bool(intercepted), refused=bool(refused),
                                   owner=owner if owner is not None else actor_agent, note=note)
        CaseItem.objects.bulk_create([CaseItem(case=case, sku=s, qty=q) for s, q in clean_items])
        for ln in lines:
            ln.case = case
        CaseMoneyLine.objects.bulk_create(lines)
        CaseEvent.objects.create(shop=shop, case=case, actor=actor_agent, from_state="", to_state=S.OPEN, note=note)
        audit_record(shop=shop, actor=user_of(actor_agent), action="case.open", entity=case,
                     after={"type": type, "reason": reason, "order": order.order_id if order else None,
                            "money": [[ln.kind, ln.direction, str(ln.amount)] for ln in lines]})
    return case


# ---------------------------------------------------------------- the state machine

def case_transition(
    *, shop: Shop, case: Case, to: str, actor_agent: Agent | None, expected_version: int, note: str = "",
) -> Case:
    """Move a case to `to` if TRANSITIONS allows it and nobody changed it since `expected_version`.

    Refuses: `invalid_transition` (not in the table), `stale_version` (someone else changed the case
    first: reload and retry), `above_authority` (a refund or compensation larger than the person's
    limit; the error names the limit and who may do it) and `person_required` (money needs a person).
    """
    actor_agent = _member(shop, actor_agent)
    if to not in S.values:
        raise KefuError(f"unknown state {to!r}", field="to")
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise KefuError("the version you read (a whole number)", field="expected_version")
    note = _note(note)
    if case.shop_id != shop.pk:
        raise NotFound("case not found", field="case_id")
    with transaction.atomic():
        locked = Case.objects.select_for_update().filter(shop=shop, pk=case.pk).first()
        if locked is None:
            raise NotFound("case not found", field="case_id")
        if locked.version != expected_version:
            raise KefuError(f"case #{locked.pk} changed since you read it (version {expected_version}, now "
                            f"{locked.version}, state {locked.state}); reload and try again",
                            field="expected_version", code=E.STALE_VERSION)
        from_state = locked.state
        if to not in TRANSITIONS[from_state]:
            allowed = ", ".join(sorted(TRANSITIONS[from_state])) or "none"
            raise KefuError(f"cannot move a case from {from_state} to {to} (allowed: {allowed})", field="to",
                            code=E.INVALID_TRANSITION)
        payout = Decimal("0.00")
        if to in MONEY_STATES and has_pending_approval(locked):
            raise KefuError(f"case #{locked.pk} has a refund waiting for approval; it moves on when decided",
                            field="to", code=E.APPROVAL_PENDING)
        if to in MONEY_STATES:
            payout = planned_payout(locked)
            if payout > 0:
                if actor_agent is None:
                    raise KefuError("a logged-in person must refund or compensate (authority is personal)",
                                    field="actor", code=E.PERSON_REQUIRED)
                decision = authority_check(shop=shop, agent=actor_agent, kind=AUTHORITY_KIND, amount=payout)
                if not decision.allowed:
                    limit = "unlimited" if decision.limit is None else f"¥{decision.limit}"
                    who = ", ".join(decision.approver_roles) or "admin"
                    raise PermissionDenied(
                        f"¥{payout} is above your authority ({limit}); ask: {who}",
                        field="to", code=E.ABOVE_AUTHORITY)
        locked.state = to
        locked.version += 1
        locked.save(update_fields=["state", "version", "updated_at"])
        done = []
        if to in MONEY_STATES:
            now = timezone.now()
            for ln in locked.money_lines.filter(state=MoneyLineState.PLANNED, direction=Direction.SHOP_TO_BUYER):
                ln.state, ln.done_at = MoneyLineState.DONE, now
                ln.save(update_fields=["state", "done_at"])
                done.append([ln.kind, str(ln.amount)])
        if to == S.REFUNDED:
            after_refund(shop=shop, case=locked)
        CaseEvent.objects.create(shop=shop, case=locked, actor=actor_agent, from_state=from_state, to_state=to,
                                 note=note)
        hooks.case_transitioned(case=locked, from_state=from_state, to_state=to, actor=actor_agent, note=note)
        if done:
            hooks.refund_executed(case=locked, amount=sum((Decimal(a) for _k, a in done), Decimal("0.00")),
                                  kind=",".join(sorted({k for k, _a in done})), actor=actor_agent)
        audit_record(shop=shop, actor=user_of(actor_agent), action=f"case.{to}", entity=locked,
                     before={"state": from_state, "version": expected_version},
                     after={"state": to, "version": locked.version, "note": note,
                            "by": actor_agent.name if actor_agent else None,
                            **({"paid": str(payout), "lines": done} if to in MONEY_STATES else {})})
    case.state, case.version = locked.state, locked.version
    return locked
