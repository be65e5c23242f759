"""Writes of the shipping audit: settings, the daily audit (SHIP-1/2/3), resolving issues, auto-closing.

The audit (shipping_audit_run) builds the list from the orders as they stand: one ShippingIssue per
(order, kind), never twice (the unique constraint, and the run holds the shop's settings row lock so
two runs of one shop do not overlap). A person resolves an issue only with an action of its kind
(ACTIONS_BY_KIND); the system closes what no longer holds (shipped, closed, restocked). Every step is
a ShippingIssueEvent; resolutions and each run are audited.
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from kefu.catalog.models import Sku
from kefu.catalog.selectors import below_average_codes, pending_order_filter
from kefu.catalog.services import sku_delist
from kefu.core.access import user_of
from kefu.core.enums import Role
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import shop_day
from kefu.orders.enums import OrderStatus
from kefu.orders.models import Order, OrderItem

from .enums import (
    ACTIONS_BY_KIND,
    DELAY_KINDS,
    STOCK_KINDS,
    WAREHOUSE_ACTIONS,
    WAREHOUSE_KINDS,
    IssueAction,
    IssueErrorCode,
    IssueKind,
    IssueState,
)
from .models import ShippingIssue, ShippingIssueEvent, ShippingSettings

K, A, S, E = IssueKind, IssueAction, IssueState, IssueErrorCode
# (state, action) → new state: one step, from open to resolved, with a named action. No dismiss.
TRANSITIONS: dict[tuple[str, str], str] = {(S.OPEN, a): S.RESOLVED for a in A.values if a != A.CREATE}
ACTING_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
SETTINGS_ROLES = (Role.MANAGER, Role.ADMIN, Role.SUPERVISOR)
SETTINGS_FIELDS = ("promise_hours", "hard_limit_hours", "audit_hour", "lookback_days", "after_care_days",
                   "auto_delist")
SHIPPED_STATUSES = (OrderStatus.SHIPPED, OrderStatus.SIGNED, OrderStatus.COMPLETED)


# ---------------------------------------------------------------- settings

def settings_for(shop: Shop) -> ShippingSettings:
    """The shop's shipping settings, created with the defaults (24 h, 48 h) on first use."""
    obj, _ = ShippingSettings.objects.get_or_create(shop=shop)
    return obj


def settings_update(*, shop: Shop, actor: Agent | None, **changes) -> ShippingSettings:
    if actor is not None and not actor.has_role(*SETTINGS_ROLES):
        raise PermissionDenied("only supervisors and managers change the shipping settings", field="promise_hours")
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise KefuError(f"unknown setting {name!r}", field=name)
    ranges = {"promise_hours": (1, 720), "hard_limit_hours": (1, 720), "audit_hour": (0, 23),
              "lookback_days": (1, 365), "after_care_days": (1, 90)}
    for name, value in changes.items():
        if name == "auto_delist":
            if not isinstance(value, bool):
                raise KefuError("must be true or false", field=name)
            continue
        lo, hi = ranges[name]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise KefuError(f"must be a whole number from {lo} to {hi}", field=name)
    with transaction.atomic():
        settings_for(shop)
        obj = ShippingSettings.objects.select_for_update().get(shop=shop)
        before = {k: getattr(obj, k) for k in changes}
        for k, v in changes.items():
            setattr(obj, k, v)
        if obj.hard_limit_hours <= obj.promise_hours:
            raise KefuError("the hard limit must be later than the promised ship time", field="hard_limit_hours")
        obj.save()
        audit_record(shop=shop, actor=user_of(actor), action="shipping.settings", entity=obj, before=before,
                     after=changes)
    return obj


# ---------------------------------------------------------------- resolving

def may_act(member: Agent | None, kind: str, action: str | None = None) -> bool:
    """Agents, supervisors and up act on every issue; the warehouse marks delayed orders shipped/reissued."""
    if member is None or member.has_role(*ACTING_ROLES):
        return True
    if member.has_role(Role.WAREHOUSE):
        return kind in WAREHOUSE_KINDS and (action is None or action in WAREHOUSE_ACTIONS)
    return False


