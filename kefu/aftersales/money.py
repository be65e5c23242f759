"""Editing an open case (money lines, items, policy override) and refunds above authority (AFT-6, AFT-11).

Every edit names the case version it read (`expected_version`): the case row is locked, the version
compared and bumped, and a CaseEvent (with an `action`) and an AuditLog row written, so two people
cannot overwrite each other and the timeline shows every change.

A refund larger than the person's authority goes to the approvals queue (`case_refund`): the
approval's money kind is `compensation` (the kind the case already checks authority with, so a
shop's limits for paying buyers back apply to both). When an approver approves, the approvals app
executes the money action exactly once (the request row lock, MoneyAction.request unique) and calls
`on_approval_decided` inside the same transaction: the lines bound to the request are paid and the
case moves to `refunded` (or `compensated`). A rejection leaves the case where it was, with the
approver's reason in its timeline.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.approvals.authority import clean_amount
from kefu.approvals.enums import ApprovalState
from kefu.approvals.services import money_action_request
from kefu.core.access import user_of
from kefu.core.errors import KefuError, NotFound
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.orders.models import Order

from .enums import (
    CaseApprovalState,
    CaseErrorCode,
    CaseState,
    Direction,
    EventAction,
    MoneyLineKind,
    MoneyLineState,
)
from .models import Case, CaseApproval, CaseEvent, CaseItem, CaseMoneyLine
from .services import (
    AUTHORITY_KIND,
    MONEY_STATES,
    TRANSITIONS,
    _choice,
    _member,
    after_refund,
    case_transition,
    has_pending_approval,
    planned_payout,
)

S, E, A = CaseState, CaseErrorCode, EventAction
# A case in one of these states is finished: its lines and items are no longer edited.
FINISHED = frozenset({S.REFUNDED, S.RESHIPPED, S.COMPENSATED, S.REJECTED, S.CLOSED})


def early_refund_max() -> Decimal:
    return Decimal(str(getattr(settings, "KEFU_AFTERSALES_EARLY_REFUND_MAX", "100.00")))


def early_return_days() -> int:
    return int(getattr(settings, "KEFU_AFTERSALES_EARLY_RETURN_DAYS", 7))


def _version(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise KefuError("the version you read (a whole number)", field="expected_version")
    return value


def locked_case(*, shop: Shop, case: Case, expected_version, editable: bool = True) -> Case:
    """The case row locked for this transaction, refused when stale (409) or finished. Call inside atomic."""
    expected_version = _version(expected_version)
    if case.shop_id != shop.pk:
        raise NotFound("case not found", field="case_id")
    locked = Case.objects.select_for_update().filter(shop=shop, pk=case.pk).first()
    if locked is None:
        raise NotFound("case not found", field="case_id")
    if locked.version != expected_version:
        raise KefuError(f"case #{locked.pk} changed since you read it (version {expected_version}, now "
                        f"{locked.version}); reload and try again", field="expected_version", code=E.STALE_VERSION)
    if editable and locked.state in FINISHED:
        raise KefuError(f"case #{locked.pk} is {locked.state}: it can no longer be edited", field="case_id",
                        code=E.NOT_OPEN)
    return locked


def record(*, shop: Shop, case: Case, actor: Agent | None, action: str, note: str = "", audit: dict | None = None,
           bump: bool = True) -> None:
    """One step without a state change: version + 1, a CaseEvent with `action`, an audit row."""
    if bump:
        case.version += 1
        case.save(update_fields=["version", "updated_at"])
    CaseEvent.objects.create(shop=shop, case=case, actor=actor, from_state=case.state, to_state=case.state,
                             action=action, note=note[:500])
    audit_record(shop=shop, actor=user_of(actor), action=f"case.{action}", entity=case,
                 after={"version": case.version, "note": note, **(audit or {})})


# ---------------------------------------------------------------- money lines (AFT-11)

def _line(locked: Case, line_id) -> CaseMoneyLine:
    if isinstance(line_id, bool) or not isinstance(line_id, int):
        raise KefuError("a money line id", field="line_id")
    line = CaseMoneyLine.objects.select_for_update().filter(case=locked, pk=line_id).first()
    if line is None:
        raise NotFound("money line not found", field="line_id")
    if line.state == MoneyLineState.DONE:
        raise KefuError("this line is already paid and cannot change", field="line_id", code=E.LINE_DONE)
    if line.approval_id is not None:
        raise KefuError("this line waits for an approver's decision", field="line_id", code=E.APPROVAL_PENDING)
    return line


def _line_text(ln: CaseMoneyLine) -> str:
    return f"{MoneyLineKind(ln.kind).label} {Direction(ln.direction).label} ¥{ln.amount}"


def case_line_add(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, kind: str, direction: str,
                  amount, note: str = "") -> CaseMoneyLine:
    actor_agent = _member(shop, actor_agent)
    kind = _choice(kind, MoneyLineKind, "kind")
    direction = _choice(direction, Direction, "direction")
    amount = clean_amount(amount, field="amount")
    note = clean_text(note, field="note", max_len=200)
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version)
        line = CaseMoneyLine.objects.create(shop=shop, case=locked, kind=kind, direction=direction, amount=amount,
                                            note=note)
        record(shop=shop, case=locked, actor=actor_agent, action=A.LINE_ADD, note=_line_text(line),
               audit={"line": line.pk, "kind": kind, "direction": direction, "amount": str(amount)})
    return line


def case_line_change(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, line_id: int,
                     kind: str | None = None, direction: str | None = None, amount=None,
                     note: str | None = None) -> CaseMoneyLine:
    actor_agent = _member(shop, actor_agent)
    kind = _choice(kind, MoneyLineKind, "kind") if kind is not None else None
    direction = _choice(direction, Direction, "direction") if direction is not None else None
    amount = clean_amount(amount, field="amount") if amount is not None else None
    note = clean_text(note, field="note", max_len=200) if note is not None else None
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version)
        line = _line(locked, line_id)
        before = _line_text(line)
        for name, value in (("kind", kind), ("direction", direction), ("amount", amount), ("note", note)):
            if value is not None:
                setattr(line, name, value)
        line.save(update_fields=["kind", "direction", "amount", "note"])
        record(shop=shop, case=locked, actor=actor_agent, action=A.LINE_CHANGE, note=f"{before} → {_line_text(line)}",
               audit={"line": line.pk, "before": before, "after": _line_text(line)})
    return line


def case_line_remove(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, line_id: int) -> None:
    actor_agent = _member(shop, actor_agent)
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version)
        line = _line(locked, line_id)
        text = _line_text(line)
        line.delete()
        record(shop=shop, case=locked, actor=actor_agent, action=A.LINE_REMOVE, note=text,
               audit={"line": line_id, "removed": text})


# ---------------------------------------------------------------- items

def _ordered(order: Order | None) -> dict[str, int]:
    out: dict[str, int] = {}
    if order is not None:
        for it in order.items.all():
            out[it.sku_code] = out.get(it.sku_code, 0) + it.quantity
    return out


def _item_in(order: Order | None, sku, qty) -> tuple[str, int]:
    sku = sku.strip() if isinstance(sku, str) else ""
    if not sku or len(sku) > 80:
        raise KefuError("a SKU code of 1 to 80 characters", field="sku")
    if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
        raise KefuError("a whole number of 1 or more", field="qty")
    ordered = _ordered(order)
    if ordered:
        if sku not in ordered:
            raise KefuError(f"{sku} is not in order {order.order_id}", field="sku")
        if qty > ordered[sku]:
            raise KefuError(f"more than ordered ({ordered[sku]})", field="qty")
    return sku, qty


def case_item_add(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, sku: str,
                  qty: int = 1) -> CaseItem:
    actor_agent = _member(shop, actor_agent)
    sku, qty = _item_in(case.order, sku, qty)
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version)
        item = CaseItem.objects.create(case=locked, sku=sku, qty=qty)
        record(shop=shop, case=locked, actor=actor_agent, action=A.ITEM_ADD, note=f"{sku} × {qty}",
               audit={"item": item.pk, "sku": sku, "qty": qty})
    return item


def _item(locked: Case, item_id) -> CaseItem:
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        raise KefuError("an item id", field="item_id")
    item = CaseItem.objects.filter(case=locked, pk=item_id).first()
    if item is None:
        raise NotFound("item not found", field="item_id")
    return item


def case_item_change(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, item_id: int,
                     qty: int) -> CaseItem:
    actor_agent = _member(shop, actor_agent)
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version)
        item = _item(locked, item_id)
        _, qty = _item_in(locked.order, item.sku, qty)
        before = item.qty
        item.qty = qty
        item.save(update_fields=["qty"])
        record(shop=shop, case=locked, actor=actor_agent, action=A.ITEM_CHANGE, note=f"{item.sku} × {before} → {qty}",
               audit={"item": item.pk, "before": before, "after": qty})
    return item


def case_item_remove(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, item_id: int) -> None:
    actor_agent = _member(shop, actor_agent)
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version)
        item = _item(locked, item_id)
        text = f"{item.sku} × {item.qty}"
        item.delete()
        record(shop=shop, case=locked, actor=actor_agent, action=A.ITEM_REMOVE, note=text, audit={"removed": text})


# ---------------------------------------------------------------- policy override (AFT-2)

def case_override(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, reason: str) -> Case:
    """Lift the policy's windows for this case with a reason (empty reason clears it). Money stays
    within the person's authority: the override changes the suggestion, never the limits."""
    actor_agent = _member(shop, actor_agent)
    reason = clean_text(reason, field="reason", max_len=500)
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version)
        locked.override_reason = reason
        locked.save(update_fields=["override_reason"])
        record(shop=shop, case=locked, actor=actor_agent, action=A.OVERRIDE, note=reason or "—",
               audit={"override_reason": reason})
    return locked


