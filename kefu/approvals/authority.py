"""The authority check (PRE-4, Q-5): may this person execute this money action themselves?

One function, `authority_check`, used by the approvals service and by any module that moves money
(after-sales refunds and compensation, AFT-2/AFT-6). Limits: a per-person override if the shop set
one for this kind, else the largest limit among the person's roles (the shop's setting or the
default of enums.DEFAULT_ROLE_LIMITS). None means unlimited.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q

from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop

from .enums import APPROVER_ROLES, DEFAULT_ROLE_LIMITS, MoneyKind
from .models import AuthorityLimit

Limit = Decimal | None  # None = unlimited


@dataclass(frozen=True)
class Decision:
    allowed: bool
    kind: str
    amount: Decimal
    limit: Limit  # this person's limit for the kind (None = unlimited)
    source: str  # "person" (an override), "role" (the shop's role setting) or "default"
    # When not allowed: the approver roles whose limit covers the amount (a person override may add more).
    approver_roles: tuple[str, ...] = ()

    @property
    def needs_approval(self) -> bool:
        return not self.allowed


def covers(limit: Limit, amount: Decimal) -> bool:
    return limit is None or amount <= limit


def _bigger(a: Limit, b: Limit) -> Limit:
    return None if a is None or b is None else max(a, b)


class AuthorityTable:
    """A shop's limits, loaded once (one query) and asked many times (a queue page, notifications)."""

    def __init__(self, *, shop: Shop, agents: list[Agent] | None = None):
        qs = AuthorityLimit.objects.filter(shop=shop)
        if agents is not None:
            qs = qs.filter(Q(agent__isnull=True) | Q(agent__in=[a.pk for a in agents]))
        self.roles: dict[tuple[str, str], Limit] = {}
        self.people: dict[tuple[int, str], Limit] = {}
        for row in qs:
            if row.agent_id is None:
                self.roles[(row.role, row.kind)] = row.limit
            else:
                self.people[(row.agent_id, row.kind)] = row.limit

    def role_limit(self, role: str, kind: str) -> tuple[Limit, str]:
        if (role, kind) in self.roles:
            return self.roles[(role, kind)], "role"
        return DEFAULT_ROLE_LIMITS.get(role, Decimal("0.00")), "default"

    def limit_for(self, agent: Agent, kind: str) -> tuple[Limit, str]:
        if (agent.pk, kind) in self.people:
            return self.people[(agent.pk, kind)], "person"
        best: Limit = Decimal("0.00")
        source = "default"
        for role in sorted(agent.role_set):
            limit, src = self.role_limit(role, kind)
            if limit is None or best is None or limit > best:
                source = src
            best = _bigger(best, limit)
        return best, source

    def approver_roles(self, kind: str, amount: Decimal) -> tuple[str, ...]:
        return tuple(r.value for r in APPROVER_ROLES if covers(self.role_limit(r, kind)[0], amount))

    def check(self, *, agent: Agent, kind: str, amount) -> Decision:
        kind, amount = clean_kind(kind), clean_amount(amount)
        limit, source = self.limit_for(agent, kind)
        allowed = agent.active and covers(limit, amount)
        return Decision(allowed=allowed, kind=kind, amount=amount, limit=limit, source=source,
                        approver_roles=() if allowed else self.approver_roles(kind, amount))


def authority_check(*, shop: Shop, agent: Agent, kind: str, amount) -> Decision:
    """Whether `agent` may execute a money action of `kind` and `amount` (yuan) without approval.

    Refuses (KefuError naming the field) an unknown kind or an amount that is not a positive
    number with at most two decimals. An agent of another shop is never allowed.
    """
    if agent.shop_id != shop.pk:
        raise KefuError("this person does not work in this shop", field="agent", code="not_found")
    return AuthorityTable(shop=shop, agents=[agent]).check(agent=agent, kind=kind, amount=amount)


def clean_kind(kind) -> str:
    if kind not in MoneyKind.values:
        raise KefuError(f"unknown kind {kind!r} (known: {', '.join(MoneyKind.values)})", field="kind")
    return kind


MAX_AMOUNT = Decimal("9999999999.99")


def clean_amount(amount, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str | float):
        raise KefuError("must be a number of yuan", field=field)
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation as exc:
        raise KefuError(f"not a number: {amount!r}", field=field) from exc
    if not value.is_finite():
        raise KefuError("must be a finite number", field=field)
    if value != value.quantize(Decimal("0.01")):
        raise KefuError("at most two decimals (fen)", field=field)
    if value < 0 or (value == 0 and not allow_zero):
        raise KefuError("must be greater than 0" if not allow_zero else "must not be negative", field=field)
    if value > MAX_AMOUNT:
        raise KefuError("too large", field=field)
    return value.quantize(Decimal("0.01"))
