"""Reads of the shipping audit, always through the shop and the person asking."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.http import Http404

from kefu.core.access import mask_phone, sees_contacts
from kefu.core.enums import Role
from kefu.core.models import Agent, Shop

from .enums import KIND_ORDER, WAREHOUSE_KINDS, IssueKind, IssueState
from .models import ShippingIssue
from .services import ACTING_ROLES

RELATED = ("order", "order__customer", "resolved_by")


def visible_kinds(member: Agent | None) -> tuple[str, ...]:
    """Agents, supervisors, managers and integrations see every kind; the warehouse the delayed orders."""
    if member is None or member.has_role(*ACTING_ROLES):
        return KIND_ORDER
    if member.has_role(Role.WAREHOUSE):
        return tuple(k for k in KIND_ORDER if k in WAREHOUSE_KINDS)
    return ()


def issue_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> ShippingIssue:
    issue = ShippingIssue.objects.filter(shop=shop, pk=id, kind__in=visible_kinds(member)).select_related(*RELATED).first()
    if issue is None:
        raise Http404("issue")
    return issue


def issues_for(*, shop: Shop, member: Agent | None, day: dt.date | None = None, kind: str | None = None,
               state: str | None = None) -> QuerySet[ShippingIssue]:
    """The issues this person may see; `day` is the shop day of the audit that listed them."""
    kinds = visible_kinds(member)
    qs = ShippingIssue.objects.filter(shop=shop, kind__in=kinds).select_related(*RELATED)
    if day is not None:
        qs = qs.filter(detected_day=day)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("detected_at", "id")


@dataclass
class KindGroup:
    kind: str
    label: str
    issues: list
    open_count: int

    @property
    def count(self) -> int:
        return len(self.issues)


def grouped(*, issues: list[ShippingIssue], member: Agent | None) -> list[KindGroup]:
    """The list grouped by kind in a fixed order (hard limit first), with the buyer's phone masked
    for roles that do not need it."""
    show_phone = sees_contacts(member) or member is None
    groups = {k: [] for k in visible_kinds(member)}
    for issue in issues:
        phone = issue.order.customer.phone
        issue.buyer_phone = phone if show_phone else mask_phone(phone)
        groups.setdefault(issue.kind, []).append(issue)
    return [KindGroup(kind=k, label=IssueKind(k).label, issues=v,
                      open_count=sum(1 for i in v if i.state == IssueState.OPEN)) for k, v in groups.items()]


def open_counts(*, shop: Shop, member: Agent | None) -> dict[str, int]:
    rows = (ShippingIssue.objects.filter(shop=shop, state=IssueState.OPEN, kind__in=visible_kinds(member))
            .values("kind").annotate(n=Count("id")).order_by())
    return {r["kind"]: r["n"] for r in rows}


def issue_days(*, shop: Shop, limit: int = 30) -> list[dt.date]:
    """The most recent audit days, newest first (for the day filter)."""
    return list(ShippingIssue.objects.filter(shop=shop).values_list("detected_day", flat=True)
                .distinct().order_by("-detected_day")[:limit])