# ---------------------------------------------------------------- refunds above authority

def case_refund(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, to: str = S.REFUNDED,
                note: str = "", request_id: str = "") -> tuple[Case, CaseApproval | None]:
    """Refund (or compensate): within the person's authority the case moves at once; above it an
    approval request is filed for the planned shop→buyer lines and the case waits (its version is
    bumped and the timeline says so). Returns the case and the pending CaseApproval, if any."""
    actor_agent = _member(shop, actor_agent)
    if to not in MONEY_STATES:
        raise KefuError(f"must be one of {', '.join(sorted(MONEY_STATES))}", field="to")
    note = clean_text(note, field="note", max_len=500)
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version, editable=False)
        if to not in TRANSITIONS[locked.state]:
            raise KefuError(f"cannot move a case from {locked.state} to {to}", field="to", code=E.INVALID_TRANSITION)
        if has_pending_approval(locked):
            raise KefuError("a refund of this case already waits for approval", field="to", code=E.APPROVAL_PENDING)
        payout = planned_payout(locked)
        if actor_agent is None:
            raise KefuError("a logged-in person must refund (authority is personal)", field="actor",
                            code=E.PERSON_REQUIRED)
        if payout <= 0:
            return case_transition(shop=shop, case=locked, to=to, actor_agent=actor_agent,
                                   expected_version=locked.version, note=note), None
        reason = f"售后单 #{locked.pk} {CaseState(to).label} ¥{payout}" + (f"：{note}" if note else "")
        result = money_action_request(shop=shop, agent=actor_agent, kind=AUTHORITY_KIND, amount=payout,
                                      reason=reason[:500], order=locked.order, request_id=request_id)
        if result.outcome == "executed":
            # Within authority: the money action is recorded and the case moves on at once.
            return case_transition(shop=shop, case=locked, to=to, actor_agent=actor_agent,
                                   expected_version=locked.version, note=note), None
        link = CaseApproval.objects.create(shop=shop, case=locked, request=result.approval, to_state=to, amount=payout)
        locked.money_lines.filter(state=MoneyLineState.PLANNED, direction=Direction.SHOP_TO_BUYER).update(approval=link)
        record(shop=shop, case=locked, actor=actor_agent, action=A.APPROVAL_ASKED,
               note=f"¥{payout} → {CaseState(to).label}（审批 #{result.approval.pk}）" + (f" {note}" if note else ""),
               audit={"approval": result.approval.pk, "amount": str(payout), "to": to})
    case.version = locked.version
    return locked, link


