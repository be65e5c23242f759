"""Surprises (CRM-4, seed 001 授权): a gift or gesture for a buyer with its reason and cost. A cost
is a gift money action through the one authority check: within the person's limit it is executed
at once (they approved it themselves), above it it waits in the approval queue and the decision
comes back here (`on_approval_decided`, inside the decision's transaction). A gesture without cost
needs no approval. The monthly cost report counts approved surprises by the month of approval."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.approvals.authority import clean_amount
from kefu.approvals.enums import ApprovalState, MoneyKind
from kefu.approvals.models import ApprovalRequest
from kefu.approvals.services import approval_cancel, money_action_request
from kefu.core.access import user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import day_bounds
from kefu.customers.models import Customer

from .enums import CareErrorCode, SurpriseKind, SurpriseState
from .models import Surprise

ZERO = Decimal("0.00")


def surprise_create(*, shop: Shop, customer: Customer, actor: Agent | None, kind: str, description: str, reason: str,
                    cost, request_id: str = "", now: dt.datetime | None = None) -> Surprise:
    """Record a surprise for a buyer. A resend with the same request_id returns the first one."""
    if actor is None:
        raise KefuError("a logged-in person gives a surprise", field="actor", code="person_required")
    if kind not in SurpriseKind.values:
        raise KefuError(f"one of {', '.join(SurpriseKind.values)}", field="kind")
    if customer.shop_id != shop.pk or customer.merged_into_id:
        raise NotFound("buyer not found", field="customer")
    description = clean_text(description, field="description", max_len=200, required=True)
    reason = clean_text(reason, field="reason", max_len=500, required=True)
    cost = clean_amount(cost, field="cost", allow_zero=True)
    request_id = clean_text(request_id, field="request_id", max_len=64)
    if request_id:
        first = Surprise.objects.filter(shop=shop, idempotency_key=request_id).first()
        if first is not None:
            if (first.customer_id, first.cost, first.kind, first.requested_by_id) != (customer.pk, cost, kind, actor.pk):
                raise KefuError("request_id was already used for another surprise", field="request_id",
                                code=CareErrorCode.REQUEST_ID_REUSED)
            return first
    now = now or timezone.now()
    try:
        with transaction.atomic():
            s = Surprise.objects.create(shop=shop, customer=customer, kind=kind, description=description,
                                        reason=reason, cost=cost, requested_by=actor, idempotency_key=request_id,
                                        created_at=now)
            if cost == ZERO:
                s.state, s.approved_by, s.decided_at = SurpriseState.APPROVED, actor, now
            else:
                result = money_action_request(shop=shop, agent=actor, kind=MoneyKind.GIFT, amount=cost,
                                              reason=f"惊喜（{SurpriseKind(kind).label}）{description}：{reason}"[:500],
                                              customer=customer, request_id=f"surprise-{s.pk}")
                if result.outcome == "executed":
                    s.state, s.approved_by, s.decided_at = SurpriseState.APPROVED, actor, now
                    s.money_action = result.money_action
                else:
                    s.approval = result.approval
            s.save(update_fields=["state", "approved_by", "decided_at", "money_action", "approval"])
            audit_record(shop=shop, actor=user_of(actor), action="surprise.create", entity=s,
                         after={"buyer": customer.buyer_id, "kind": kind, "cost": str(cost), "reason": reason,
                                "state": s.state})
    except IntegrityError:
        if request_id:  # a concurrent resend won: answer with its row
            return Surprise.objects.get(shop=shop, idempotency_key=request_id)
        raise
    return s


def on_approval_decided(*, req: ApprovalRequest, actor: Agent | None = None, **_ignored) -> None:
    """The approvals app decided a request (inside its transaction); a surprise's request follows."""
    s = Surprise.objects.select_for_update().filter(approval_id=req.pk).first()
    if s is None or s.state != SurpriseState.PENDING:
        return
    if req.state == ApprovalState.EXECUTED:
        s.state, s.approved_by, s.decided_at = SurpriseState.APPROVED, req.decided_by, req.decided_at
        s.money_action = req.money_action
    elif req.state == ApprovalState.REJECTED:
        s.state, s.decided_at = SurpriseState.REJECTED, req.decided_at
    elif req.state == ApprovalState.CANCELLED:
        s.state, s.decided_at = SurpriseState.CANCELLED, req.decided_at
    else:
        return
    s.save(update_fields=["state", "approved_by", "decided_at", "money_action"])


def surprise_cancel(*, shop: Shop, surprise_id: int, actor: Agent | None) -> Surprise:
    """The requester withdraws a surprise still waiting for approval."""
    s = Surprise.objects.filter(shop=shop, pk=surprise_id).first()
    if s is None:
        raise NotFound("surprise not found", field="surprise_id")
    if actor is None or actor.pk != s.requested_by_id:
        raise PermissionDenied("only the person who asked may withdraw it", field="surprise_id",
                               code="not_requester")
    if s.state != SurpriseState.PENDING or s.approval_id is None:
        raise KefuError(f"this surprise is {s.state}", field="state", code="already_decided")
    approval_cancel(shop=shop, approval_id=s.approval_id, agent=actor)
    s.refresh_from_db()
    return s


# ---------------------------------------------------------------- the monthly cost report

def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def surprise_costs(*, shop: Shop, month_from: dt.date, month_to: dt.date) -> dict:
    """Approved surprises per month of approval (shop time): count and cost, by kind and by person.
    `month_from`/`month_to` are any days of the first and last month."""
    first, last = _month_start(month_from), _month_start(month_to)
    start = day_bounds(first, shop.tz)[0]
    end = day_bounds(_next_month(last) - dt.timedelta(days=1), shop.tz)[1]
    qs = Surprise.objects.filter(shop=shop, state=SurpriseState.APPROVED, decided_at__gte=start, decided_at__lt=end)
    months: dict[dt.date, dict] = {}
    m = first
    while m <= last:
        months[m] = {"month": m, "count": 0, "cost": ZERO, "by_kind": defaultdict(lambda: [0, ZERO]),
                     "by_person": defaultdict(lambda: [0, ZERO])}
        m = _next_month(m)
    rows = qs.values_list("decided_at", "kind", "requested_by__name", "cost")
    for decided_at, kind, person, cost in rows:
        row = months[_month_start(decided_at.astimezone(shop.tz).date())]
        row["count"] += 1
        row["cost"] += cost
        row["by_kind"][kind][0] += 1
        row["by_kind"][kind][1] += cost
        row["by_person"][person][0] += 1
        row["by_person"][person][1] += cost
    out = []
    for row in months.values():
        row["by_kind"] = [{"kind": k, "label": SurpriseKind(k).label, "count": v[0], "cost": v[1]}
                          for k, v in sorted(row["by_kind"].items())]
        row["by_person"] = [{"person": k, "count": v[0], "cost": v[1]}
                            for k, v in sorted(row["by_person"].items(), key=lambda kv: (-kv[1][1], kv[0]))]
        out.append(row)
    return {"months": out, "count": sum(r["count"] for r in out), "cost": sum((r["cost"] for r in out), ZERO)}
