"""One call per kind of change, used by the apps' services to emit their event (event_types.py
says what each carries). Each runs inside the service's transaction and costs two small queries
when nothing listens (no subscription, no rule)."""

import datetime as dt

from .events import event_emit, events_emit, listening


def _person(agent) -> dict | None:
    return {"id": agent.pk, "name": agent.name} if agent is not None else None


def _person_id(shop, agent_id) -> dict | None:
    if not agent_id:
        return None
    from kefu.core.models import Agent

    a = Agent.objects.filter(shop=shop, pk=agent_id).only("name").first()
    return {"id": agent_id, "name": a.name if a else ""}


def messages_created(*, shop, messages) -> None:
    """Live messages stored (the API; imported history emits nothing)."""
    if not messages or not listening(shop=shop, type="message.created"):
        return
    from kefu.conversations.models import Conversation
    from kefu.core.models import Agent
    from kefu.customers.models import Customer

    cids = {m.customer_id for m in messages}
    people = {pk: (buyer_id, nick) for pk, buyer_id, nick
              in Customer.objects.filter(pk__in=cids).values_list("pk", "buyer_id", "nick")}
    buyers = {pk: p[0] for pk, p in people.items()}
    nicks = {pk: p[1] for pk, p in people.items()}
    # The worker extends a conversation after the request (ADR 0004): a message within the idle gap
    # after a stored conversation's end belongs to it, as the rebuild will group it.
    gap = dt.timedelta(minutes=shop.conversation_gap_minutes)
    lo, hi = min(m.sent_at for m in messages), max(m.sent_at for m in messages)
    convs = sorted(Conversation.objects.filter(shop=shop, customer_id__in=cids, started_at__lte=hi,
                                               ended_at__gte=lo - gap)
                   .values_list("pk", "customer_id", "started_at", "ended_at"), key=lambda c: c[2], reverse=True)

    names = dict(Agent.objects.filter(shop=shop, pk__in={m.agent_id for m in messages if m.agent_id})
                 .values_list("pk", "name"))

    def conv_of(m):
        return next((pk for pk, c, a, b in convs if c == m.customer_id and a <= m.sent_at <= b + gap), None)

    items = []
    for m in messages:
        cid = conv_of(m)
        items.append((("conversation", cid), {
            "message_id": m.message_id, "conversation_id": cid, "buyer_id": buyers.get(m.customer_id, ""),
            "buyer_nick": nicks.get(m.customer_id, ""), "sender": m.sender, "sent_at": m.sent_at, "text": m.text,
            "channel": m.channel, "order_id": m.order_ref,
            "agent": {"id": m.agent_id, "name": names.get(m.agent_id, "")} if m.agent_id else None,
        }))
    events_emit(shop=shop, type="message.created", items=items)


def order_data(o, *, changed=None) -> dict:
    d = {"order_id": o.order_id, "buyer_id": o.customer.buyer_id, "status": o.status, "total_amount": o.total_amount,
         "paid_amount": o.paid_amount, "refund_amount": o.refund_amount, "created_at": o.created_at,
         "paid_at": o.paid_at, "shipped_at": o.shipped_at, "signed_at": o.signed_at, "completed_at": o.completed_at,
         "closed_at": o.closed_at, "refunded_at": o.refunded_at, "tracking_no": o.tracking_no, "courier": o.courier}
    if changed is not None:
        d["changed"] = sorted(changed)
    return d


def orders_changed(*, shop, created: list[str], updated: dict[str, list[str]]) -> None:
    """Orders created or changed through the API (a file import of history emits nothing):
    `created` order ids, `updated` order id → changed field names."""
    from kefu.orders.models import Order

    want_new = bool(created) and listening(shop=shop, type="order.created")
    want_changed = bool(updated) and listening(shop=shop, type="order.updated")
    if not (want_new or want_changed):
        return
    ids = [*(created if want_new else []), *(updated if want_changed else [])]
    fresh = {o.order_id: o for o in Order.objects.filter(shop=shop, order_id__in=ids).select_related("customer")}
    if want_new:
        events_emit(shop=shop, type="order.created", items=[(("order", fresh[i].pk), order_data(fresh[i])) for i in created])
    if want_changed:
        events_emit(shop=shop, type="order.updated",
                    items=[(("order", fresh[i].pk), order_data(fresh[i], changed=ch)) for i, ch in updated.items()])