def on_approval_decided(*, req, actor: Agent | None = None, **_ignored) -> None:
    """Called by the approvals app inside its decision's transaction (approve+execute, reject, cancel).

    Executed: pays the bound lines once and moves the case on; rejected/cancelled: releases the lines,
    the case stays where it is with the reason in its timeline. Requests of other apps are ignored.
    """
    link = CaseApproval.objects.select_for_update().filter(request_id=req.pk).first()
    if link is None or link.state != CaseApprovalState.PENDING:
        return
    case = Case.objects.select_for_update().get(pk=link.case_id)
    shop = case.shop
    lines = list(CaseMoneyLine.objects.select_for_update().filter(approval=link, state=MoneyLineState.PLANNED))
    if req.state == ApprovalState.EXECUTED:
        if link.to_state not in TRANSITIONS[case.state]:
            raise KefuError(f"case #{case.pk} is now {case.state}; it cannot move to {link.to_state} — reject "
                            f"the request instead", field="state", code=E.INVALID_TRANSITION)
        now = timezone.now()
        for ln in lines:
            ln.state, ln.done_at, ln.approval = MoneyLineState.DONE, now, None
            ln.save(update_fields=["state", "done_at", "approval"])
        link.state = CaseApprovalState.APPROVED
        link.save(update_fields=["state"])
        from_state = case.state
        case.state = link.to_state
        case.version += 1
        case.save(update_fields=["state", "version", "updated_at"])
        if case.state == S.REFUNDED:
            after_refund(shop=shop, case=case)
        CaseEvent.objects.create(shop=shop, case=case, actor=actor, from_state=from_state, to_state=case.state,
                                 note=f"审批 #{req.pk} 已批准，¥{link.amount} 已执行")
        from kefu.integrations import hooks

        hooks.case_transitioned(case=case, from_state=from_state, to_state=case.state, actor=actor,
                                note=f"审批 #{req.pk}")
        hooks.refund_executed(case=case, amount=link.amount, kind=",".join(sorted({ln.kind for ln in lines})),
                              actor=actor)
        audit_record(shop=shop, actor=user_of(actor), action=f"case.{case.state}", entity=case,
                     before={"state": from_state}, after={"state": case.state, "version": case.version,
                                                          "paid": str(link.amount), "approval": req.pk})
        return
    CaseMoneyLine.objects.filter(approval=link).update(approval=None, early=False)
    if case.return_due_at is not None and not case.money_lines.filter(early=True).exists():
        case.return_due_at = None
        case.save(update_fields=["return_due_at"])
    link.state = CaseApprovalState.REJECTED
    link.save(update_fields=["state"])
    what = "驳回" if req.state == ApprovalState.REJECTED else "撤回"
    record(shop=shop, case=case, actor=actor, action=A.APPROVAL_REJECTED,
           note=f"审批 #{req.pk} 已{what}" + (f"：{req.decision_reason}" if req.decision_reason else ""),
           audit={"approval": req.pk, "state": req.state})


