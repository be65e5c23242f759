"""Writes of the approvals domain: money action requests, decisions, limits, notifications.

The state machine of an approval request is TRANSITIONS and one function, approval_transition.
Every step writes an ApprovalEvent and an AuditLog row; executing the money action happens once:
the request row is locked (select_for_update) and its state checked inside the transaction, and
MoneyAction.request is unique.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from kefu.core.access import user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.customers.models import Customer
from kefu.orders.adjust import order_adjust_for_money_action
from kefu.orders.models import Order

from .authority import (
    AuthorityTable,
    Decision,
    Limit,
    authority_check,
    clean_amount,
    clean_kind,
    covers,
)
from .enums import (
    APPROVER_ROLES,
    LIMIT_EDITOR_ROLES,
    SETTABLE_ROLES,
    ApprovalAction,
    ApprovalErrorCode,
    ApprovalState,
    MoneyKind,
)
from .models import ApprovalEvent, ApprovalRequest, AuthorityLimit, MoneyAction, Notification

S, A, E = ApprovalState, ApprovalAction, ApprovalErrorCode

# (state, action) → new state. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.PENDING, A.APPROVE): S.APPROVED,
    (S.APPROVED, A.EXECUTE): S.EXECUTED,
    (S.PENDING, A.REJECT): S.REJECTED,
    (S.PENDING, A.CANCEL): S.CANCELLED,
}
DECIDED = {S.APPROVED, S.EXECUTED, S.REJECTED, S.CANCELLED}
REASON_MAX = 500


def _reason(reason, *, required: bool, field: str = "reason") -> str:
    return clean_text(reason, field=field, max_len=REASON_MAX, required=required,
                      required_message="a reason is required")


def _member_of(shop: Shop, agent: Agent | None, field: str = "agent") -> Agent:
    if agent is None:
        raise KefuError("a logged-in person must make this request", field=field, code=E.PERSON_REQUIRED)
    if agent.shop_id != shop.pk or not agent.active:
        raise PermissionDenied("this person does not work in this shop", field=field)
    return agent


# ---------------------------------------------------------------- the state machine

def approval_transition(*, req: ApprovalRequest, action: str, actor: Agent | None, reason: str = "") -> ApprovalRequest:
    """Move a request along TRANSITIONS; the caller holds the row lock inside a transaction."""
    to_state = TRANSITIONS.get((req.state, action))
    if to_state is None:
        if req.state in DECIDED and action in (A.APPROVE, A.REJECT, A.CANCEL):
            raise KefuError(f"request #{req.pk} is already decided ({req.state})", field="state",
                            code=E.ALREADY_DECIDED)
        raise KefuError(f"cannot {action} a request that is {req.state}", field="state", code=E.INVALID_TRANSITION)
    from_state = req.state
    req.state = to_state
    fields = ["state", "updated_at"]
    if action in (A.APPROVE, A.REJECT, A.CANCEL):
        req.decided_by = actor if action != A.CANCEL else None
        req.decided_at = timezone.now()
        req.decision_reason = reason
        fields += ["decided_by", "decided_at", "decision_reason"]
    req.save(update_fields=fields)
    ApprovalEvent.objects.create(shop_id=req.shop_id, request=req, action=action, from_state=from_state,
                                 to_state=to_state, actor=actor, reason=reason)
    audit_record(shop=req.shop, actor=user_of(actor), action=f"approval.{action}", entity=req,
                 before={"state": from_state},
                 after={"state": to_state, "reason": reason, "by": actor.name if actor else None})
    if action in (A.APPROVE, A.REJECT, A.CANCEL):
        from kefu.integrations import hooks

        hooks.approval_decided(req=req, decision={A.APPROVE: "approved", A.REJECT: "rejected"}.get(action, "cancelled"),
                               actor=actor, reason=reason)
    return req


# ---------------------------------------------------------------- requests

@dataclass
class RequestResult:
    outcome: str  # "executed" (within authority) or "pending" (waiting for an approver)
    decision: Decision
    money_action: MoneyAction | None = None
    approval: ApprovalRequest | None = None
    replayed: bool = False  # a resend of an earlier request_id: nothing new was written


def money_action_request(
    *, shop: Shop, agent: Agent | None, kind: str, amount=None, reason: str, order: Order | None = None,
    customer: Customer | None = None, request_id: str = "",
) -> RequestResult:
    """A price change, compensation or free order: executed at once within the person's authority,
    otherwise an approval request for the approvers who may decide it (notified in the app)."""
    agent = _member_of(shop, agent)
    kind = clean_kind(kind)
    if order is not None and order.shop_id != shop.pk:
        raise NotFound("order not found", field="order_id")
    if customer is not None and customer.shop_id != shop.pk:
        raise NotFound("customer not found", field="buyer_id")
    if order is not None:
        if customer is not None and customer.pk != order.customer_id:
            raise KefuError("the order belongs to another buyer", field="buyer_id")
        customer = order.customer
    if amount in (None, "") and kind == MoneyKind.FREE_ORDER and order is not None:
        amount = order.paid_amount or order.total_amount
    if amount in (None, ""):
        raise KefuError("required", field="amount")
    amount = clean_amount(amount)
    if order is not None and kind in (MoneyKind.DISCOUNT, MoneyKind.FREE_ORDER) and order.total_amount > 0 \
            and amount > order.total_amount:
        raise KefuError(f"more than the order's amount ({order.total_amount})", field="amount")
    reason = _reason(reason, required=True)
    request_id = _request_id(request_id)
    fingerprint = {"kind": kind, "amount": amount, "order_id": order.pk if order else None, "agent_id": agent.pk}

    if request_id:
        replay = _replay(shop=shop, request_id=request_id, fingerprint=fingerprint)
        if replay is not None:
            return replay
    decision = authority_check(shop=shop, agent=agent, kind=kind, amount=amount)
    try:
        with transaction.atomic():
            if decision.allowed:
                action = _execute(shop=shop, kind=kind, amount=amount, reason=reason, order=order, customer=customer,
                                  requested_by=agent, approved_by=None, req=None, request_id=request_id)
                return RequestResult(outcome="executed", decision=decision, money_action=action)
            req = ApprovalRequest.objects.create(shop=shop, order=order, customer=customer, kind=kind, amount=amount,
                                                 reason=reason, requested_by=agent, idempotency_key=request_id)
            ApprovalEvent.objects.create(shop=shop, request=req, action=A.CREATE, to_state=S.PENDING, actor=agent,
                                         reason=reason)
            audit_record(shop=shop, actor=user_of(agent), action="approval.create", entity=req,
                         after={"kind": kind, "amount": str(amount), "reason": reason, "by": agent.name,
                                "order": order.order_id if order else None, "limit": _str(decision.limit)})
            _notify_approvers(shop=shop, req=req)
            return RequestResult(outcome="pending", decision=decision, approval=req)
    except IntegrityError:
        # A concurrent resend with the same request_id won the race: answer with its result.
        if request_id:
            replay = _replay(shop=shop, request_id=request_id, fingerprint=fingerprint)
            if replay is not None:
                return replay
        raise


def _str(limit: Limit) -> str | None:
    return None if limit is None else str(limit)


def _request_id(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise KefuError("must be text", field="request_id")
    value = str(value).strip()
    if len(value) > 64:
        raise KefuError("at most 64 characters", field="request_id")
    return value


def _replay(*, shop: Shop, request_id: str, fingerprint: dict) -> RequestResult | None:
    action = MoneyAction.objects.filter(shop=shop, idempotency_key=request_id).first()
    req = None if action else ApprovalRequest.objects.filter(shop=shop, idempotency_key=request_id).first()
    first = action or req
    if first is None:
        return None
    if {"kind": first.kind, "amount": first.amount, "order_id": first.order_id,
            "agent_id": first.requested_by_id} != fingerprint:
        raise KefuError("request_id was already used for a different request", field="request_id",
                        code=E.REQUEST_ID_REUSED)
    decision = authority_check(shop=shop, agent=first.requested_by, kind=first.kind, amount=first.amount)
    if action is not None:
        return RequestResult(outcome="executed", decision=decision, money_action=action, replayed=True)
    return RequestResult(outcome="pending" if req.state == S.PENDING else req.state, decision=decision,
                         approval=req, money_action=MoneyAction.objects.filter(request=req).first(), replayed=True)


def _execute(*, shop, kind, amount, reason, order, customer, requested_by, approved_by, req, request_id) -> MoneyAction:
    action = MoneyAction.objects.create(shop=shop, order=order, customer=customer, kind=kind, amount=amount,
                                        reason=reason, requested_by=requested_by, approved_by=approved_by,
                                        request=req, idempotency_key=request_id)
    audit_record(shop=shop, actor=user_of(approved_by or requested_by), action="money_action.execute", entity=action,
                 after={"kind": kind, "amount": str(amount), "reason": reason, "requested_by": requested_by.name,
                        "approved_by": approved_by.name if approved_by else None,
                        "order": order.order_id if order else None, "request": req.pk if req else None})
    # The order it names is adjusted in the same transaction (one OrderAdjustment per action).
    order_adjust_for_money_action(action=action)
    return action


# ---------------------------------------------------------------- decisions

# Other apps whose own records follow a decision (an after-sales case's refund above authority),
# called inside the decision's transaction as fn(req=..., actor=...); they ignore requests not theirs.
DECISION_HOOKS = ("kefu.aftersales.money.on_approval_decided", "kefu.care.surprises.on_approval_decided")


def _decision_hooks(*, req: ApprovalRequest, actor: Agent | None) -> None:
    from django.utils.module_loading import import_string

    for path in DECISION_HOOKS:
        import_string(path)(req=req, actor=actor)


def approval_decide(*, shop: Shop, approval_id: int, approver: Agent | None, approve: bool, reason: str = "") -> ApprovalRequest:
    """Approve (and execute, exactly once) or reject (a reason is required) a pending request.

    The approver must hold an approver role and authority for the amount; a supervisor whose limit
    is below it gets `above_authority` (the request waits for a manager). The loser of two
    simultaneous decisions gets `already_decided`.
    """
    approver = _member_of(shop, approver, field="approver")
    reason = _reason(reason, required=not approve)
    if not approver.has_role(*APPROVER_ROLES):
        raise PermissionDenied("supervisors, managers and admins only", field="approver", code=E.NOT_APPROVER)
    with transaction.atomic():
        req = ApprovalRequest.objects.select_for_update().filter(shop=shop, pk=approval_id).first()
        if req is None:
            raise NotFound("approval request not found", field="approval_id")
        if req.state in DECIDED:
            raise KefuError(f"request #{req.pk} is already decided ({req.state})", field="state",
                            code=E.ALREADY_DECIDED)
        if req.requested_by_id == approver.pk:
            raise PermissionDenied("nobody decides their own request", field="approver", code=E.OWN_REQUEST)
        decision = authority_check(shop=shop, agent=approver, kind=req.kind, amount=req.amount)
        if not decision.allowed:
            raise PermissionDenied(
                f"{req.amount} is above your authority ({_str(decision.limit)}); it goes to: "
                f"{', '.join(decision.approver_roles) or 'admin'}",
                field="amount", code=E.ABOVE_AUTHORITY)
        if approve:
            approval_transition(req=req, action=A.APPROVE, actor=approver, reason=reason)
            _execute(shop=shop, kind=req.kind, amount=req.amount, reason=req.reason, order=req.order,
                     customer=req.customer, requested_by=req.requested_by, approved_by=approver, req=req,
                     request_id="")
            approval_transition(req=req, action=A.EXECUTE, actor=approver)
        else:
            approval_transition(req=req, action=A.REJECT, actor=approver, reason=reason)
        _decision_hooks(req=req, actor=approver)
        _notify(shop=shop, recipients=[req.requested_by], req=req,
                text=f"{approver.name} {'批准' if approve else '驳回'}了你的{MoneyKind(req.kind).label} ¥{req.amount}"
                     + (f"：{reason}" if reason else ""))
    return req


def approval_cancel(*, shop: Shop, approval_id: int, agent: Agent | None, reason: str = "") -> ApprovalRequest:
    """The requester withdraws a pending request."""
    agent = _member_of(shop, agent)
    reason = _reason(reason, required=False)
    with transaction.atomic():
        req = ApprovalRequest.objects.select_for_update().filter(shop=shop, pk=approval_id).first()
        if req is None:
            raise NotFound("approval request not found", field="approval_id")
        if req.requested_by_id != agent.pk:
            raise PermissionDenied("only the person who asked may withdraw a request", field="agent",
                                   code=E.NOT_REQUESTER)
        approval_transition(req=req, action=A.CANCEL, actor=agent, reason=reason)
        _decision_hooks(req=req, actor=agent)
        return req


# ---------------------------------------------------------------- notifications

def approvers_for(*, shop: Shop, kind: str, amount: Decimal, exclude: Agent | None = None) -> list[Agent]:
    """Active people of the shop with an approver role whose authority covers the amount."""
    q = Q()
    for role in APPROVER_ROLES:
        q |= Q(roles__contains=role)
    people = [a for a in Agent.objects.filter(shop=shop, active=True).filter(q)
              if a.has_role(*APPROVER_ROLES) and (exclude is None or a.pk != exclude.pk)]
    table = AuthorityTable(shop=shop)
    return [a for a in people if covers(table.limit_for(a, kind)[0], amount)]


def _notify_approvers(*, shop: Shop, req: ApprovalRequest) -> None:
    recipients = approvers_for(shop=shop, kind=req.kind, amount=req.amount, exclude=req.requested_by)
    _notify(shop=shop, recipients=recipients, req=req,
            text=f"{req.requested_by.name} 申请{MoneyKind(req.kind).label} ¥{req.amount}：{req.reason}"[:300])


def _notify(*, shop: Shop, recipients: list[Agent], req: ApprovalRequest, text: str) -> None:
    notify(shop=shop, recipients=recipients, text=text, link=reverse("approvals:queue") + f"#request-{req.pk}")


def notify(*, shop: Shop, recipients, text: str, link: str = "") -> int:
    """In-app notifications (the header's badge): one row per person, text cut to fit. Every app
    that tells people something (approvals, order results, SLA, alerts, revisits) goes through here."""
    rows = [Notification(shop=shop, recipient_id=getattr(a, "pk", a), text=str(text)[:300], link=link[:200])
            for a in recipients]
    Notification.objects.bulk_create(rows)
    return len(rows)


def notifications_mark_read(*, shop: Shop, member: Agent, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(shop=shop, recipient=member, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


# ---------------------------------------------------------------- limits

@dataclass
class LimitChange:
    kind: str
    role: str = ""
    agent: Agent | None = None
    limit: Limit = None  # None = unlimited
    reset: bool = False  # remove the shop's row: back to the default (role) or to the roles (person)


def authority_limits_update(*, shop: Shop, editor: Agent | None, changes: list[LimitChange]) -> int:
    """Set or reset role limits and per-person overrides; all or nothing, each change audited.

    Managers and admins only. A manager cannot change the manager role, a manager's or an admin's
    own override, or give anyone more authority than their own; admins may do all of it. Admins
    themselves are always unlimited.
    """
    editor = _member_of(shop, editor, field="editor")
    if not editor.has_role(*LIMIT_EDITOR_ROLES):
        raise PermissionDenied("managers and admins only", field="editor")
    is_admin = editor.has_role("admin")
    own = AuthorityTable(shop=shop, agents=[editor])
    for i, ch in enumerate(changes):
        prefix = f"limits.{i}"
        try:
            clean_kind(ch.kind)
        except KefuError as exc:
            raise KefuError(exc.message, field=f"{prefix}.kind") from exc
        if bool(ch.role) == (ch.agent is not None):
            raise KefuError("name either a role or a person", field=f"{prefix}.role")
        if ch.role and ch.role not in SETTABLE_ROLES:
            raise KefuError(f"role must be one of {', '.join(SETTABLE_ROLES)} (admins are unlimited)",
                            field=f"{prefix}.role")
        if ch.agent is not None and ch.agent.shop_id != shop.pk:
            raise NotFound("person not found", field=f"{prefix}.agent_id")
        if ch.limit is not None and not ch.reset:
            ch.limit = clean_amount(ch.limit, field=f"{prefix}.limit", allow_zero=True)
        if not is_admin:
            if ch.role == "manager" or (ch.agent is not None and (ch.agent.pk == editor.pk
                                                                  or ch.agent.has_role("manager", "admin"))):
                raise PermissionDenied("only an admin may change a manager's authority", field=f"{prefix}.role")
            mine = own.limit_for(editor, ch.kind)[0]
            if not ch.reset and mine is not None and (ch.limit is None or ch.limit > mine):
                raise PermissionDenied(f"more than your own authority ({mine})", field=f"{prefix}.limit")
    with transaction.atomic():
        for ch in changes:
            key = {"shop": shop, "kind": ch.kind, "role": ch.role, "agent": ch.agent}
            row = AuthorityLimit.objects.select_for_update().filter(**key).first()
            before = {"limit": _str(row.limit)} if row else None
            target = ch.agent if ch.agent is not None else shop
            entity_after = {"kind": ch.kind, "role": ch.role or None, "person": ch.agent.name if ch.agent else None}
            if ch.reset:
                if row is None:
                    continue
                row.delete()
                audit_record(shop=shop, actor=user_of(editor), action="authority.reset", entity=target,
                             before=before, after={**entity_after, "limit": "default"})
                continue
            if row is None:
                row = AuthorityLimit.objects.create(limit=ch.limit, **key)
            elif row.limit != ch.limit:
                row.limit = ch.limit
                row.save(update_fields=["limit", "updated_at"])
            else:
                continue
            audit_record(shop=shop, actor=user_of(editor), action="authority.set", entity=target,
                         before=before, after={**entity_after, "limit": _str(ch.limit)})
    return len(changes)
