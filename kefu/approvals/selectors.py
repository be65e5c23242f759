"""Reads of the approvals domain, always through the shop and the person asking."""

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop

from .authority import AuthorityTable
from .enums import APPROVER_ROLES, DEFAULT_ROLE_LIMITS, SETTABLE_ROLES, ApprovalState, MoneyKind
from .models import ApprovalRequest, AuthorityLimit, MoneyAction, Notification

REQUEST_RELATED = ("requested_by", "decided_by", "order", "customer")


def decidable_filter(*, shop: Shop, member: Agent | None) -> Q | None:
    """The requests this person may decide: within their authority per kind, not their own.

    None = no request at all (not an approver).
    """
    if member is None or not member.has_role(*APPROVER_ROLES):
        return None
    table = AuthorityTable(shop=shop, agents=[member])
    q = Q(pk__in=[])
    for kind in MoneyKind.values:
        limit = table.limit_for(member, kind)[0]
        q |= Q(kind=kind) if limit is None else Q(kind=kind, amount__lte=limit)
    return q & ~Q(requested_by=member)


def approvals_pending_for(*, shop: Shop, member: Agent | None) -> QuerySet[ApprovalRequest]:
    """The approver queue: pending requests this person may decide, oldest first."""
    q = decidable_filter(shop=shop, member=member)
    qs = ApprovalRequest.objects.filter(shop=shop, state=ApprovalState.PENDING).select_related(*REQUEST_RELATED)
    if q is None:
        return qs.none()
    return qs.filter(q).order_by("created_at", "id")


def approvals_pending_above(*, shop: Shop, member: Agent | None) -> QuerySet[ApprovalRequest]:
    """Pending requests a supervisor sees but may not decide (above their authority): they go up."""
    q = decidable_filter(shop=shop, member=member)
    if q is None or not sees_whole_shop(member):
        return ApprovalRequest.objects.none()
    return (ApprovalRequest.objects.filter(shop=shop, state=ApprovalState.PENDING).exclude(q)
            .exclude(requested_by=member).select_related(*REQUEST_RELATED).order_by("created_at", "id"))


def approvals_requested_by(*, shop: Shop, member: Agent, limit: int = 50) -> QuerySet[ApprovalRequest]:
    return (ApprovalRequest.objects.filter(shop=shop, requested_by=member)
            .select_related(*REQUEST_RELATED).order_by("-created_at", "-id")[:limit])


def approval_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> ApprovalRequest:
    """One request: its requester, the shop's supervisors and up, or the shop's integration token."""
    req = ApprovalRequest.objects.filter(shop=shop, pk=id).select_related(*REQUEST_RELATED).first()
    if req is None or (member is not None and not sees_whole_shop(member) and req.requested_by_id != member.pk):
        raise Http404("approval")
    return req


def money_actions_for(*, shop: Shop, member: Agent | None, kind: str | None = None,
                      order_id: str | None = None) -> QuerySet[MoneyAction]:
    """The money action history: everyone's for supervisors and up, one's own for an agent."""
    qs = MoneyAction.objects.filter(shop=shop).select_related("requested_by", "approved_by", "order", "customer",
                                                                "request")
    if member is not None and not sees_whole_shop(member):
        qs = qs.filter(requested_by=member)
    if kind:
        qs = qs.filter(kind=kind)
    if order_id:
        qs = qs.filter(order__order_id=order_id)
    return qs.order_by("-executed_at", "-id")


def notifications_for(*, member: Agent | None, limit: int = 50) -> list[Notification]:
    if member is None:
        return []
    return list(Notification.objects.filter(recipient=member).order_by("-created_at", "-id")[:limit])


def notifications_unread_count(*, member: Agent | None) -> int:
    if member is None:
        return 0
    return Notification.objects.filter(recipient=member, read_at__isnull=True).count()


def limits_overview(*, shop: Shop) -> dict:
    """Role limits (the shop's or the defaults) and every per-person override, as strings (None = unlimited)."""
    rows = list(AuthorityLimit.objects.filter(shop=shop).select_related("agent").order_by("agent__name", "kind"))
    roles = {}
    set_roles = {(r.role, r.kind): r.limit for r in rows if r.agent_id is None}
    for role in (*SETTABLE_ROLES, "admin"):
        roles[role] = {}
        for kind in MoneyKind.values:
            limit = set_roles.get((role, kind), DEFAULT_ROLE_LIMITS.get(role))
            roles[role][kind] = {"limit": None if limit is None else str(limit),
                                 "default": (role, kind) not in set_roles}
    people = [{"agent_id": r.agent_id, "name": r.agent.name, "kind": r.kind,
               "limit": None if r.limit is None else str(r.limit)} for r in rows if r.agent_id is not None]
    return {"roles": roles, "people": people}


def agent_get_in_shop(*, shop: Shop, id) -> Agent:
    agent = Agent.objects.filter(shop=shop, pk=id).first() if isinstance(id, int) else None
    if agent is None:
        raise Http404("agent")
    return agent