ASSIGN_KINDS = {"routed", "sticky", "handed_out", "assigned", "transferred"}


def conversation_event(*, conv, kind: str, from_agent_id=None, to_agent_id=None, by=None, reason="") -> None:
    """Conversation routed/assigned/transferred (conversation.assigned) or closed/reopened."""
    from kefu.customers.models import Customer

    shop = conv.shop
    typ = "conversation.assigned" if kind in ASSIGN_KINDS else "conversation.closed"
    if kind not in ASSIGN_KINDS | {"closed", "reopened"} or not listening(shop=shop, type=typ):
        return
    buyer = Customer.objects.filter(pk=conv.customer_id).values_list("buyer_id", flat=True).first() or ""
    if kind in ASSIGN_KINDS:
        event_emit(shop=shop, type="conversation.assigned", subject=("conversation", conv.pk), data={
            "conversation_id": conv.pk, "buyer_id": buyer, "to": _person_id(shop, to_agent_id),
            "from": _person_id(shop, from_agent_id), "by": _person(by), "reason": reason or kind,
            "group": conv.group})
    elif kind in ("closed", "reopened"):
        event_emit(shop=shop, type="conversation.closed", subject=("conversation", conv.pk), data={
            "conversation_id": conv.pk, "buyer_id": buyer, "reopened": kind == "reopened", "by": _person(by)})


def case_transitioned(*, case, from_state: str, to_state: str, actor=None, note: str = "", action: str = "") -> None:
    event_emit(shop=case.shop, type="case.transitioned", subject=("case", case.pk), data={
        "case_id": case.pk, "order_id": case.order.order_id if case.order_id else "", "type": case.type,
        "from_state": from_state, "to_state": to_state, "action": action, "by": _person(actor), "note": note})


def refund_executed(*, case, amount, kind: str, actor=None) -> None:
    event_emit(shop=case.shop, type="refund.executed", subject=("case", case.pk), data={
        "case_id": case.pk, "order_id": case.order.order_id if case.order_id else "", "amount": amount,
        "kind": kind, "by": _person(actor)})


def approval_decided(*, req, decision: str, actor=None, reason: str = "") -> None:
    event_emit(shop=req.shop, type="approval.decided", subject=("approval", req.pk), data={
        "approval_id": req.pk, "action": req.kind, "amount": req.amount, "decision": decision,
        "order_id": req.order.order_id if req.order_id else "", "requested_by": _person(req.requested_by),
        "decided_by": _person(actor), "reason": reason})


def followup_transitioned(*, fu, from_state: str, to_state: str) -> None:
    event_emit(shop=fu.shop, type="followup.transitioned", subject=("followup", fu.pk), data={
        "followup_id": fu.pk, "kind": fu.kind, "from_state": from_state, "to_state": to_state,
        "order_id": fu.order.order_id if fu.order_id else "", "buyer_id": fu.customer.buyer_id,
        "owner": _person(fu.owner)})


def complaint_staged(*, c, from_state: str, actor=None) -> None:
    if from_state == c.state:
        return
    event_emit(shop=c.shop, type="complaint.stage_changed", subject=("complaint", c.pk), data={
        "complaint_id": c.pk, "from_stage": from_state, "to_stage": c.state, "by": _person(actor),
        "order_id": c.order.order_id if getattr(c, "order_id", None) else "",
        "buyer_id": c.customer.buyer_id if getattr(c, "customer_id", None) else ""})


def sla_breached(*, shop, clocks) -> None:
    items = []
    for c in clocks:
        subject = ("conversation", c.conversation_id) if c.conversation_id else ("case", c.case_id)
        items.append((subject, {"clock_id": c.pk, "target": c.target, "due_at": c.due_at,
                                "breached_at": c.breached_at or c.due_at, "conversation_id": c.conversation_id,
                                "case_id": c.case_id, "agent": _person_id(shop, c.agent_id)}))
    events_emit(shop=shop, type="sla.breached", items=items)


def tracking_updated(*, shop, events) -> None:
    events_emit(shop=shop, type="tracking.updated", items=[
        (("order", t.order_id), {"tracking_no": t.tracking_no, "courier": t.courier, "state": t.state, "at": t.at,
                                 "context": t.context, "order_id": t.order.order_id if t.order_id else None})
        for t in events])
