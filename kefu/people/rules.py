"""The shop's attendance and ledger settings and its penalty rule table: seed 002 §五 as defaults,
edited by managers (audited). A locked month keeps a snapshot of both."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop

from kefu.core.access import edits_settings
from kefu.core.errors import KefuError, PermissionDenied, ValidationFailed
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .enums import PeopleError, RuleSource
from .models import MonthClose, PenaltyRule, PeopleSettings

# (code, name, source, points each, tiers [[count, total]], min, max) — seed 002 §五, line by line.
DEFAULT_RULES = (
    ("late", gettext_noop("迟到"), RuleSource.LATE, "0.5", [], "0", "0"),
    ("absent", gettext_noop("缺勤（迟到超过30分钟，或超出调休次数的请假）"), RuleSource.ABSENT, "2", [], "0", "0"),
    ("unauthorised", gettext_noop("旷工（未经批准休息或私自离岗）"), RuleSource.UNAUTHORISED, "5", [], "0", "0"),
    ("not_online", gettext_noop("值班未在线（每月累计3次）"), RuleSource.NOT_ONLINE, "0", [[3, "5"]], "0", "0"),
    ("complaint_slow", gettext_noop("未及时应答被投诉（3次扣5分，5次扣10分）"), RuleSource.COMPLAINT_SLOW, "0",
     [[3, "5"], [5, "10"]], "0", "0"),
    ("complaint_rude", gettext_noop("服务态度恶劣被投诉（每次1分，3次5分，5次10分）"), RuleSource.COMPLAINT_RUDE, "1",
     [[3, "5"], [5, "10"]], "0", "0"),
    ("unfinished_work", gettext_noop("未完成当日工作"), RuleSource.MANUAL, "0", [], "0.5", "1"),
    # seed 000: 因业务知识导致的评价、投诉问题，遇一罚一 — each complaint QA traced to wrong product knowledge.
    ("knowledge_fault", gettext_noop("业务知识错误被投诉（遇一罚一）"), RuleSource.KNOWLEDGE, "1", [], "0", "0"),
)
SETTINGS_FIELDS = (
    "absent_after_minutes", "late_grace_minutes", "rest_days_per_month", "early_leave_minutes",
    "forgot_after_hours", "not_online_minutes", "ledger_enabled", "start_points", "warn_verbal_points",
    "warn_penalty_points", "severe_points", "severe_months",
)
DERIVED_SOURCES = {RuleSource.LATE, RuleSource.ABSENT, RuleSource.UNAUTHORISED, RuleSource.NOT_ONLINE,
                   RuleSource.COMPLAINT_SLOW, RuleSource.COMPLAINT_RUDE, RuleSource.KNOWLEDGE}


@dataclass(frozen=True)
class Rule:
    """A rule as the ledger computes with it (from the table, or a locked month's snapshot)."""

    code: str
    name: str
    source: str
    points_each: Decimal
    tiers: tuple[tuple[int, Decimal], ...]
    min_points: Decimal
    max_points: Decimal
    active: bool
    id: int | None = None

    def total(self, n: int) -> Decimal:
        """Points for n events of a month: n × each, or the highest tier reached if that is more."""
        total = self.points_each * n
        for count, tier_total in self.tiers:
            if n >= count:
                total = max(total, tier_total)
        return total

    def snapshot(self) -> dict:
        return {"code": self.code, "name": self.name, "source": self.source, "points_each": str(self.points_each),
                "tiers": [[c, str(t)] for c, t in self.tiers], "min_points": str(self.min_points),
                "max_points": str(self.max_points), "active": self.active, "id": self.id}

    @classmethod
    def from_snapshot(cls, d: dict) -> "Rule":
        return cls(code=d["code"], name=d["name"], source=d["source"], points_each=Decimal(d["points_each"]),
                   tiers=tuple((int(c), Decimal(t)) for c, t in d["tiers"]), min_points=Decimal(d["min_points"]),
                   max_points=Decimal(d["max_points"]), active=d["active"], id=d.get("id"))

    @classmethod
    def of(cls, r: PenaltyRule) -> "Rule":
        return cls(code=r.code, name=r.name, source=r.source, points_each=r.points_each,
                   tiers=tuple((int(c), Decimal(str(t))) for c, t in r.tiers or []), min_points=r.min_points,
                   max_points=r.max_points, active=r.active, id=r.id)


# ---------------------------------------------------------------- reads

def people_settings(shop: Shop) -> PeopleSettings:
    """The shop's settings row, created with the defaults the first time it is asked for."""
    row = PeopleSettings.objects.filter(shop=shop).first()
    if row is None:
        try:
            with transaction.atomic():
                row = PeopleSettings.objects.create(shop=shop)
        except IntegrityError:
            row = PeopleSettings.objects.get(shop=shop)
    return row


def settings_snapshot(s: PeopleSettings) -> dict:
    return {f: (str(v) if isinstance(v := getattr(s, f), Decimal) else v) for f in SETTINGS_FIELDS}


class SettingsView:
    """Settings as a locked month kept them (attribute access like PeopleSettings)."""

    def __init__(self, data: dict):
        for f in SETTINGS_FIELDS:
            v = data[f]
            setattr(self, f, Decimal(v) if f.endswith("_points") else v)


def rules_ensure(shop: Shop) -> None:
    """Write every default rule the table lacks (all of them the first time; a default added in a later
    release, such as knowledge_fault, reaches shops that have a table already). A manager switches a
    rule off rather than deleting it, so a default is written once."""
    have = set(PenaltyRule.objects.filter(shop=shop).values_list("code", flat=True))
    if len(have) >= len(DEFAULT_RULES) and all(code in have for code, *_r in DEFAULT_RULES):
        return
    rows = [PenaltyRule(shop=shop, code=code, name=name, source=src, points_each=Decimal(each), tiers=tiers,
                        min_points=Decimal(lo), max_points=Decimal(hi), position=i)
            for i, (code, name, src, each, tiers, lo, hi) in enumerate(DEFAULT_RULES) if code not in have]
    PenaltyRule.objects.bulk_create(rows, ignore_conflicts=True)


def rules_list(shop: Shop) -> list[PenaltyRule]:
    rules_ensure(shop)
    return list(PenaltyRule.objects.filter(shop=shop))


def rules_for_month(shop: Shop, month: dt.date) -> tuple[dict[str, Rule], object]:
    """The rules (by code) and settings a month is computed with: a locked month's snapshot, else the
    current table."""
    close = MonthClose.objects.filter(shop=shop, month=month).first()
    if close is not None and close.locked and close.rules_snapshot:
        rules = [Rule.from_snapshot(d) for d in close.rules_snapshot]
        return {r.code: r for r in rules}, SettingsView(close.settings_snapshot)
    return {r.code: Rule.of(r) for r in rules_list(shop)}, people_settings(shop)


# ---------------------------------------------------------------- writes

def _require_manager(by: Agent | None) -> None:
    if by is not None and not edits_settings(by):
        raise PermissionDenied("managers and admins change the rules", code=PeopleError.MANAGER_ONLY)


def people_settings_update(*, shop: Shop, by: Agent | None, actor=None, **changes) -> PeopleSettings:
    _require_manager(by)
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise KefuError(f"unknown setting {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    with transaction.atomic():
        row = people_settings(shop)
        row = PeopleSettings.objects.select_for_update().get(pk=row.pk)
        before = settings_snapshot(row)
        for k, v in changes.items():
            if k.endswith("_points"):
                v = _decimal(v, field=k)
            setattr(row, k, v)
        try:
            row.full_clean(exclude=["shop"])
        except ValidationError as exc:
            field, msgs = next(iter(exc.message_dict.items()))
            raise KefuError(f"{field}: {msgs[0]}", field=field) from exc
        if row.warn_penalty_points > row.warn_verbal_points:
            raise KefuError("the penalty threshold must not be above the verbal-warning one",
                            field="warn_penalty_points")
        row.save()
        audit_record(shop=shop, actor=actor, action="people.settings", entity=row, before=before,
                     after=settings_snapshot(row))
    return row


def _decimal(value, *, field: str, lo: Decimal = Decimal("0"), hi: Decimal = Decimal("100")) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise KefuError(f"{field} must be a number, got {value!r}", field=field) from None
    if not d.is_finite() or d < lo or d > hi:
        raise KefuError(f"{field} must be between {lo} and {hi}", field=field)
    if d != d.quantize(Decimal("0.01")):
        raise KefuError(f"{field} has at most two decimals", field=field)
    return d


def _tiers(value, *, field: str) -> list:
    if not isinstance(value, list):
        raise KefuError("tiers must be a list of [count, points]", field=field)
    out, last = [], 0
    for i, item in enumerate(value):
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise KefuError(f"tier {i + 1} must be [count, points]", field=field)
        try:
            count = int(item[0])
        except (TypeError, ValueError):
            raise KefuError(f"tier {i + 1}: count must be a whole number", field=field) from None
        if count <= last:
            raise KefuError(f"tier {i + 1}: counts must rise (got {count} after {last})", field=field)
        last = count
        out.append([count, str(_decimal(item[1], field=field))])
    return out


RULE_FIELDS = ("name", "points_each", "tiers", "min_points", "max_points", "active")


def penalty_rules_update(*, shop: Shop, by: Agent | None, changes: list[dict], actor=None) -> list[PenaltyRule]:
    """Change rules (by code) or add manual ones; all or nothing, each change audited. A derived
    rule's source cannot change (it is what feeds it); new rules are manual (a supervisor's choice)."""
    _require_manager(by)
    rules_ensure(shop)
    errors = []
    with transaction.atomic():
        existing = {r.code: r for r in PenaltyRule.objects.select_for_update().filter(shop=shop)}
        touched = []
        for i, ch in enumerate(changes):
            code = str(ch.get("code") or "").strip()
            try:
                rule = existing.get(code)
                if rule is None:
                    if not code or not code.replace("_", "").replace("-", "").isalnum() or len(code) > 40:
                        raise KefuError("code: letters, digits, - or _ (at most 40)", field="code")
                    rule = PenaltyRule(shop=shop, code=code, source=RuleSource.MANUAL, position=len(existing) + i)
                    before = None
                else:
                    before = Rule.of(rule).snapshot()
                unknown = set(ch) - {"code", *RULE_FIELDS}
                if unknown:
                    raise KefuError(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
                if "name" in ch:
                    name = str(ch["name"] or "").strip()
                    if not name or len(name) > 80:
                        raise KefuError("name must be 1–80 characters", field="name")
                    rule.name = name
                elif rule.pk is None:
                    raise KefuError("a new rule needs a name", field="name")
                for f in ("points_each", "min_points", "max_points"):
                    if f in ch:
                        setattr(rule, f, _decimal(ch[f], field=f, hi=Decimal("100")))
                if "tiers" in ch:
                    rule.tiers = _tiers(ch["tiers"], field="tiers")
                if "active" in ch:
                    rule.active = bool(ch["active"])
                if rule.source == RuleSource.MANUAL and (rule.min_points <= 0 or rule.min_points > rule.max_points):
                    raise KefuError("a manual rule needs 0 < min ≤ max points", field="max_points")
                rule.save()
                existing[code] = rule
                touched.append(rule)
                audit_record(shop=shop, actor=actor, action="people.rule", entity=rule, before=before,
                             after=Rule.of(rule).snapshot())
            except KefuError as exc:
                errors.append({"row": i, "field": exc.field or "code", "message": exc.message})
        if errors:
            raise ValidationFailed(errors)  # leaving the atomic block undoes every change
    return touched
