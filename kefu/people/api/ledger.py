"""The penalty ledger under /api/v1/ (WF-4): points, deductions with their sources, manual deductions,
reversals, appeals, warnings, the rule table and the settings."""

from ninja import Query, Router, Status

from kefu.core.api_auth import AUTH

from .. import close as C
from .. import ledger as services
from .. import rules as R
from .. import selectors as S
from ..access import require_supervisor
from ..enums import AppealState, MonthState
from ..models import MonthClose, PenaltyAppeal
from ..schemas import (
    DeductionIn,
    DeductionOut,
    MonthOut,
    PeopleAppealOut,
    PeopleNoteIn,
    PeopleRuleOut,
    PeopleRulesIn,
    PeopleSettingsIn,
    PeopleSettingsOut,
    PeopleWarningOut,
    PointsOut,
    ReasonIn,
)
from .common import actor_of, agent_of, month_of

router = Router(tags=["penalty ledger"], auth=AUTH)


def deduction_out(d) -> dict:
    try:
        appeal = d.appeal
    except PenaltyAppeal.DoesNotExist:
        appeal = None
    return {"id": d.id, "agent_id": d.agent_id, "agent": d.agent.name, "month": d.month, "day": d.day,
            "rule_code": d.rule_code, "rule": d.rule_name, "points": d.points, "kind": d.kind, "status": d.status,
            "source_type": d.source_type, "source_id": d.source_id, "detail": d.detail, "reason": d.reason,
            "origin_month": d.origin_month, "created_by": d.created_by_label, "created_at": d.created_at,
            "change_reason": d.change_reason, "appeal_id": appeal.id if appeal else None,
            "appeal_state": appeal.state if appeal else None}


def appeal_out(a) -> dict:
    return {"id": a.id, "deduction_id": a.deduction_id, "agent_id": a.agent_id, "agent": a.agent.name,
            "reason": a.reason, "state": a.state, "created_at": a.created_at, "decided_by": a.decided_by_label,
            "decided_at": a.decided_at, "decision_note": a.decision_note}


def rule_out(r) -> dict:
    return {"code": r.code, "name": r.name, "source": r.source, "points_each": r.points_each, "tiers": r.tiers,
            "min_points": r.min_points, "max_points": r.max_points, "active": r.active}


def settings_out(s) -> dict:
    return {f: getattr(s, f) for f in R.SETTINGS_FIELDS}


@router.get("/points", response=list[PointsOut])
def points_get(request, shop: str | None = None, month: str | None = None, group: str = ""):
    """Every visible agent's points of a month, lowest first."""
    shop_obj, member = request.auth.shop_for(shop)
    m = month_of(shop_obj, month)
    return [{"agent_id": r.agent.id, "agent": r.agent.name, "group": r.agent.group, "month": m,
             "points_left": r.points_left, "deducted": r.deducted, "deductions": r.deductions,
             "warnings": [w.level for w in r.warnings], "pending_appeals": r.pending_appeals}
            for r in S.points_overview(shop=shop_obj, member=member, month=m, group=group)]


@router.get("/deductions", response=list[DeductionOut])
def deductions_get(request, shop: str | None = None, month: str | None = None, agent_id: int | None = None,
                   limit: int = Query(1000, ge=1, le=5000)):
    """Deductions of a month (voided and reversed ones included, with their status), each with its source."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, agent_id)
    rows = S.deductions_for(shop=shop_obj, member=member, month=month_of(shop_obj, month), agent=agent)[:limit]
    return [deduction_out(d) for d in rows]


@router.post("/deductions", response={201: DeductionOut})
def deduction_post(request, payload: DeductionIn, shop: str | None = None):
    """A supervisor's deduction by a manual rule, with a reason."""
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, payload.agent_id)
    d = services.deduction_add(shop=shop_obj, agent=agent, rule_code=payload.rule_code, points=payload.points,
                               day=payload.day, reason=payload.reason, by=member, actor=actor_of(request))
    return Status(201, deduction_out(d))


