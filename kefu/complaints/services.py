"""Writes of complaints (CMP-1): create, the four-stage state machine with the seven-step
checklist, remedy (money through the approvals module), verdict on an agent, revisit reminders.

The state machine is TRANSITIONS and one function, complaint_transition; every step writes a
ComplaintEvent and an AuditLog row. A complaint leaves a stage only when that stage's checklist
steps (enums.STEPS_BY_STATE) are done.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kefu.core.access import sees_whole_shop, user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import shop_day
from kefu.customers.models import Customer
from kefu.orders.models import Order

from .enums import (
    STATE_OF_STEP,
    STATE_ORDER,
    STEPS_BY_STATE,
    BuyerType,
    ComplaintAction,
    ComplaintCategory,
    ComplaintErrorCode,
    ComplaintSource,
    ComplaintState,
    ComplaintStep,
    RemedyKind,
    Verdict,
)
from .models import AgentComplaint, Complaint, ComplaintCheck, ComplaintEvent
from .sentiment import analyse

S, A, E = ComplaintState, ComplaintAction, ComplaintErrorCode

# (state, action) → new state. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.ACCEPT, A.ADVANCE): S.CLARIFY,
    (S.CLARIFY, A.ADVANCE): S.SOLUTION,
    (S.SOLUTION, A.ADVANCE): S.REVISIT,
    (S.REVISIT, A.CLOSE): S.CLOSED,
    # A complaint found groundless (or withdrawn) closes early, with a note.
    (S.ACCEPT, A.DISMISS): S.CLOSED,
    (S.CLARIFY, A.DISMISS): S.CLOSED,
    (S.SOLUTION, A.DISMISS): S.CLOSED,
}
PERSON_ACTIONS = (A.ADVANCE, A.CLOSE, A.DISMISS)


def _choice(value, choices, *, field: str, default=None) -> str:
    if value in (None, "") and default is not None:
        return default
    if value not in choices.values:
        raise KefuError(f"must be one of {', '.join(choices.values)}", field=field)
    return value


def _can_act(c: Complaint, actor: Agent | None) -> bool:
    return actor is None or actor.pk == c.owner_id or sees_whole_shop(actor)


def _event(c: Complaint, action: str, *, from_state: str = "", actor: Agent | None, note: str = "") -> None:
    ComplaintEvent.objects.create(shop_id=c.shop_id, complaint=c, action=action, from_state=from_state,
                                  to_state=c.state, actor=actor, note=note[:500])
    if from_state:
        from kefu.integrations import hooks

        hooks.complaint_staged(c=c, from_state=from_state, actor=actor)


def _revisit(value, *, shop: Shop, now: dt.datetime) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise KefuError("must be a date (YYYY-MM-DD)", field="revisit_on") from exc
    if not isinstance(value, dt.date):
        raise KefuError("must be a date (YYYY-MM-DD)", field="revisit_on")
    if value < shop_day(now, shop.tz):
        raise KefuError("must not be in the past", field="revisit_on")
    return value


def _member(shop: Shop, agent: Agent | None, field: str) -> Agent | None:
    if agent is not None and (agent.shop_id != shop.pk or not agent.active):
        raise NotFound("person not found", field=field)
    return agent


# ---------------------------------------------------------------- create

def complaint_create(*, shop: Shop, source: str, category: str, summary, actor: Agent | None,
                     customer: Customer | None = None, order: Order | None = None, against: Agent | None = None,
                     owner: Agent | None = None, buyer_type: str | None = None, revisit_on=None,
                     now: dt.datetime | None = None) -> Complaint:
    """Register a complaint. A buyer's complaint names the buyer (or the order); a complaint
    against an agent also writes the AgentComplaint row the penalty rules read."""
    now = now or timezone.now()
    source = _choice(source, ComplaintSource, field="source")
    category = _choice(category, ComplaintCategory, field="category")
    buyer_type = _choice(buyer_type, BuyerType, field="buyer_type", default=BuyerType.UNKNOWN)
    summary = clean_text(summary, field="summary", max_len=1000, required=True)
    if order is not None:
        if order.shop_id != shop.pk:
            raise NotFound("order not found", field="order_id")
        if customer is not None and customer.pk != order.customer_id:
            raise KefuError("the order belongs to another buyer", field="order_id")
        customer = customer or order.customer
    if customer is not None and customer.shop_id != shop.pk:
        raise NotFound("customer not found", field="buyer_id")
    if source == ComplaintSource.BUYER and customer is None:
        raise KefuError("a buyer's complaint names the buyer or the order", field="buyer_id")
    against = _member(shop, against, "against_id")
    owner = _member(shop, owner, "owner_id") or actor
    if owner is None:
        raise KefuError("name the owner of the complaint", field="owner_id")
    if against is not None and owner.pk == against.pk and not sees_whole_shop(owner):
        raise KefuError("a complaint against an agent is handled by someone else", field="owner_id")
    if actor is not None and owner.pk != actor.pk and not sees_whole_shop(actor):
        raise PermissionDenied("agents register complaints they handle themselves", field="owner_id",
                               code=E.NOT_OWNER)
    revisit_on = _revisit(revisit_on, shop=shop, now=now)
    with transaction.atomic():
        c = Complaint.objects.create(shop=shop, source=source, category=category, buyer_type=buyer_type,
                                     customer=customer, order=order, against=against, reported_by=actor,
                                     owner=owner, summary=summary, revisit_on=revisit_on,
                                     negativity=analyse(summary).priority)
        if against is not None:
            AgentComplaint.objects.create(shop=shop, agent=against, complaint=c, day=shop_day(now, shop.tz),
                                          category=category)
        _event(c, A.CREATE, actor=actor, note=summary)
        audit_record(shop=shop, actor=user_of(actor), action="complaint.create", entity=c,
                     after={"source": source, "category": category, "owner": owner.name,
                            "against": against.name if against else None,
                            "buyer": customer.buyer_id if customer else None, "by": actor.name if actor else "system"})
    return c


def _locked(shop: Shop, complaint_id: int, actor: Agent | None) -> Complaint:
    c = Complaint.objects.select_for_update().filter(shop=shop, pk=complaint_id).first()
    if c is None:
        raise NotFound("complaint not found", field="complaint_id")
    if not _can_act(c, actor):
        raise PermissionDenied("only the owner or a supervisor may act on this complaint", field="owner",
                               code=E.NOT_OWNER)
    c.shop = shop
    return c


# ---------------------------------------------------------------- the state machine

def complaint_transition(*, c: Complaint, action: str, actor: Agent | None, note: str = "",
                         now: dt.datetime | None = None) -> Complaint:
    """Move a complaint along TRANSITIONS; the caller holds the row lock inside a transaction."""
    to_state = TRANSITIONS.get((c.state, action))
    if to_state is None:
        raise KefuError(f"cannot {action} a complaint in stage {c.state}", field="action", code=E.INVALID_TRANSITION)
    if action in (A.ADVANCE, A.CLOSE):
        done = set(c.checks.values_list("step", flat=True))
        missing = [s for s in STEPS_BY_STATE[c.state] if s not in done]
        if missing:
            raise KefuError(f"steps not done: {', '.join(missing)}", field="steps", code=E.STEPS_MISSING)
        if c.state == S.SOLUTION and not c.remedy_kind:
            raise KefuError("choose the remedy before the revisit stage", field="remedy_kind", code=E.STEPS_MISSING)
    if action == A.DISMISS and not note:
        raise KefuError("say why the complaint is dismissed", field="note")
    from_state = c.state
    c.state = to_state
    fields = ["state", "updated_at"]
    if to_state == S.CLOSED:
        c.closed_at = now or timezone.now()
        fields.append("closed_at")
    c.save(update_fields=fields)
    _event(c, action, from_state=from_state, actor=actor, note=note)
    audit_record(shop=c.shop, actor=user_of(actor), action=f"complaint.{action}", entity=c,
                 before={"state": from_state}, after={"state": to_state, "note": note,
                                                      "by": actor.name if actor else "system"})
    return c


def complaint_act(*, shop: Shop, complaint_id: int, action: str, actor: Agent | None, note=None,
                  now: dt.datetime | None = None) -> Complaint:
    if action not in PERSON_ACTIONS:
        raise KefuError(f"action must be one of {', '.join(PERSON_ACTIONS)}", field="action")
    note = clean_text(note, field="note", max_len=500)
    with transaction.atomic():
        c = _locked(shop, complaint_id, actor)
        return complaint_transition(c=c, action=action, actor=actor, note=note, now=now)


def complaint_check(*, shop: Shop, complaint_id: int, step: str, actor: Agent | None, note=None) -> Complaint:
    """Tick one of the seven steps. Steps of a later stage wait for that stage; ticking twice is a no-op."""
    step = _choice(step, ComplaintStep, field="step")
    note = clean_text(note, field="note", max_len=500)
    with transaction.atomic():
        c = _locked(shop, complaint_id, actor)
        if c.state == S.CLOSED:
            raise KefuError("the complaint is closed", field="step", code=E.INVALID_TRANSITION)
        if STATE_ORDER.index(STATE_OF_STEP[step]) > STATE_ORDER.index(c.state):
            raise KefuError(f"step {step} belongs to a later stage", field="step", code=E.INVALID_TRANSITION)
        if c.checks.filter(step=step).exists():
            return c
        ComplaintCheck.objects.create(shop=shop, complaint=c, step=step, done_by=actor, note=note)
        _event(c, A.CHECK, from_state=c.state, actor=actor, note=f"{ComplaintStep(step).label} {note}".strip())
        audit_record(shop=shop, actor=user_of(actor), action="complaint.check", entity=c,
                     after={"step": step, "note": note, "by": actor.name if actor else "system"})
    return c


def complaint_remedy(*, shop: Shop, complaint_id: int, kind: str, text, actor: Agent | None,
                     amount=None, revisit_on=None, now: dt.datetime | None = None) -> tuple[Complaint, str | None]:
    """Choose the remedy (solution stage). Money (a compensation) goes through the approvals
    module: executed within the person's authority, otherwise queued for an approver.

    Returns (complaint, "executed" | "pending" | None). Money is asked for once per complaint."""
    from kefu.approvals.authority import clean_amount
    from kefu.approvals.enums import MoneyKind
    from kefu.approvals.services import money_action_request

    now = now or timezone.now()
    kind = _choice(kind, RemedyKind, field="remedy_kind")
    text = clean_text(text, field="remedy_text", max_len=500, required=True)
    if amount in ("", None):
        amount = None
    else:
        amount = clean_amount(amount)
        if amount <= Decimal("0"):
            raise KefuError("must be more than 0", field="amount")
        if kind != RemedyKind.COMPENSATION:
            raise KefuError("only a compensation carries money here (refunds go through an after-sales case)",
                            field="amount")
    revisit_on = _revisit(revisit_on, shop=shop, now=now)
    with transaction.atomic():
        c = _locked(shop, complaint_id, actor)
        if c.state != S.SOLUTION:
            raise KefuError("the remedy is chosen in the solution stage", field="remedy_kind",
                            code=E.INVALID_TRANSITION)
        outcome = None
        if amount is not None:
            if c.remedy_money_action_id or c.remedy_approval_id:
                raise KefuError("this complaint's compensation was already requested", field="amount", code=E.EXISTS)
            result = money_action_request(shop=shop, agent=actor, kind=MoneyKind.COMPENSATION, amount=amount,
                                          reason=f"投诉#{c.pk} {text}"[:500], order=c.order, customer=c.customer,
                                          request_id=f"complaint-{c.pk}")
            outcome = result.outcome
            c.remedy_money_action = result.money_action
            c.remedy_approval = result.approval
            c.remedy_amount = amount
        c.remedy_kind, c.remedy_text = kind, text
        fields = ["remedy_kind", "remedy_text", "remedy_amount", "remedy_money_action", "remedy_approval",
                  "updated_at"]
        if revisit_on is not None and revisit_on != c.revisit_on:
            c.revisit_on, c.revisit_notified_at = revisit_on, None
            fields += ["revisit_on", "revisit_notified_at"]
        c.save(update_fields=fields)
        note = f"{RemedyKind(kind).label}：{text}" + (f" ¥{amount}（{outcome}）" if amount is not None else "")
        _event(c, A.REMEDY, from_state=c.state, actor=actor, note=note)
        audit_record(shop=shop, actor=user_of(actor), action="complaint.remedy", entity=c,
                     after={"kind": kind, "text": text, "amount": str(amount) if amount is not None else None,
                            "money": outcome, "revisit_on": c.revisit_on.isoformat() if c.revisit_on else None})
    return c, outcome


def complaint_revisit_set(*, shop: Shop, complaint_id: int, revisit_on, actor: Agent | None,
                          now: dt.datetime | None = None) -> Complaint:
    now = now or timezone.now()
    day = _revisit(revisit_on, shop=shop, now=now)
    with transaction.atomic():
        c = _locked(shop, complaint_id, actor)
        if not c.is_open:
            raise KefuError("the complaint is closed", field="revisit_on", code=E.INVALID_TRANSITION)
        before = c.revisit_on
        c.revisit_on, c.revisit_notified_at = day, None
        c.save(update_fields=["revisit_on", "revisit_notified_at", "updated_at"])
        _event(c, A.REMEDY, from_state=c.state, actor=actor, note=f"回访日期 {day or '—'}")
        audit_record(shop=shop, actor=user_of(actor), action="complaint.revisit", entity=c,
                     before={"revisit_on": before.isoformat() if before else None},
                     after={"revisit_on": day.isoformat() if day else None})
    return c


def complaint_verdict(*, shop: Shop, complaint_id: int, verdict: str, actor: Agent | None, note=None,
                      now: dt.datetime | None = None) -> AgentComplaint:
    """A supervisor decides whether a complaint against an agent is upheld (what penalty rules count)."""
    verdict = _choice(verdict, Verdict, field="verdict")
    note = clean_text(note, field="note", max_len=500)
    if actor is not None and not sees_whole_shop(actor):
        raise PermissionDenied("supervisors and up decide complaints against agents", field="verdict",
                               code=E.SUPERVISOR_ONLY)
    with transaction.atomic():
        c = Complaint.objects.select_for_update().filter(shop=shop, pk=complaint_id).first()
        if c is None:
            raise NotFound("complaint not found", field="complaint_id")
        c.shop = shop
        record = AgentComplaint.objects.select_for_update().filter(complaint=c).first()
        if record is None:
            raise KefuError("this complaint is not against an agent", field="verdict")
        before = record.verdict
        record.verdict, record.decided_by, record.decided_at = verdict, actor, now or timezone.now()
        record.save(update_fields=["verdict", "decided_by", "decided_at"])
        if before != verdict:
            # The verdict is a source of the penalty ledger (002 §五.5–6): its deductions follow at once.
            from kefu.people.ledger import ledger_source_changed

            ledger_source_changed(shop=shop, agent_id=record.agent_id, day=record.day)
        _event(c, A.VERDICT, from_state=c.state, actor=actor, note=f"{Verdict(verdict).label} {note}".strip())
        audit_record(shop=shop, actor=user_of(actor), action="complaint.verdict", entity=c,
                     before={"verdict": before}, after={"verdict": verdict, "agent": record.agent.name,
                                                        "note": note})
    return record


# ---------------------------------------------------------------- revisit reminders (scheduler rule)

def revisits_due(*, shop: Shop, now: dt.datetime):
    today = shop_day(now, shop.tz)
    return Complaint.objects.filter(shop=shop, revisit_on__lte=today, revisit_notified_at__isnull=True) \
        .exclude(state=S.CLOSED)


def revisit_reminders_send(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """Notify each owner on the revisit day, once: the conditional update claims the complaint."""
    from kefu.approvals.services import notify

    now = now or timezone.now()
    sent = 0
    for c in revisits_due(shop=shop, now=now).select_related("customer").order_by("id"):
        with transaction.atomic():
            if not Complaint.objects.filter(pk=c.pk, revisit_notified_at__isnull=True).update(revisit_notified_at=now):
                continue  # another run got it first
            c.shop = shop
            buyer = c.customer.nick or c.customer.buyer_id if c.customer else "—"
            notify(shop=shop, recipients=[c.owner_id], text=f"今天回访投诉 #{c.pk}（{buyer}）：{c.summary}",
                   link=reverse("complaints:detail", args=[c.pk]))
            _event(c, A.REVISIT_DUE, from_state=c.state, actor=None, note=f"回访日期 {c.revisit_on}")
        sent += 1
    return sent