def issue_transition(*, issue: ShippingIssue, action: str, actor: Agent | None, note: str = "",
                     now: dt.datetime) -> ShippingIssue:
    """Resolve an issue with an action; the caller holds the row lock inside a transaction."""
    to_state = TRANSITIONS.get((issue.state, action))
    if to_state is None:
        raise KefuError(f"cannot {action} an issue that is {issue.state}", field="action", code=E.INVALID_TRANSITION)
    from_state = issue.state
    issue.state, issue.resolution, issue.resolved_by, issue.resolved_at = to_state, action, actor, now
    fields = ["state", "resolution", "resolved_by", "resolved_at"]
    if note:
        issue.note = note
        fields.append("note")
    issue.save(update_fields=fields)
    ShippingIssueEvent.objects.create(shop_id=issue.shop_id, issue=issue, action=action, from_state=from_state,
                                      to_state=to_state, actor=actor, note=note, created_at=now)
    return issue


def issue_resolve(*, shop: Shop, issue_id: int, action: str, actor: Agent | None, note: str | None = None,
                  delist: bool = False, now: dt.datetime | None = None) -> ShippingIssue:
    """A person (or integration) resolves an issue with one of its kind's actions; `delist` also takes the
    SKU at fault off sale (stock issues)."""
    now = now or timezone.now()
    note = clean_text(note, field="note", max_len=500)
    if not isinstance(action, str) or not action:
        raise KefuError("choose an action (there is no plain dismiss)", field="action", code=E.BAD_ACTION)
    with transaction.atomic():
        issue = (ShippingIssue.objects.select_for_update(of=("self",)).filter(shop=shop, pk=issue_id)
                 .select_related("order").first())
        if issue is None:
            raise NotFound("issue not found", field="issue_id")
        if not may_act(actor, issue.kind):
            raise NotFound("issue not found", field="issue_id")  # the warehouse does not see stock issues
        if issue.state != S.OPEN:
            raise KefuError("the issue is resolved already", field="action", code=E.INVALID_TRANSITION)
        allowed = ACTIONS_BY_KIND[issue.kind]
        if action not in allowed:
            raise KefuError(f"action must be one of {', '.join(allowed)} for {issue.kind}", field="action",
                            code=E.BAD_ACTION)
        if not may_act(actor, issue.kind, action):
            raise PermissionDenied(f"the warehouse resolves with {', '.join(WAREHOUSE_ACTIONS)}", field="action",
                                   code=E.NOT_ALLOWED)
        if delist:
            if issue.kind not in STOCK_KINDS or not issue.sku_code:
                raise KefuError("only stock issues delist their SKU", field="delist")
            if Sku.objects.filter(shop=shop, code=issue.sku_code, listed=True).exists():
                sku_delist(shop=shop, code=issue.sku_code, actor=actor, note=f"#{issue.pk} {note}".strip())
        before = {"state": issue.state}
        issue.shop = shop
        issue_transition(issue=issue, action=action, actor=actor, note=note, now=now)
        audit_record(shop=shop, actor=user_of(actor), action=f"shipping_issue.{action}", entity=issue, before=before,
                     after={"state": issue.state, "kind": issue.kind, "order": issue.order.order_id, "note": note,
                            "delist": issue.sku_code if delist else None, "by": actor.name if actor else "system"})
        return issue


# ---------------------------------------------------------------- the daily audit

@dataclass
class AuditResult:
    day: dt.date
    created: Counter = field(default_factory=Counter)  # kind → new issues
    closed: Counter = field(default_factory=Counter)  # system action → issues closed
    delisted: list[str] = field(default_factory=list)

    @property
    def created_total(self) -> int:
        return sum(self.created.values())