@router.post("/deductions/{deduction_id}/reverse", response=DeductionOut)
def deduction_reverse(request, deduction_id: int, payload: ReasonIn, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    d = S.deduction_get_for_user(shop=shop_obj, member=member, id=deduction_id)
    services.deduction_reverse(shop=shop_obj, deduction=d, reason=payload.reason, by=member, actor=actor_of(request))
    return deduction_out(S.deduction_get_for_user(shop=shop_obj, member=member, id=deduction_id))


@router.post("/deductions/{deduction_id}/appeal", response={201: PeopleAppealOut})
def deduction_appeal(request, deduction_id: int, payload: ReasonIn, shop: str | None = None):
    """The agent appeals one of their deductions (once)."""
    shop_obj, member = request.auth.shop_for(shop)
    d = S.deduction_get_for_user(shop=shop_obj, member=member, id=deduction_id)
    return Status(201, appeal_out(services.appeal_create(shop=shop_obj, deduction=d, reason=payload.reason, by=member,
                                                         actor=actor_of(request))))


@router.get("/appeals", response=list[PeopleAppealOut])
def appeals_get(request, shop: str | None = None, state: str | None = AppealState.PENDING):
    shop_obj, member = request.auth.shop_for(shop)
    return [appeal_out(a) for a in S.appeals_for(shop=shop_obj, member=member, state=state or None)]


def _decide(request, shop, appeal_id, grant, note):
    shop_obj, member = request.auth.shop_for(shop)
    a = S.appeal_get_for_user(shop=shop_obj, member=member, id=appeal_id)
    return appeal_out(services.appeal_decide(shop=shop_obj, appeal=a, grant=grant, note=note, by=member,
                                             actor=actor_of(request)))


@router.post("/appeals/{appeal_id}/grant", response=PeopleAppealOut)
def appeal_grant(request, appeal_id: int, payload: PeopleNoteIn, shop: str | None = None):
    """Decide an appeal for the agent (once: a second decision answers 409 already_decided)."""
    return _decide(request, shop, appeal_id, True, payload.note)


@router.post("/appeals/{appeal_id}/reject", response=PeopleAppealOut)
def appeal_reject(request, appeal_id: int, payload: PeopleNoteIn, shop: str | None = None):
    return _decide(request, shop, appeal_id, False, payload.note)


@router.get("/warnings", response=list[PeopleWarningOut])
def warnings_get(request, shop: str | None = None, month: str | None = None, agent_id: int | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    agent = agent_of(shop_obj, member, agent_id)
    return [{"agent_id": w.agent_id, "agent": w.agent.name, "month": w.month, "level": w.level, "points": w.points,
             "created_at": w.created_at, "withdrawn_at": w.withdrawn_at}
            for w in S.warnings_for(shop=shop_obj, member=member, month=month_of(shop_obj, month) if month else None,
                                    agent=agent)]


@router.get("/penalty-rules", response=list[PeopleRuleOut])
def rules_get(request, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    return [rule_out(r) for r in R.rules_list(shop_obj)]


@router.post("/penalty-rules", response=list[PeopleRuleOut])
def rules_post(request, payload: PeopleRulesIn, shop: str | None = None):
    """Change rules by code (name, points_each, tiers [[count, points]], min_points, max_points, active) or
    add manual ones; all or nothing. Managers and admins."""
    shop_obj, member = request.auth.shop_for(shop)
    R.penalty_rules_update(shop=shop_obj, by=member, changes=payload.rules, actor=actor_of(request))
    return [rule_out(r) for r in R.rules_list(shop_obj)]


@router.get("/people/settings", response=PeopleSettingsOut)
def settings_get(request, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    require_supervisor(member)
    return settings_out(R.people_settings(shop_obj))


@router.post("/people/settings", response=PeopleSettingsOut)
def settings_post(request, payload: PeopleSettingsIn, shop: str | None = None):
    """Attendance and ledger settings (the 30 minutes, 4 rest days, 10 points, thresholds, the switch)."""
    shop_obj, member = request.auth.shop_for(shop)
    changes = {k: v for k, v in payload.dict().items() if v is not None}
    return settings_out(R.people_settings_update(shop=shop_obj, by=member, actor=actor_of(request), **changes))




def month_out(row: MonthClose) -> dict:
    return {"month": row.month, "state": row.state, "closed_at": row.closed_at,
            "closed_by": row.closed_by.name if row.closed_by else "", "locked_at": row.locked_at,
            "locked_by": row.locked_by.name if row.locked_by else ""}


@router.get("/people/months", response=list[MonthOut])
def months_get(request, shop: str | None = None):
    """Months that were closed or locked, newest first (a month not listed is open)."""
    shop_obj, member = request.auth.shop_for(shop)
    require_supervisor(member)
    rows = (MonthClose.objects.filter(shop=shop_obj).exclude(state=MonthState.OPEN)
            .select_related("closed_by", "locked_by").order_by("-month"))
    return [month_out(r) for r in rows]


@router.post("/people/months/{month}/close", response=MonthOut)
def month_close(request, month: str, shop: str | None = None):
    """Close a finished month (YYYY-MM): attendance and points recomputed; again recomputes. Supervisors."""
    shop_obj, member = request.auth.shop_for(shop)
    return month_out(C.month_close(shop=shop_obj, month=month_of(shop_obj, month), by=member, actor=actor_of(request)))


@router.post("/people/months/{month}/lock", response=MonthOut)
def month_lock(request, month: str, shop: str | None = None):
    """Lock a closed month, once: it never changes again (later changes reach the next month). Managers."""
    shop_obj, member = request.auth.shop_for(shop)
    return month_out(C.month_lock(shop=shop_obj, month=month_of(shop_obj, month), by=member, actor=actor_of(request)))
