"""Writes of the production-alert domain (AFT-8): the shop's rule, batch numbers, the scan that raises
alerts, and the managers' actions on them.

The scan is idempotent: each (case, SKU) joins at most one alert ever (AlertCase unique), at most one
alert per (SKU, batch, reason) is open (partial unique constraint), and the managers are notified only
when an alert is raised. Scans of one shop are serialised by locking the shop's AlertRule row.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.aftersales.enums import CaseReason
from kefu.aftersales.models import Case, CaseItem
from kefu.approvals.services import notify
from kefu.core.access import user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import day_bounds, shop_day

from .enums import (
    MANAGE_ROLES,
    NOTIFY_ROLES,
    THRESHOLD_RANGE,
    WINDOW_RANGE,
    AlertAction,
    AlertState,
    DefectErrorCode,
)
from .models import AlertCase, AlertEvent, AlertRule, ItemBatch, ProductionAlert

S, A = AlertState, AlertAction
NOTE_MAX = 500
BATCH_MAX = 60

# state → the states a manager may move an alert to.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.OPEN: frozenset({S.ACKNOWLEDGED, S.CLOSED}),
    S.ACKNOWLEDGED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}
ACTION_TARGET = {A.ACKNOWLEDGE: S.ACKNOWLEDGED, A.CLOSE: S.CLOSED}


def require_manager(shop: Shop, actor: Agent | None, field: str = "actor") -> Agent | None:
    """A manager (or admin) of the shop; None is the shop's integration token, which may act too."""
    if actor is None:
        return None
    if actor.shop_id != shop.pk or not actor.active:
        raise PermissionDenied("this person does not work in this shop", field=field)
    if not actor.has_role(*MANAGE_ROLES):
        raise PermissionDenied("only a manager may do this", field=field, code=DefectErrorCode.MANAGER_ONLY)
    return actor