def _wanted(*, shop: Shop, s: ShippingSettings, now: dt.datetime) -> tuple[dict, set[int]]:
    """{(order pk, kind): (sku_code, detail, due_at)} the list must hold now, and the pending order pks."""
    promise, hard = dt.timedelta(hours=s.promise_hours), dt.timedelta(hours=s.hard_limit_hours)
    since = now - dt.timedelta(days=s.lookback_days)
    pending = list(Order.objects.filter(pending_order_filter(), shop=shop, paid_at__lte=now)
                   .order_by("paid_at", "id").values_list("pk", "paid_at"))
    pending_ids = {pk for pk, _ in pending}
    wanted: dict[tuple[int, str], tuple[str, dict, dt.datetime | None]] = {}
    # SHIP-1: past the promised time, or past the hard limit (escalated).
    for pk, paid_at in pending:
        if paid_at < since:
            continue
        waited = now - paid_at
        hours = round(waited.total_seconds() / 3600, 1)
        if waited > hard:
            wanted[(pk, K.OVERDUE_HARD)] = ("", {"hours": hours}, paid_at + hard)
        elif waited > promise:
            wanted[(pk, K.LATE)] = ("", {"hours": hours}, paid_at + promise)
    # SHIP-2: stock handed out to pending orders in payment order; a line with no stock on hand is
    # out of stock, a line beyond what is left is oversold.
    items = defaultdict(list)
    for order_id, code, qty in (OrderItem.objects.filter(pending_order_filter("order__"), order__shop=shop,
                                                         order__paid_at__lte=now)
                                .values_list("order_id", "sku_code", "quantity").order_by("order_id", "id")):
        items[order_id].append((code, qty))
    codes = {code for lines in items.values() for code, _ in lines}
    stock = dict(Sku.objects.filter(shop=shop, code__in=codes, stock__isnull=False).values_list("code", "stock"))
    demand = Counter()
    for lines in items.values():
        for code, qty in lines:
            demand[code] += qty
    left = dict(stock)
    for pk, _paid_at in pending:
        for code, qty in items.get(pk, ()):
            if code not in stock:
                continue
            detail = {"sku": code, "stock": stock[code], "pending": demand[code], "quantity": qty}
            if stock[code] <= 0:
                wanted.setdefault((pk, K.OUT_OF_STOCK), (code, detail, None))
                continue
            left[code] -= qty
            if left[code] < 0:
                wanted.setdefault((pk, K.OVERSOLD), (code, {**detail, "short": -left[code]}, None))
    # SHIP-3: shipped orders holding an item rated below its category average.
    below = below_average_codes(shop=shop)
    if below:
        for pk, code in (OrderItem.objects.filter(
                order__shop=shop, order__shipped_at__gte=now - dt.timedelta(days=s.after_care_days),
                order__shipped_at__lte=now, order__closed_at__isnull=True, order__refunded_at__isnull=True,
                order__status__in=SHIPPED_STATUSES, sku_code__in=below)
                .values_list("order_id", "sku_code").order_by("order_id", "id")):
            rating, avg = below[code]
            wanted.setdefault((pk, K.AFTER_CARE), (code, {"sku": code, "rating": str(rating),
                                                          "category_average": str(avg)}, None))
    return wanted, pending_ids


def _system_close(issues: list[ShippingIssue], action: str, now: dt.datetime) -> None:
    for issue in issues:
        issue.state, issue.resolution, issue.resolved_at, issue.resolved_by = S.RESOLVED, action, now, None
    ShippingIssue.objects.bulk_update(issues, ["state", "resolution", "resolved_at", "resolved_by"])
    ShippingIssueEvent.objects.bulk_create([
        ShippingIssueEvent(shop_id=i.shop_id, issue=i, action=action, from_state=S.OPEN, to_state=S.RESOLVED,
                           created_at=now) for i in issues])