# ---------------------------------------------------------------- early refund (AFT-6)

def case_return_shipped(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version, courier: str,
                        tracking_no: str) -> Case:
    """The buyer sent the parcel back: its courier and tracking number (what makes an early refund possible)."""
    actor_agent = _member(shop, actor_agent)
    courier = clean_text(courier, field="courier", max_len=40)
    tracking_no = clean_text(tracking_no, field="tracking_no", max_len=64, required=True)
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version)
        locked.return_courier, locked.return_tracking_no = courier, tracking_no
        locked.save(update_fields=["return_courier", "return_tracking_no"])
        record(shop=shop, case=locked, actor=actor_agent, action=A.RETURN_SHIPPED,
               note=f"{courier} {tracking_no}".strip(), audit={"courier": courier, "tracking_no": tracking_no})
    return locked


def case_return_arrived(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version) -> Case:
    """The returned parcel arrived after an early refund: the risk is gone (normal returns use `received`)."""
    actor_agent = _member(shop, actor_agent)
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version, editable=False)
        if locked.return_received_at is not None:
            raise KefuError("already recorded", field="case_id", code=E.INVALID_TRANSITION)
        locked.return_received_at = timezone.now()
        locked.save(update_fields=["return_received_at"])
        record(shop=shop, case=locked, actor=actor_agent, action=A.RETURN_ARRIVED, note="",
               audit={"received_at": locked.return_received_at.isoformat()})
    return locked


