"""Writes of the follow-ups domain: create, the state machine, the 催付 rule and auto-closing.

The state machine is TRANSITIONS and one function, followup_transition. Every step writes a
FollowUpEvent and an AuditLog row. The 催付 rule (payment_reminders_create) runs from the
scheduler; the unique (order, kind) constraint makes it fire at most once per order.
Auto-closing (followups_close_for_orders) is called by orders_upsert inside its transaction.
"""

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from kefu.core.access import sees_whole_shop, user_of
from kefu.core.enums import Group
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.customers.models import Customer
from kefu.orders.enums import OrderStatus
from kefu.orders.models import Order

from .enums import (
    ACTIVE_STATES,
    MANUAL_KINDS,
    PAYMENT_REMINDER_DUE,
    PAYMENT_REMINDER_LOOKBACK,
    PROMISED_ANSWER_MAX,
    REASONS_BY_KIND,
    FollowUpAction,
    FollowUpErrorCode,
    FollowUpKind,
    FollowUpState,
)
from .models import FollowUp, FollowUpEvent

S, A, E = FollowUpState, FollowUpAction, FollowUpErrorCode
TEXT_MAX = 500

# (state, action) → new state. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {}
for _state in (S.OPEN, S.CONTACTED):
    TRANSITIONS.update({
        (_state, A.CONTACT): S.CONTACTED,
        (_state, A.WIN): S.CLOSED_WON,
        (_state, A.LOSE): S.CLOSED_LOST,
        (_state, A.CANCEL): S.CANCELLED,
        (_state, A.AUTO_WIN): S.CLOSED_WON,
        (_state, A.AUTO_LOSE): S.CLOSED_LOST,
    })
# Actions a person may take (page or API); the auto_* ones are the system's.
PERSON_ACTIONS = (A.CONTACT, A.WIN, A.LOSE, A.CANCEL)


def _text(value, *, field: str, required: bool = False) -> str:
    return clean_text(value, field=field, max_len=TEXT_MAX, required=required)


def _reason(kind: str, reason, *, required: bool = False) -> str:
    reason = _text(reason, field="reason", required=required)
    if reason and reason not in REASONS_BY_KIND[kind]:
        raise KefuError(f"reason must be one of {', '.join(REASONS_BY_KIND[kind])} for {kind}", field="reason",
                        code=E.BAD_REASON)
    return reason


def _moment(value, *, field: str, now: dt.datetime, required: bool = False) -> dt.datetime | None:
    if value is None:
        if required:
            raise KefuError("required", field=field)
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise KefuError("must be a date and time with a time zone", field=field)
    if value <= now:
        raise KefuError("must be in the future", field=field)
    return value


def _can_act(fu: FollowUp, actor: Agent | None) -> bool:
    """The owner, the shop's supervisors and up, or an integration (actor None)."""
    return actor is None or actor.pk == fu.owner_id or sees_whole_shop(actor)


# ---------------------------------------------------------------- the state machine

def followup_transition(*, fu: FollowUp, action: str, actor: Agent | None = None, reason: str | None = None,
                        outcome: str = "", note: str = "", next_contact_at: dt.datetime | None = None,
                        now: dt.datetime | None = None) -> FollowUp:
    """Move a follow-up along TRANSITIONS; the caller holds the row lock inside a transaction.

    Input is assumed clean (followup_act cleans what people send)."""
    to_state = TRANSITIONS.get((fu.state, action))
    if to_state is None:
        raise KefuError(f"cannot {action} a follow-up that is {fu.state}", field="action",
                        code=E.INVALID_TRANSITION)
    now = now or timezone.now()
    from_state = fu.state
    before = {"state": from_state, "reason": fu.reason, "next_contact_at": _iso(fu.next_contact_at)}
    fu.state = to_state
    fields = ["state", "updated_at"]
    if reason:
        fu.reason = reason
        fields.append("reason")
    if note:
        fu.note = note
        fields.append("note")
    if action == A.CONTACT:
        fu.contact_count += 1
        fu.next_contact_at = next_contact_at
        fields += ["contact_count", "next_contact_at"]
    else:
        fu.closed_at = now
        fu.next_contact_at = None
        fu.outcome = outcome
        fields += ["closed_at", "next_contact_at", "outcome"]
    fu.save(update_fields=fields)
    FollowUpEvent.objects.create(shop_id=fu.shop_id, followup=fu, action=action, from_state=from_state,
                                 to_state=to_state, actor=actor, reason=reason or "", note=(note or outcome)[:500],
                                 created_at=now)
    from kefu.integrations import hooks

    hooks.followup_transitioned(fu=fu, from_state=from_state, to_state=to_state)
    audit_record(shop=fu.shop, actor=user_of(actor), action=f"followup.{action}", entity=fu, before=before,
                 after={"state": to_state, "reason": fu.reason, "outcome": fu.outcome, "note": note,
                        "next_contact_at": _iso(fu.next_contact_at), "by": actor.name if actor else "system"})
    return fu


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def followup_act(*, shop: Shop, followup_id: int, action: str, actor: Agent | None, reason: str | None = None,
                 outcome: str | None = None, note: str | None = None, next_contact_at: dt.datetime | None = None,
                 now: dt.datetime | None = None) -> FollowUp:
    """A person (or integration) contacts the buyer, closes or cancels a follow-up."""
    now = now or timezone.now()
    if action not in PERSON_ACTIONS:
        raise KefuError(f"action must be one of {', '.join(PERSON_ACTIONS)}", field="action")
    outcome = _text(outcome, field="outcome")
    note = _text(note, field="note")
    if action == A.CONTACT:
        next_contact_at = _moment(next_contact_at, field="next_contact_at", now=now)
    elif next_contact_at is not None:
        raise KefuError("only a contact sets the next contact time", field="next_contact_at")
    with transaction.atomic():
        fu = FollowUp.objects.select_for_update().filter(shop=shop, pk=followup_id).first()
        if fu is None:
            raise NotFound("follow-up not found", field="followup_id")
        if not _can_act(fu, actor):
            raise PermissionDenied("only the owner or a supervisor may act on this follow-up", field="owner",
                                   code=E.NOT_OWNER)
        reason = _reason(fu.kind, reason)
        fu.shop = shop
        return followup_transition(fu=fu, action=action, actor=actor, reason=reason, outcome=outcome, note=note,
                                   next_contact_at=next_contact_at, now=now)


