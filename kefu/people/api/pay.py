"""Commissions under /api/v1/ (WF-5): plans (managers), statements with their order lines, recompute."""

from ninja import Router

from kefu.core.api_auth import AUTH

from .. import pay as services
from .. import selectors as S
from ..access import require_supervisor
from ..models import CommissionPlan
from ..schemas import CountOut, MonthIn, PeoplePlanIn, PeoplePlanOut, StatementOut
from .common import actor_of, agent_of, month_of

router = Router(tags=["commissions"], auth=AUTH)


def plan_out(p: CommissionPlan) -> dict:
    return {"group": p.group, "mode": p.mode, "tiers": p.tiers, "floor": p.floor, "kpi_tiers": p.kpi_tiers,
            "points_tiers": p.points_tiers, "updated_at": p.updated_at}


def statement_out(st, *, state: str | None = None, lines: bool = False) -> dict:
    out = {f: getattr(st, f) for f in (
        "id", "agent_id", "group", "month", "orders", "sales", "refunds", "net_sales", "base", "kpi_score", "kpi_tier",
        "kpi_factor", "points_left", "points_factor", "commission", "clawback", "bonus", "total", "plan", "computed_at")}
    out["agent"] = st.agent.name
    out["month_state"] = state or S.month_state(shop=st.shop, month=st.month)
    if lines:
        out["lines"] = [{"kind": ln.kind, "order_id": ln.order_id, "order_no": ln.order_no, "day": ln.day,
                         "paid": ln.paid, "refund": ln.refund, "taken_back": ln.taken_back, "amount": ln.amount,
                         "origin_month": ln.origin_month, "note": ln.note} for ln in st.lines.all()]
    return out


@router.get("/commission-plans", response=list[PeoplePlanOut])
def plans_get(request, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    require_supervisor(member)
    return [plan_out(p) for p in CommissionPlan.objects.filter(shop=shop_obj).order_by("group")]


@router.post("/commission-plans", response=PeoplePlanOut)
def plan_post(request, payload: PeoplePlanIn, shop: str | None = None):
    """Create or replace the plan of `group` ("" = the shop's plan, for groups without their own). Managers.
    mode: progressive (超额累进, each band at its rate) | whole (阶梯全额, the tier reached sets the rate)."""
    shop_obj, member = request.auth.shop_for(shop)
    p = services.commission_plan_set(shop=shop_obj, by=member, group=payload.group, mode=payload.mode,
                                     tiers=payload.tiers, floor=payload.floor, kpi_tiers=payload.kpi_tiers,
                                     points_tiers=payload.points_tiers, actor=actor_of(request))
    return plan_out(p)


@router.get("/commissions", response=list[StatementOut])
def statements_get(request, shop: str | None = None, month: str | None = None, group: str = "",
                   agent_id: int | None = None):
    """The month's statements the caller may see (an agent: their own), without lines."""
    shop_obj, member = request.auth.shop_for(shop)
    m = month_of(shop_obj, month)
    agent = agent_of(shop_obj, member, agent_id)
    rows = S.statements_for(shop=shop_obj, member=member, month=m, group=group)
    if agent is not None:
        rows = [r for r in rows if r.agent_id == agent.id]
    state = S.month_state(shop=shop_obj, month=m)
    return [statement_out(st, state=state) for st in rows]


@router.post("/commissions/recompute", response=CountOut)
def recompute(request, payload: MonthIn, shop: str | None = None):
    """Recompute a month's statements now (open or closed months; a locked month answers 409). Supervisors."""
    shop_obj, member = request.auth.shop_for(shop)
    require_supervisor(member)
    return {"count": services.commission_recompute(shop=shop_obj, month=month_of(shop_obj, payload.month))}


@router.get("/commissions/{statement_id}", response=StatementOut)
def statement_get(request, statement_id: int, shop: str | None = None):
    """One statement with every order line and clawback line."""
    shop_obj, member = request.auth.shop_for(shop)
    return statement_out(S.statement_get_for_user(shop=shop_obj, member=member, id=statement_id), lines=True)