def early_refund_eligibility(case: Case, *, trusted: bool) -> tuple[bool, str]:
    """(allowed, why): the return is on its way and the buyer is trusted or the amount is small."""
    # The reason is shown on the page and written into the refund's note: in the UI's language.
    if case.state != S.WAITING_RETURN:
        return False, _("只能在等待退货时提前退款")
    if not case.return_tracking_no:
        return False, _("需要先填写退货运单号")
    payout = planned_payout(case)
    if payout <= 0:
        return False, _("没有要退给买家的钱")
    if not trusted and payout > early_refund_max():
        return False, _("¥%(payout)s 超过该买家的提前退款上限 ¥%(max)s") % {"payout": payout, "max": early_refund_max()}
    return True, _("可信买家") if trusted else _("金额未超过提前退款上限")


def case_early_refund(*, shop: Shop, case: Case, actor_agent: Agent | None, expected_version,
                      note: str = "") -> tuple[Case, CaseApproval | None]:
    """Refund before the returned parcel arrives (AFT-6): the lines are marked early and the parcel is
    due within N days (else it shows as an overdue follow-up); the money still needs authority."""
    from .selectors import buyer_trusted

    actor_agent = _member(shop, actor_agent)
    fresh = Case.objects.select_related("order__customer").prefetch_related("money_lines").filter(
        shop=shop, pk=case.pk).first()
    if fresh is None:
        raise NotFound("case not found", field="case_id")
    trusted = buyer_trusted(shop=shop, case=fresh)
    ok, why = early_refund_eligibility(fresh, trusted=trusted)
    if not ok:
        raise KefuError(why, field="case_id", code=E.NOT_ELIGIBLE)
    with translation.override(settings.LANGUAGE_CODE):  # the note is the shop's record, in its language
        why = str(early_refund_eligibility(fresh, trusted=trusted)[1])
    with transaction.atomic():
        locked = locked_case(shop=shop, case=case, expected_version=expected_version, editable=False)
        locked.money_lines.filter(state=MoneyLineState.PLANNED, direction=Direction.SHOP_TO_BUYER).update(early=True)
        locked.return_due_at = timezone.now() + dt.timedelta(days=early_return_days())
        locked.save(update_fields=["return_due_at"])
        out, link = case_refund(shop=shop, case=locked, actor_agent=actor_agent, expected_version=locked.version,
                                note=(f"提前退款（{why}）" + (f" {note}" if note else ""))[:500])
    case.version = out.version
    return out, link