# ---------------------------------------------------------------- create

def followup_create(*, shop: Shop, kind: str, customer: Customer, owner: Agent | None, actor: Agent | None,
                    order: Order | None = None, reason: str | None = None, note: str | None = None,
                    next_contact_at: dt.datetime | None = None, due_at: dt.datetime | None = None,
                    now: dt.datetime | None = None) -> FollowUp:
    """A lead (咨询未拍) or a promised answer (待查问题, due at most 24 h from now).

    An agent creates follow-ups for themself; supervisors and integrations name the owner."""
    now = now or timezone.now()
    if kind not in MANUAL_KINDS:
        raise KefuError(f"kind must be one of {', '.join(MANUAL_KINDS)} (催付 tasks come from the rule)",
                        field="kind")
    if customer.shop_id != shop.pk:
        raise NotFound("customer not found", field="buyer_id")
    if order is not None:
        if order.shop_id != shop.pk:
            raise NotFound("order not found", field="order_id")
        if order.customer_id != customer.pk:
            raise KefuError("the order belongs to another buyer", field="order_id")
    owner = owner or actor
    if owner is None:
        raise KefuError("name the owner of the follow-up", field="owner_id")
    if owner.shop_id != shop.pk or not owner.active:
        raise NotFound("person not found", field="owner_id")
    if actor is not None and owner.pk != actor.pk and not sees_whole_shop(actor):
        raise PermissionDenied("agents create follow-ups for themselves", field="owner_id", code=E.NOT_OWNER)
    reason = _reason(kind, reason)
    note = _text(note, field="note")
    next_contact_at = _moment(next_contact_at, field="next_contact_at", now=now)
    if kind == FollowUpKind.PROMISED_ANSWER:
        due_at = _moment(due_at, field="due_at", now=now, required=True)
        if due_at > now + PROMISED_ANSWER_MAX:
            raise KefuError("a promised answer is due within 24 hours", field="due_at", code=E.DEADLINE)
    else:
        due_at = _moment(due_at, field="due_at", now=now)
    try:
        with transaction.atomic():
            return _create(shop=shop, kind=kind, customer=customer, order=order, owner=owner, actor=actor, now=now,
                           reason=reason, note=note, next_contact_at=next_contact_at, due_at=due_at)
    except IntegrityError as exc:
        raise KefuError(f"this order already has a {kind} follow-up", field="order_id", code="exists") from exc


def _create(*, shop, kind, customer, order, owner, actor, now, reason="", note="", next_contact_at=None,
            due_at=None) -> FollowUp:
    fu = FollowUp.objects.create(shop=shop, kind=kind, customer=customer, order=order, owner=owner, reason=reason,
                                 note=note, next_contact_at=next_contact_at, due_at=due_at, created_at=now)
    FollowUpEvent.objects.create(shop=shop, followup=fu, action=A.CREATE, to_state=S.OPEN, actor=actor,
                                 reason=reason, note=note, created_at=now)
    audit_record(shop=shop, actor=user_of(actor), action="followup.create", entity=fu,
                 after={"kind": kind, "owner": owner.name, "buyer": customer.buyer_id,
                        "order": order.order_id if order else None, "reason": reason,
                        "due_at": _iso(due_at), "by": actor.name if actor else "system"})
    return fu


# ---------------------------------------------------------------- the 催付 rule (PRE-2, AUTO-2)