def _whole(value, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise KefuError(f"a whole number from {lo} to {hi}", field=field)
    return value


# ---------------------------------------------------------------- the rule

def rule_for(shop: Shop) -> AlertRule:
    rule = AlertRule.objects.filter(shop=shop).first()
    if rule is None:
        rule, _created = AlertRule.objects.get_or_create(shop=shop)
    return rule


def rule_update(*, shop: Shop, editor: Agent | None, reasons=None, threshold=None, window_days=None) -> AlertRule:
    """Change the shop's rule; fields left None keep their value. Managers (and the integration) only."""
    editor = require_manager(shop, editor, field="editor")
    clean = {}
    if reasons is not None:
        if not isinstance(reasons, list | tuple) or not reasons:
            raise KefuError("a non-empty list of reason codes", field="reasons")
        for i, r in enumerate(reasons):
            if r not in CaseReason.values:
                raise KefuError(f"must be one of {', '.join(CaseReason.values)}", field=f"reasons.{i}")
        clean["reasons"] = list(dict.fromkeys(reasons))
    if threshold is not None:
        clean["threshold"] = _whole(threshold, "threshold", *THRESHOLD_RANGE)
    if window_days is not None:
        clean["window_days"] = _whole(window_days, "window_days", *WINDOW_RANGE)
    rule_for(shop)
    with transaction.atomic():
        rule = AlertRule.objects.select_for_update().get(shop=shop)
        before = {"reasons": rule.reasons, "threshold": rule.threshold, "window_days": rule.window_days}
        for k, v in clean.items():
            setattr(rule, k, v)
        rule.updated_by = editor
        rule.scanned_case_id = 0  # a new rule may count older cases: let the scheduler look again
        rule.save()
        audit_record(shop=shop, actor=user_of(editor), action="defects.rule", entity=rule, before=before,
                     after={"reasons": rule.reasons, "threshold": rule.threshold, "window_days": rule.window_days})
    return rule


# ---------------------------------------------------------------- batches

def batch_set(*, shop: Shop, actor: Agent | None, case_id: int, sku: str, batch: str) -> ItemBatch:
    """Record the production batch of a SKU on a case (blank removes it). Future scans group by it."""
    if actor is not None and (actor.shop_id != shop.pk or not actor.active):
        raise PermissionDenied("this person does not work in this shop", field="actor")
    batch = clean_text(batch, field="batch", max_len=BATCH_MAX)
    ok = isinstance(case_id, int) and not isinstance(case_id, bool)
    case = Case.objects.filter(shop=shop, pk=case_id).first() if ok else None
    if case is None:
        raise NotFound("case not found", field="case_id")
    sku = clean_text(sku, field="sku", max_len=80, required=True)
    if not CaseItem.objects.filter(case=case, sku=sku).exists():
        raise KefuError(f"{sku} is not an item of case #{case.pk}", field="sku")
    with transaction.atomic():
        row, _created = ItemBatch.objects.update_or_create(shop=shop, case=case, sku=sku,
                                                           defaults={"batch": batch, "set_by": actor})
        audit_record(shop=shop, actor=user_of(actor), action="defects.batch", entity=row,
                     after={"case": case.pk, "sku": sku, "batch": batch})
    return row


# ---------------------------------------------------------------- the scan

@dataclass
class Report:
    """One (case, SKU) reported with a counted reason."""

    case_id: int
    sku: str
    batch: str
    reason: str
    created_at: dt.datetime
    reporter: str  # the buyer, or the case itself when it has no order


@dataclass
class ScanResult:
    raised: list[ProductionAlert] = field(default_factory=list)
    bumped: list[ProductionAlert] = field(default_factory=list)
    attached: int = 0


def reporter_of(case_id: int, customer_id: int | None) -> str:
    return f"b{customer_id}" if customer_id else f"c{case_id}"


def lookback_start(shop: Shop, rule: AlertRule, now: dt.datetime) -> dt.datetime:
    """The scheduler looks back two windows (shop days), so a late scan still sees the whole burst."""
    return day_bounds(shop_day(now, shop.tz) - dt.timedelta(days=2 * rule.window_days), shop.tz)[0]


def _unattached_reports(shop: Shop, rule: AlertRule, since: dt.datetime, now: dt.datetime) -> list[Report]:
    base = Q(case__shop=shop, case__reason__in=rule.reasons, case__created_at__gte=since, case__created_at__lte=now)
    rows = (CaseItem.objects.filter(base)
            .values_list("case_id", "sku", "case__reason", "case__created_at", "case__order__customer_id")
            .order_by("case__created_at", "case_id", "id"))
    taken = set(AlertCase.objects.filter(shop=shop, case__created_at__gte=since).values_list("case_id", "sku"))
    batches = {(c, s): b for c, s, b in ItemBatch.objects.filter(shop=shop, case__created_at__gte=since,
                                                                    case__created_at__lte=now)
               .values_list("case_id", "sku", "batch")}
    out, seen = [], set()
    for case_id, sku, reason, created_at, customer_id in rows:
        if (case_id, sku) in taken or (case_id, sku) in seen:
            continue
        seen.add((case_id, sku))
        out.append(Report(case_id, sku, batches.get((case_id, sku), ""), reason, created_at,
                          reporter_of(case_id, customer_id)))
    return out


def burst_start(reports: list[Report], *, threshold: int, window_days: int, tz) -> int | None:
    """Index of the first report that starts a burst: `threshold` distinct reporters whose reports fall
    within `window_days` shop days of it (its day counted as day 1). Reports are sorted by time."""
    days = [shop_day(r.created_at, tz) for r in reports]
    for i in range(len(reports)):
        reporters = set()
        for j in range(i, len(reports)):
            if (days[j] - days[i]).days >= window_days:
                break
            reporters.add(reports[j].reporter)
            if len(reporters) >= threshold:
                return i
    return None


def _refresh_counts(alert: ProductionAlert) -> None:
    rows = list(AlertCase.objects.filter(alert=alert)
                .values_list("case_id", "case__order__customer_id", "case__created_at"))
    alert.case_count = len({r[0] for r in rows})
    alert.buyer_count = len({reporter_of(c, b) for c, b, _t in rows})
    alert.first_case_at = min(r[2] for r in rows)
    alert.last_case_at = max(r[2] for r in rows)


def _notify_managers(shop: Shop, alert: ProductionAlert) -> int:
    people = [a for a in Agent.objects.filter(shop=shop, active=True) if a.has_role(*NOTIFY_ROLES)]
    if not people:  # a shop without a manager: its admins hear of it
        people = [a for a in Agent.objects.filter(shop=shop, active=True) if a.has_role(*MANAGE_ROLES)]
    batch = _("（批次 %(b)s）") % {"b": alert.batch} if alert.batch else ""
    text = _("生产问题预警：%(sku)s%(batch)s %(n)d 位买家在 %(days)d 天内反馈「%(reason)s」") % {
        "sku": alert.sku, "batch": batch, "n": alert.buyer_count, "days": alert.window_days,
        "reason": CaseReason(alert.reason).label}
    return notify(shop=shop, recipients=people, text=text, link=reverse("defects:detail", args=[alert.pk]))


def alerts_scan(*, shop: Shop, now: dt.datetime | None = None, since: dt.datetime | None = None) -> ScanResult:
    """Raise an alert for each new burst, attach later reports to open alerts. Safe to run any time,
    any number of times. `since` widens the look-back (default: two windows before today)."""
    now = now or timezone.now()
    rule_for(shop)
    result = ScanResult()
    with transaction.atomic():
        rule = AlertRule.objects.select_for_update().get(shop=shop)
        start = since or lookback_start(shop, rule, now)
        mark = (Case.objects.filter(shop=shop, created_at__lte=now).order_by("-id")
                .values_list("id", flat=True).first() or 0)
        if mark != rule.scanned_case_id:
            AlertRule.objects.filter(pk=rule.pk).update(scanned_case_id=mark)
        groups: dict[tuple[str, str, str], list[Report]] = {}
        for r in _unattached_reports(shop, rule, start, now):
            groups.setdefault((r.sku, r.batch, r.reason), []).append(r)
        if not groups:
            return result
        open_alerts = {(a.sku, a.batch, a.reason): a
                       for a in ProductionAlert.objects.select_for_update().filter(shop=shop, state=S.OPEN)}
        for key, reports in groups.items():
            alert = open_alerts.get(key)
            if alert is None:
                i = burst_start(reports, threshold=rule.threshold, window_days=rule.window_days, tz=shop.tz)
                if i is None:
                    continue
                reports = reports[i:]
                alert = ProductionAlert.objects.create(
                    shop=shop, sku=key[0], batch=key[1], reason=key[2], threshold=rule.threshold,
                    window_days=rule.window_days, first_case_at=reports[0].created_at,
                    last_case_at=reports[-1].created_at)
                raised = True
            else:
                raised = False
            AlertCase.objects.bulk_create([AlertCase(shop=shop, alert=alert, case_id=r.case_id, sku=r.sku)
                                           for r in reports])
            _refresh_counts(alert)
            result.attached += len(reports)
            if raised:
                alert.notified = _notify_managers(shop, alert)
                alert.save()
                AlertEvent.objects.create(shop=shop, alert=alert, action=A.RAISE, from_state="", to_state=S.OPEN,
                                          case_count=len(reports))
                audit_record(shop=shop, actor=None, action="defects.alert.raise", entity=alert,
                             after={"sku": alert.sku, "batch": alert.batch, "reason": alert.reason,
                                    "cases": [r.case_id for r in reports], "notified": alert.notified})
                result.raised.append(alert)
            else:
                alert.save(update_fields=["case_count", "buyer_count", "first_case_at", "last_case_at"])
                AlertEvent.objects.create(shop=shop, alert=alert, action=A.ATTACH, from_state=S.OPEN,
                                          to_state=S.OPEN, case_count=len(reports))
                result.bumped.append(alert)
    return result


def reports_pending(*, shop: Shop, now: dt.datetime) -> bool:
    """Whether a scan could change anything: a case with a counted reason opened since the last scan
    (case ids only grow, so a case imported with an old date is seen too)."""
    rule = rule_for(shop)
    return Case.objects.filter(shop=shop, reason__in=rule.reasons, pk__gt=rule.scanned_case_id,
                               created_at__lte=now).exists()


# ---------------------------------------------------------------- the managers' actions

def alert_act(*, shop: Shop, alert_id: int, action: str, actor: Agent | None, note: str = "") -> ProductionAlert:
    """acknowledge (with a note of what was done, e.g. 已通知工厂) or close an alert."""
    actor = require_manager(shop, actor)
    if action not in ACTION_TARGET:
        raise KefuError("action must be acknowledge or close", field="action")
    note = clean_text(note, field="note", max_len=NOTE_MAX, required=action == A.ACKNOWLEDGE,
                      required_message="say what was done (e.g. told the factory)")
    to = ACTION_TARGET[action]
    with transaction.atomic():
        alert = ProductionAlert.objects.select_for_update().filter(shop=shop, pk=alert_id).first()
        if alert is None:
            raise NotFound("alert not found", field="alert_id")
        frm = alert.state
        if to not in TRANSITIONS[frm]:
            raise KefuError(f"cannot {action} an alert that is {frm}", field="action",
                            code=DefectErrorCode.INVALID_TRANSITION)
        now = timezone.now()
        alert.state = to
        if note:
            alert.note = note
        if to == S.ACKNOWLEDGED:
            alert.acknowledged_at, alert.acknowledged_by = now, actor
        else:
            alert.closed_at, alert.closed_by = now, actor
        alert.save()
        AlertEvent.objects.create(shop=shop, alert=alert, action=action, from_state=frm, to_state=to, actor=actor,
                                  case_count=alert.case_count, note=note)
        audit_record(shop=shop, actor=user_of(actor), action=f"defects.alert.{action}", entity=alert,
                     before={"state": frm}, after={"state": to, "note": note})
    return alert
