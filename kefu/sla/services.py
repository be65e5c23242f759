"""SLA writes: policies (managers), default policies (seed 000), the clock rebuild, the periodic scan
with its warnings and escalations (AFT-4, AUTO-1).

Clocks are a deterministic function of the facts (messages, conversations, cases and their steps)
and the shop's policies, so late or out-of-order messages simply re-time them on the next rebuild.
The scan runs under a per-shop row lock; alerts are unique per (clock key, kind), so a warning
or an escalation is sent exactly once however often the scan runs.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.aftersales.enums import CaseReason, CaseType
from kefu.aftersales.models import Case, CaseEvent
from kefu.approvals.services import notify
from kefu.conversations.models import Conversation, Message
from kefu.core.access import user_of
from kefu.core.db import bulk_update_rows
from kefu.core.enums import Group, Role
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.selectors import supervisors_of
from kefu.core.services import audit_record
from kefu.core.timeutil import ServiceHours
from kefu.integrations import hooks
from kefu.orders.models import Order

from . import clock as C
from . import rollup
from .enums import (
    CONVERSATION_TARGETS,
    AlertKind,
    ClockState,
    ConversationKind,
    SlaErrorCode,
    Target,
)
from .models import SlaAlert, SlaClock, SlaPolicy, SlaScanState

E = SlaErrorCode
EDITOR_ROLES = (Role.MANAGER, Role.ADMIN)
MAX_MINUTES = 60 * 24 * 60  # 60 days
# A breach older than this when first seen (history imported late) is recorded but not escalated.
ALERT_GRACE = dt.timedelta(hours=1)
LOGISTICS_REASONS = [CaseReason.LOST_PARCEL, CaseReason.DAMAGED_PARCEL, CaseReason.UNDELIVERABLE]

# Seed 000 (售后): reply to after-sales and logistics complaints within 5 minutes; logistics
# problems resolved within 48 hours.
DEFAULT_POLICIES = [
    dict(name="售后/物流投诉首次响应", priority=10, conversation_kinds=[ConversationKind.AFTERSALES],
         first_reply_minutes=5, business_hours=True, warn_before_minutes=2),
    dict(name="物流问题48小时解决", priority=20, case_reasons=list(LOGISTICS_REASONS),
         resolution_minutes=48 * 60, business_hours=False, warn_before_minutes=4 * 60),
]

CHOICES = {
    "conversation_kinds": {c for c, _l in ConversationKind.choices},
    "case_types": {c for c, _l in CaseType.choices},
    "case_reasons": {c for c, _l in CaseReason.choices},
    "groups": {c for c, _l in Group.choices},
}
LIST_FIELDS = ("channels", "conversation_kinds", "case_types", "case_reasons", "grades", "groups")
MINUTE_FIELDS = ("first_reply_minutes", "next_reply_minutes", "resolution_minutes")
POLICY_FIELDS = ("name", "priority", "active", *LIST_FIELDS, *MINUTE_FIELDS, "business_hours", "warn_before_minutes")


# ---------------------------------------------------------------- buyer grade

def buyer_grades(*, shop: Shop, customer_ids) -> dict[int, str]:
    """customer id → grade (customer care's grades, PRE-9), for policies matching on grade."""
    from kefu.crm.selectors import grades_of

    return grades_of(shop=shop, customer_ids=customer_ids)


# ---------------------------------------------------------------- policies

def _int(value, *, field: str, lo: int, hi: int, required: bool) -> int | None:
    if value is None or value == "":
        if required:
            raise KefuError("required", field=field)
        return None
    if isinstance(value, bool):
        raise KefuError("must be a whole number", field=field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise KefuError(f"not a whole number: {value!r}", field=field) from None
    if isinstance(value, float) and value != number:
        raise KefuError(f"not a whole number: {value!r}", field=field)
    if not lo <= number <= hi:
        raise KefuError(f"must be between {lo} and {hi}", field=field)
    return number


def _list(value, *, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in value.replace("，", ",").split(",")]
    if not isinstance(value, list | tuple):
        raise KefuError("must be a list", field=field)
    out = []
    for i, v in enumerate(value):
        if not isinstance(v, str):
            raise KefuError("must be text", field=f"{field}[{i}]")
        v = v.strip()
        if not v:
            continue
        if len(v) > 40:
            raise KefuError("at most 40 characters", field=f"{field}[{i}]")
        allowed = CHOICES.get(field)
        if allowed is not None and v not in allowed:
            raise KefuError(f"unknown value {v!r} (allowed: {', '.join(sorted(a for a in allowed if a))})",
                            field=f"{field}[{i}]")
        if v not in out:
            out.append(v)
    if len(out) > 50:
        raise KefuError("at most 50 values", field=field)
    return out


def _clean(data: dict, *, partial: bool) -> dict:
    unknown = set(data) - set(POLICY_FIELDS)
    if unknown:
        raise KefuError(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    out: dict = {}
    if "name" in data or not partial:
        out["name"] = clean_text(data.get("name"), field="name", max_len=80, required=True)
    if "priority" in data or not partial:
        out["priority"] = _int(data.get("priority", 100), field="priority", lo=0, hi=100000, required=True)
    for f in ("active", "business_hours"):
        if f in data:
            if not isinstance(data[f], bool):
                raise KefuError("must be true or false", field=f)
            out[f] = data[f]
    for f in LIST_FIELDS:
        if f in data:
            out[f] = _list(data[f], field=f)
    for f in MINUTE_FIELDS:
        if f in data:
            out[f] = _int(data[f], field=f, lo=1, hi=MAX_MINUTES, required=False)
    if "warn_before_minutes" in data:
        out["warn_before_minutes"] = _int(data["warn_before_minutes"], field="warn_before_minutes", lo=0,
                                          hi=MAX_MINUTES, required=False) or 0
    return out


def _editor(shop: Shop, editor: Agent | None) -> None:
    # editor None = the shop's integration token
    if editor is not None and (editor.shop_id != shop.pk or not editor.has_role(*EDITOR_ROLES)):
        raise PermissionDenied("managers and admins edit SLA policies", field="editor")


def _check_targets(p: SlaPolicy) -> None:
    if not any(p.minutes(t) for t in Target.values):
        raise KefuError("set at least one target (first reply, next reply or resolution)",
                        field="first_reply_minutes", code=E.NO_TARGET)
    smallest = min(p.minutes(t) for t in Target.values if p.minutes(t))
    if p.warn_before_minutes >= smallest:
        raise KefuError("the warning must come before the shortest target", field="warn_before_minutes")


def _policy_dict(p: SlaPolicy) -> dict:
    return {f: getattr(p, f) for f in POLICY_FIELDS}


def _mark_full_rebuild(shop: Shop) -> None:
    SlaScanState.objects.update_or_create(shop=shop, defaults={"full_rebuild": True})


def policy_create(*, shop: Shop, editor: Agent | None, data: dict) -> SlaPolicy:
    _editor(shop, editor)
    values = _clean(data, partial=False)
    with transaction.atomic():
        if SlaPolicy.objects.filter(shop=shop, name=values["name"]).exists():
            raise KefuError("a policy of this name exists", field="name", code=E.DUPLICATE_NAME)
        p = SlaPolicy(shop=shop, **values)
        _check_targets(p)
        p.save()
        audit_record(shop=shop, actor=user_of(editor), action="sla.policy_create", entity=p, after=_policy_dict(p))
        _mark_full_rebuild(shop)
    return p


def policy_update(*, shop: Shop, editor: Agent | None, policy_id: int, data: dict) -> SlaPolicy:
    _editor(shop, editor)
    values = _clean(data, partial=True)
    with transaction.atomic():
        p = SlaPolicy.objects.select_for_update().filter(shop=shop, pk=policy_id).first()
        if p is None:
            raise Http404("policy")
        before = _policy_dict(p)
        if "name" in values and SlaPolicy.objects.filter(shop=shop, name=values["name"]).exclude(pk=p.pk).exists():
            raise KefuError("a policy of this name exists", field="name", code=E.DUPLICATE_NAME)
        for k, v in values.items():
            setattr(p, k, v)
        _check_targets(p)
        if values:
            p.save(update_fields=[*values, "updated_at"])
            audit_record(shop=shop, actor=user_of(editor), action="sla.policy_update", entity=p, before=before,
                         after=_policy_dict(p))
            _mark_full_rebuild(shop)
    return p


def policies_install_defaults(*, shop: Shop) -> list[SlaPolicy]:
    """Install seed 000's policies once (by name); existing policies of those names are left as they are."""
    out = []
    with transaction.atomic():
        for spec in DEFAULT_POLICIES:
            values = {k: v for k, v in spec.items() if k != "name"}
            p, created = SlaPolicy.objects.get_or_create(shop=shop, name=spec["name"], defaults=values)
            if created:
                audit_record(shop=shop, action="sla.policy_default", entity=p, after=_policy_dict(p))
                out.append(p)
        SlaScanState.objects.update_or_create(
            shop=shop, defaults={"defaults_installed": True, **({"full_rebuild": True} if out else {})})
    return out


# ---------------------------------------------------------------- matching

@dataclass
class Facts:
    channel: str = ""
    kind: str = ConversationKind.AFTERSALES
    case_types: set = field(default_factory=set)
    case_reasons: set = field(default_factory=set)
    grade: str = ""
    group: str = ""


def matches(p: SlaPolicy, f: Facts) -> bool:
    return ((not p.channels or f.channel in p.channels)
            and (not p.conversation_kinds or f.kind in p.conversation_kinds)
            and (not p.case_types or bool(f.case_types & set(p.case_types)))
            and (not p.case_reasons or bool(f.case_reasons & set(p.case_reasons)))
            and (not p.grades or f.grade in p.grades)
            and (not p.groups or f.group in p.groups))


def policy_for(policies: list[SlaPolicy], facts: Facts, targets) -> SlaPolicy | None:
    """The first active policy (by priority, then id) with a target for this subject that matches it."""
    for p in policies:
        if p.active and any(p.minutes(t) for t in targets) and matches(p, facts):
            return p
    return None


# ---------------------------------------------------------------- rebuild

CLOCK_FIELDS = ("policy_id", "agent_id", "customer_id", "started_at", "warn_at", "due_at", "stopped_at", "state",
                "breached_at", "settled_at")


@dataclass
class _CaseFacts:
    id: int
    customer_id: int | None
    type: str
    reason: str
    owner_id: int | None
    created_at: dt.datetime
    stop: dt.datetime | None


def _cases(shop: Shop, *, case_ids=None, customer_ids=None) -> list[_CaseFacts]:
    qs = Case.objects.filter(shop=shop)
    if case_ids is not None:
        qs = qs.filter(pk__in=list(case_ids))
    if customer_ids is not None:
        qs = qs.filter(order__customer_id__in=list(customer_ids))
    rows = list(qs.values_list("id", "order__customer_id", "type", "reason", "owner_id", "created_at", "state"))
    events = defaultdict(list)
    for cid, at, to in CaseEvent.objects.filter(case_id__in=[r[0] for r in rows]).values_list(
            "case_id", "created_at", "to_state"):
        events[cid].append((at, to))
    return [_CaseFacts(r[0], r[1], r[2], r[3], r[4], r[5], C.resolution_stop(events[r[0]], r[6])) for r in rows]


def _clock_values(p: SlaPolicy, span: C.Span, hours: ServiceHours, now: dt.datetime, customer_id) -> dict:
    due, warn = C.due_and_warn(span.started_at, p.minutes(span.target), p.warn_before_minutes, p.business_hours, hours)
    state, breached, settled = C.judge(started_at=span.started_at, stopped_at=span.stopped_at, warn_at=warn,
                                       due_at=due, now=now)
    return dict(policy_id=p.pk, agent_id=span.agent_id, customer_id=customer_id, started_at=span.started_at,
                warn_at=warn, due_at=due, stopped_at=span.stopped_at, state=state, breached_at=breached,
                settled_at=settled)


def _conversation_clocks(shop, policies, hours, now, customer_ids) -> dict[tuple, dict]:
    conv_qs = Conversation.objects.filter(shop=shop)
    msg_qs = Message.objects.filter(shop=shop)
    order_qs = Order.objects.filter(shop=shop, paid_at__isnull=False)
    if customer_ids is not None:
        conv_qs = conv_qs.filter(customer_id__in=customer_ids)
        msg_qs = msg_qs.filter(customer_id__in=customer_ids)
        order_qs = order_qs.filter(customer_id__in=customer_ids)
    convs = defaultdict(list)
    # The routing work adds `assignee` (who owns the conversation now); read it when present.
    owner = "assignee_id" if any(f.name == "assignee" for f in Conversation._meta.get_fields()) else "agent_id"
    for row in conv_qs.values_list("id", "customer_id", "agent_id", "started_at", "ended_at", owner):
        convs[row[1]].append(row)
    if not convs:
        return {}
    msgs = defaultdict(list)
    for r in msg_qs.values_list("customer_id", "id", "sent_at", "sender", "agent_id", "message_id", "channel",
                                "order_ref"):
        msgs[r[0]].append(C.Msg(*r[1:]))
    paid = defaultdict(list)
    for cid, paid_at, closed_at in order_qs.values_list("customer_id", "paid_at", "closed_at"):
        paid[cid].append((paid_at, closed_at))
    cases = defaultdict(list)
    for c in _cases(shop, customer_ids=customer_ids):
        if c.customer_id is not None:
            cases[c.customer_id].append(c)
    grades = buyer_grades(shop=shop, customer_ids=convs) if any(p.grades for p in policies) else {}
    groups = dict(Agent.objects.filter(shop=shop).values_list("id", "group"))
    lookback = dt.timedelta(days=shop.aftersales_lookback_days)
    out = {}
    for cid, rows in convs.items():
        stream = sorted(msgs.get(cid, []), key=C.sort_key)
        for conv_id, _c, last_agent, started, ended, assignee in rows:
            conv_agent = assignee or last_agent
            first = next((m for m in stream if m.sender == C.BUYER and started <= m.sent_at <= ended), None)
            if first is None:
                continue
            t = first.sent_at
            linked = [c for c in cases.get(cid, ()) if c.created_at <= ended and (c.stop is None or c.stop >= started)]
            recent = any(t - lookback <= pa < t and (cl is None or cl > t) for pa, cl in paid.get(cid, ()))
            agent_id = first.agent_id or conv_agent
            facts = Facts(channel=first.channel, kind=C.conversation_kind(first_buyer=first, case_open=bool(linked),
                                                                          recent_paid_order=recent),
                          case_types={c.type for c in linked}, case_reasons={c.reason for c in linked},
                          grade=grades.get(cid) or "", group=groups.get(agent_id, "") if agent_id else "")
            p = policy_for(policies, facts, CONVERSATION_TARGETS)
            if p is None:
                continue
            for span in C.reply_spans(stream, started, ended, conv_agent, next_reply=bool(p.next_reply_minutes)):
                if p.minutes(span.target):
                    out[(conv_id, span.target, span.seq)] = _clock_values(p, span, hours, now, cid)
    return out


def _case_clocks(shop, policies, hours, now, case_ids) -> dict[tuple, dict]:
    cases = _cases(shop, case_ids=case_ids)
    grades = buyer_grades(shop=shop, customer_ids={c.customer_id for c in cases if c.customer_id}) \
        if any(p.grades for p in policies) else {}
    groups = dict(Agent.objects.filter(shop=shop).values_list("id", "group"))
    out = {}
    for c in cases:
        facts = Facts(kind=ConversationKind.AFTERSALES, case_types={c.type}, case_reasons={c.reason},
                      grade=grades.get(c.customer_id) or "", group=groups.get(c.owner_id, "") if c.owner_id else "")
        p = policy_for(policies, facts, (Target.RESOLUTION,))
        if p is None:
            continue
        span = C.Span(Target.RESOLUTION, 0, c.created_at, c.stop, c.owner_id)
        out[(c.id, Target.RESOLUTION, 0)] = _clock_values(p, span, hours, now, c.customer_id)
    return out


def _write(shop: Shop, existing_qs, desired: dict[tuple, dict], subject: str) -> tuple[int, int, int]:
    existing = {}
    for row in existing_qs.values_list("id", f"{subject}_id", "target", "seq", *CLOCK_FIELDS):
        existing[(row[1], row[2], row[3])] = (row[0], dict(zip(CLOCK_FIELDS, row[4:], strict=True)))
    create, update, stale = [], [], []
    settled = []  # outcome moments whose days the roll-up must recount (deletions mark themselves)
    for key, (pk, values) in existing.items():
        want = desired.get(key)
        if want is None:
            stale.append(pk)
        elif want != values:
            update.append(SlaClock(pk=pk, **want))
            settled += [values["settled_at"], want["settled_at"]]
    for key, values in desired.items():
        if key not in existing:
            create.append(SlaClock(shop=shop, target=key[1], seq=key[2], **{f"{subject}_id": key[0]}, **values))
            settled.append(values["settled_at"])
    rollup.mark(shop.id, settled)
    if stale:
        SlaClock.objects.filter(pk__in=stale).delete()
    if update:
        bulk_update_rows(SlaClock, update, ["policy", "agent", "customer", "started_at", "warn_at", "due_at",
                                            "stopped_at", "state", "breached_at", "settled_at"])
    if create:
        SlaClock.objects.bulk_create(create, batch_size=1000)
    return len(create), len(update), len(stale)


@dataclass
class RebuildResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def add(self, counts: tuple[int, int, int]) -> None:
        self.created += counts[0]
        self.updated += counts[1]
        self.deleted += counts[2]


def sla_rebuild(*, shop: Shop, customer_ids=None, case_ids=None, now: dt.datetime | None = None,
                everything: bool = False) -> RebuildResult:
    """Recompute the clocks of these buyers' conversations and of these cases (or of every subject),
    writing only what changed. Deterministic: the same facts and policies give the same rows."""
    now = now or timezone.now()
    result = RebuildResult()
    policies = list(SlaPolicy.objects.filter(shop=shop, active=True).order_by("priority", "id"))
    hours = ServiceHours(shop.service_hours, shop.tz)
    if not everything and not customer_ids and not case_ids:
        return result
    with transaction.atomic():
        if everything or customer_ids:
            cids = None if everything else sorted(set(customer_ids))
            desired = _conversation_clocks(shop, policies, hours, now, cids)
            qs = SlaClock.objects.filter(shop=shop, conversation__isnull=False)
            if cids is not None:
                qs = qs.filter(conversation__customer_id__in=cids)
            result.add(_write(shop, qs, desired, "conversation"))
        if everything or case_ids:
            kids = None if everything else sorted(set(case_ids))
            desired = _case_clocks(shop, policies, hours, now, kids)
            qs = SlaClock.objects.filter(shop=shop, case__isnull=False)
            if kids is not None:
                qs = qs.filter(case_id__in=kids)
            result.add(_write(shop, qs, desired, "case"))
    return result


def sla_regrade(*, shop: Shop, customer_ids) -> RebuildResult | None:
    """Re-time these buyers' conversations and cases after their grade changed, when a policy
    matches on grade (otherwise a grade cannot change which policy applies)."""
    ids = sorted(set(customer_ids))
    if not ids or not SlaPolicy.objects.filter(shop=shop, active=True).exclude(grades=[]).exists():
        return None
    cases = Case.objects.filter(shop=shop, order__customer_id__in=ids).values_list("id", flat=True)
    return sla_rebuild(shop=shop, customer_ids=ids, case_ids=list(cases))


def sla_tick(*, shop: Shop, now: dt.datetime) -> int:
    """Move running clocks on as time passes (active → warned → missed) without a rebuild."""
    running = SlaClock.objects.filter(shop=shop, stopped_at__isnull=True)
    overdue = running.filter(state__in=[ClockState.ACTIVE, ClockState.WARNED], due_at__lte=now)
    rollup.mark(shop.id, overdue.values_list("due_at", flat=True).distinct())  # they settle at their due time
    n = overdue.update(
        state=ClockState.MISSED, breached_at=F("due_at"), settled_at=F("due_at"), updated_at=now)
    n += running.filter(state=ClockState.ACTIVE, warn_at__lte=now, due_at__gt=now).update(
        state=ClockState.WARNED, updated_at=now)
    return n


# ---------------------------------------------------------------- alerts

def _alert_text(c: SlaClock, kind: str, tz) -> str:
    subject = (_("会话 #%(id)s") % {"id": c.conversation_id}) if c.conversation_id else (
        _("售后单 #%(id)s") % {"id": c.case_id})
    buyer = (c.customer.nick or c.customer.buyer_id) if c.customer_id else ""
    due = timezone.localtime(c.due_at, tz).strftime("%m-%d %H:%M")
    agent = c.agent.name if c.agent_id else _("未分配")
    vals = {"target": Target(c.target).label, "subject": subject, "buyer": buyer, "due": due, "agent": agent}
    if kind == AlertKind.WARNING:
        return _("SLA 即将超时：%(subject)s %(buyer)s 的%(target)s将于 %(due)s 到期（%(agent)s）") % vals
    return _("SLA 已超时：%(subject)s %(buyer)s 的%(target)s已于 %(due)s 超时（%(agent)s），请主管跟进") % vals


def sla_alerts(*, shop: Shop, now: dt.datetime) -> int:
    """Warn the responsible agent before a breach and escalate each breach to the supervisors, once each."""
    base = SlaClock.objects.filter(shop=shop).select_related("customer", "agent")
    warn = list(base.filter(state=ClockState.WARNED, stopped_at__isnull=True, due_at__gt=now))
    breach = list(base.filter(state=ClockState.MISSED, breached_at__gte=now - ALERT_GRACE, breached_at__lte=now))
    candidates = [(c, AlertKind.WARNING) for c in warn] + [(c, AlertKind.BREACH) for c in breach]
    if not candidates:
        return 0
    sent = set(SlaAlert.objects.filter(shop=shop, clock_key__in=[c.key for c, _k in candidates])
               .values_list("clock_key", "kind"))
    supervisors = supervisors_of(shop)
    link = reverse("sla:board")
    n = 0
    for c, kind in candidates:
        if (c.key, kind) in sent:
            continue
        if kind == AlertKind.WARNING:
            recipients = [c.agent] if c.agent_id and c.agent.active else supervisors
        else:
            recipients = supervisors + ([c.agent] if c.agent_id and c.agent.active and c.agent not in supervisors
                                        else [])
        try:
            with transaction.atomic():
                SlaAlert.objects.create(shop=shop, clock_key=c.key, kind=kind, clock=c, recipients=len(recipients))
                notify(shop=shop, recipients=recipients, text=_alert_text(c, kind, shop.tz), link=f"{link}#clock-{c.pk}")
                if kind == AlertKind.BREACH:
                    hooks.sla_breached(shop=shop, clocks=[c])
        except IntegrityError:  # another scan sent it first
            continue
        n += 1
    return n


# ---------------------------------------------------------------- scan

@dataclass
class ScanResult:
    rebuilt: RebuildResult
    ticked: int
    alerts: int
    full: bool


def _last_id(qs) -> int:
    return qs.aggregate(m=Max("id"))["m"] or 0


def sla_scan(*, shop: Shop, now: dt.datetime | None = None) -> ScanResult:
    """The periodic SLA scan of one shop: rebuild what changed since the last scan, move clocks on,
    send warnings and escalations. Safe to run twice at once (the shop's scan row is locked)."""
    now = now or timezone.now()
    with transaction.atomic():
        SlaScanState.objects.get_or_create(shop=shop)
        state = SlaScanState.objects.select_for_update().get(shop=shop)
        if not state.defaults_installed:  # a shop's first scan installs seed 000's policies
            policies_install_defaults(shop=shop)
            state.defaults_installed = state.full_rebuild = True
        last_msg = _last_id(Message.objects.filter(shop=shop))
        last_case = _last_id(Case.objects.filter(shop=shop))
        last_event = _last_id(CaseEvent.objects.filter(shop=shop))
        full = state.full_rebuild
        if full:
            rebuilt = sla_rebuild(shop=shop, now=now, everything=True)
        else:
            customer_ids = set(Message.objects.filter(shop=shop, id__gt=state.last_message_id, id__lte=last_msg)
                               .values_list("customer_id", flat=True).distinct())
            case_ids = set(Case.objects.filter(shop=shop, id__gt=state.last_case_id, id__lte=last_case)
                           .values_list("id", flat=True))
            case_ids |= set(CaseEvent.objects.filter(shop=shop, id__gt=state.last_case_event_id, id__lte=last_event)
                            .values_list("case_id", flat=True).distinct())
            if case_ids:  # a case links its buyer's conversations (after-sales, reasons)
                customer_ids |= set(Case.objects.filter(pk__in=case_ids, order__isnull=False)
                                    .values_list("order__customer_id", flat=True))
            rebuilt = sla_rebuild(shop=shop, customer_ids=customer_ids, case_ids=case_ids, now=now)
        ticked = sla_tick(shop=shop, now=now)
        rollup.refresh(shop)
        alerts = sla_alerts(shop=shop, now=now)
        state.last_message_id, state.last_case_id, state.last_case_event_id = last_msg, last_case, last_event
        state.full_rebuild, state.scanned_at = False, now
        state.save()
    return ScanResult(rebuilt=rebuilt, ticked=ticked, alerts=alerts, full=full)


def sla_scan_pending(*, shop: Shop) -> bool:
    """Whether the scan has work this minute: new facts, changed policies, or clocks still running."""
    state = SlaScanState.objects.filter(shop=shop).first()
    if state is None:
        return Message.objects.filter(shop=shop).exists() or Case.objects.filter(shop=shop).exists()
    return (state.full_rebuild
            or SlaClock.objects.filter(shop=shop, stopped_at__isnull=True,
                                       state__in=[ClockState.ACTIVE, ClockState.WARNED]).exists()
            or Message.objects.filter(shop=shop, id__gt=state.last_message_id).exists()
            or Case.objects.filter(shop=shop, id__gt=state.last_case_id).exists()
            or CaseEvent.objects.filter(shop=shop, id__gt=state.last_case_event_id).exists())