def payment_reminder_candidates(*, shop: Shop, now: dt.datetime, minutes: int | None = None):
    """Orders unpaid `minutes` (default: the shop's setting) after they were placed (within the
    look-back) without a 催付 task."""
    minutes = minutes or shop.payment_reminder_minutes
    return (Order.objects.filter(shop=shop, status=OrderStatus.UNPAID, paid_at__isnull=True, closed_at__isnull=True,
                                 created_at__lte=now - dt.timedelta(minutes=minutes),
                                 created_at__gt=now - PAYMENT_REMINDER_LOOKBACK)
            .exclude(Exists(FollowUp.objects.filter(order=OuterRef("pk"), kind=FollowUpKind.PAYMENT_REMINDER))))


def payment_reminders_create(*, shop: Shop, now: dt.datetime | None = None,
                             minutes: int | None = None, limit: int = 500) -> list[FollowUp]:
    """One 催付 task per order unpaid N minutes after it was placed, for a pre-sales agent on shift.

    The owner is the on-shift agent with the fewest open follow-ups. Nobody on shift: nothing is
    created now; the next scan after the shift starts hands the orders out (still within the
    look-back). Never twice for an order: the scan skips orders with a task, and the unique
    (order, kind) constraint refuses a concurrent scheduler's duplicate.
    """
    from kefu.workforce.selectors import agents_on_shift

    now = now or timezone.now()
    orders = list(payment_reminder_candidates(shop=shop, now=now, minutes=minutes)
                  .select_related("customer").order_by("created_at", "id")[:limit])
    if not orders:
        return []
    agents = agents_on_shift(shop=shop, at=now, group=Group.PRESALES)
    if not agents:
        return []
    load = dict(FollowUp.objects.filter(shop=shop, owner__in=agents, state__in=ACTIVE_STATES)
                .values("owner").annotate(n=Count("id")).values_list("owner", "n"))
    created = []
    for order in orders:
        owner = min(agents, key=lambda a: (load.get(a.pk, 0), a.name, a.pk))
        try:
            with transaction.atomic():
                fu = _create(shop=shop, kind=FollowUpKind.PAYMENT_REMINDER, customer=order.customer, order=order,
                             owner=owner, actor=None, now=now, due_at=now + PAYMENT_REMINDER_DUE,
                             next_contact_at=None)
        except IntegrityError:
            continue  # another scheduler made it first
        load[owner.pk] = load.get(owner.pk, 0) + 1
        created.append(fu)
    return created


def payment_reminders_pending(*, shop: Shop, now: dt.datetime) -> bool:
    """Whether the rule has anything to do now (the scheduler fires it only then)."""
    return payment_reminder_candidates(shop=shop, now=now).exists()


# ---------------------------------------------------------------- auto-closing

def followups_close_for_orders(*, shop: Shop, order_ids: Iterable[str], now: dt.datetime | None = None) -> int:
    """Close the follow-ups settled by these orders (platform order ids), in the caller's transaction.

    A 催付 task closes won when its order is paid and lost when the order is closed unpaid; an open
    lead (咨询未拍) of a buyer who placed one of these orders after the lead closes won.
    """
    order_ids = list(order_ids)
    if not order_ids:
        return 0
    now = now or timezone.now()
    closed = 0
    tasks = (FollowUp.objects.select_for_update(of=("self",))
             .filter(shop=shop, order__order_id__in=order_ids, state__in=ACTIVE_STATES)
             .select_related("order").order_by("id"))
    for fu in tasks:
        o = fu.order
        if o.paid_at is not None:
            action, outcome, settled = A.AUTO_WIN, f"已付款 {o.order_id}", o.paid_at
        elif o.closed_at is not None or o.status == OrderStatus.CLOSED:
            action, outcome, settled = A.AUTO_LOSE, f"订单关闭 {o.order_id}", o.closed_at
        else:
            continue
        fu.shop = shop
        # Closed when the order settled it (an order sync may come minutes later), never before the
        # task existed: the 催付 figures count reminders by the day they closed.
        when = min(now, max(fu.created_at, settled or now))
        followup_transition(fu=fu, action=action, actor=None, outcome=outcome, now=when)
        closed += 1
    buyers = Order.objects.filter(shop=shop, order_id__in=order_ids).values("customer_id")
    leads = list(FollowUp.objects.select_for_update(of=("self",))
                 .filter(shop=shop, kind=FollowUpKind.LEAD, state__in=ACTIVE_STATES, customer_id__in=buyers)
                 .order_by("id"))
    if leads:
        orders = list(Order.objects.filter(shop=shop, order_id__in=order_ids,
                                           customer_id__in={f.customer_id for f in leads}).order_by("created_at"))
        for fu in leads:
            placed = next((o for o in orders if o.customer_id == fu.customer_id and o.created_at >= fu.created_at),
                          None)
            if placed is None:
                continue
            fu.shop = shop
            followup_transition(fu=fu, action=A.AUTO_WIN, actor=None, outcome=f"已下单 {placed.order_id}", now=now)
            closed += 1
    return closed