def shipping_audit_run(*, shop: Shop, now: dt.datetime | None = None, actor: Agent | None = None) -> AuditResult:
    """Build the shipping-audit list as of `now`: add what is new, close what no longer holds.

    Running it again changes nothing (one issue per order and kind, ever)."""
    now = now or timezone.now()
    result = AuditResult(day=shop_day(now, shop.tz))
    with transaction.atomic():
        settings_for(shop)
        s = ShippingSettings.objects.select_for_update().get(shop=shop)  # one run per shop at a time
        wanted, pending_ids = _wanted(shop=shop, s=s, now=now)
        order_ids = {pk for pk, _ in wanted}
        existing = {(i.order_id, i.kind): i for i in ShippingIssue.objects.filter(shop=shop, order_id__in=order_ids)}
        open_issues = list(ShippingIssue.objects.filter(shop=shop, state=S.OPEN, kind__in=(*DELAY_KINDS, *STOCK_KINDS))
                           .select_related("order"))
        # Close what no longer holds: the order left the warehouse queue, or its stock came back.
        by_action = defaultdict(list)
        for issue in open_issues:
            if issue.order_id not in pending_ids:
                by_action[A.AUTO_SHIPPED if issue.order.shipped_at else A.AUTO_CLOSED].append(issue)
            elif issue.kind in STOCK_KINDS and (issue.order_id, issue.kind) not in wanted:
                by_action[A.AUTO_RESTOCKED].append(issue)
            elif issue.kind == K.LATE and (issue.order_id, K.OVERDUE_HARD) in wanted:
                by_action[A.ESCALATED].append(issue)
        for action, issues in by_action.items():
            _system_close(issues, action, now)
            result.closed[action] += len(issues)
        new = [ShippingIssue(shop=shop, order_id=pk, kind=kind, sku_code=code, detail=detail, due_at=due_at,
                             detected_day=result.day, detected_at=now)
               for (pk, kind), (code, detail, due_at) in sorted(wanted.items()) if (pk, kind) not in existing]
        ShippingIssue.objects.bulk_create(new)
        ShippingIssueEvent.objects.bulk_create([
            ShippingIssueEvent(shop=shop, issue=i, action=A.CREATE, to_state=S.OPEN, actor=actor, created_at=now)
            for i in new])
        for i in new:
            result.created[i.kind] += 1
        if s.auto_delist:
            result.delisted = _auto_delist(shop=shop, now=now)
        audit_record(shop=shop, actor=user_of(actor), action="shipping.audit", entity=s,
                     after={"day": result.day.isoformat(), "created": dict(result.created),
                            "closed": dict(result.closed), "delisted": result.delisted,
                            "by": actor.name if actor else "system"})
    return result


def _auto_delist(*, shop: Shop, now: dt.datetime) -> list[str]:
    from kefu.catalog.selectors import pending_quantities

    pending = pending_quantities(shop=shop)
    gone = [code for code, stock in Sku.objects.filter(shop=shop, listed=True, stock__isnull=False)
            .values_list("code", "stock") if stock - pending.get(code, 0) <= 0]
    for code in gone:
        sku_delist(shop=shop, code=code, actor=None, note="库存为零自动下架")
    return gone


def issues_close_for_orders(*, shop: Shop, order_ids=None, now: dt.datetime | None = None) -> int:
    """Close open delay and stock issues whose order has shipped (or was closed/refunded) since it was listed.

    Cheap enough to run every few minutes; `order_ids` (platform order ids) narrows it to just-changed orders."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = (ShippingIssue.objects.select_for_update(of=("self",)).filter(shop=shop, state=S.OPEN,
                                                                kind__in=(*DELAY_KINDS, *STOCK_KINDS))
              .exclude(pending_order_filter("order__")).select_related("order"))
        if order_ids is not None:
            qs = qs.filter(order__order_id__in=list(order_ids))
        shipped, closed = [], []
        for issue in qs:
            (shipped if issue.order.shipped_at else closed).append(issue)
        if shipped:
            _system_close(shipped, A.AUTO_SHIPPED, now)
        if closed:
            _system_close(closed, A.AUTO_CLOSED, now)
    return len(shipped) + len(closed)


def issues_to_autoclose(*, shop: Shop) -> bool:
    return (ShippingIssue.objects.filter(shop=shop, state=S.OPEN, kind__in=(*DELAY_KINDS, *STOCK_KINDS))
            .exclude(pending_order_filter("order__")).exists())
