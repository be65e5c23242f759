"""Commissions (WF-5): plans per shop and group (managers), and the month's statement per agent,
computed from the order credits the KPI report uses (kefu.metrics.selectors.order_credits), never
attributing an order a second time.

A statement is recomputed while its month is open or closed (hourly, on close, or on demand). Once the
month is locked its statements stay as they are; a refund of one of its orders that arrives later
changes what the month should have paid, and the difference is booked in the first open month after
it as a clawback line (negative; positive if an order came back), naming the locked month and the
orders that changed. The locked month's own plan and factors are used for that recomputation.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from kefu.core.enums import Role
from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from . import pay_calc as P
from .access import label_of, require_manager
from .enums import LineKind, MonthState, PeopleError, PlanMode
from .models import CommissionPlan, CommissionStatement, LedgerMonth, MonthClose, StatementLine
from .months import locked_months, month_end, shop_today
from .rules import people_settings

CLAWBACK_MONTHS = 12  # how far back a locked month's refunds are still clawed back


# ---------------------------------------------------------------- plans

def plan_of(row: CommissionPlan) -> P.Plan:
    return P.Plan(mode=row.mode, tiers=tuple((Decimal(t), Decimal(r)) for t, r in row.tiers),
                  floor=row.floor, kpi_tiers=tuple((Decimal(s), Decimal(f), str(lb)) for s, f, lb in row.kpi_tiers),
                  points_tiers=tuple((Decimal(p), Decimal(f)) for p, f in row.points_tiers))


def plans_by_group(shop: Shop) -> dict[str, CommissionPlan]:
    return {p.group: p for p in CommissionPlan.objects.filter(shop=shop)}


def plan_for_group(plans: dict[str, CommissionPlan], group: str) -> CommissionPlan | None:
    """The group's own plan, else the shop's ("" group), else none (no statement)."""
    return plans.get(group or "") or plans.get("")


def _dec(value, *, field: str, lo: Decimal, hi: Decimal) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise KefuError(f"{field}: not a number: {value!r}", field=field) from None
    if not d.is_finite() or d < lo or d > hi:
        raise KefuError(f"{field}: {value} is outside {lo}–{hi}", field=field)
    return d


def _rows(value, *, field: str, width: int) -> list:
    if not isinstance(value, list) or any(not isinstance(r, list | tuple) or len(r) != width for r in value):
        raise KefuError(f"{field}: a list of [{', '.join(['…'] * width)}] rows", field=field)
    return value


def commission_plan_set(*, shop: Shop, by: Agent | None, group: str = "", mode: str = PlanMode.PROGRESSIVE,
                        tiers: list, floor="0", kpi_tiers: list | None = None, points_tiers: list | None = None,
                        actor=None) -> CommissionPlan:
    """Create or replace the plan of a group ("" = the shop's). Managers and admins; audited."""
    require_manager(by)
    group = (group or "").strip()
    if len(group) > 40:
        raise KefuError("group: at most 40 characters", field="group")
    if mode not in PlanMode.values:
        raise KefuError(f"mode: one of {', '.join(PlanMode.values)}", field="mode")
    clean_tiers = []
    for i, (t, r) in enumerate(_rows(tiers, field="tiers", width=2)):
        clean_tiers.append((_dec(t, field=f"tiers[{i}].threshold", lo=Decimal(0), hi=Decimal("1e11")),
                            _dec(r, field=f"tiers[{i}].rate", lo=Decimal(0), hi=Decimal(100))))
    if not clean_tiers:
        raise KefuError("tiers: at least one tier", field="tiers")
    thresholds = [t for t, _r in clean_tiers]
    if thresholds != sorted(set(thresholds)):
        raise KefuError("tiers: thresholds must rise strictly", field="tiers")
    clean_kpi = []
    for i, (s, f, lb) in enumerate(_rows(kpi_tiers or [], field="kpi_tiers", width=3)):
        clean_kpi.append((_dec(s, field=f"kpi_tiers[{i}].score", lo=Decimal(0), hi=Decimal(100)),
                          _dec(f, field=f"kpi_tiers[{i}].factor", lo=Decimal(0), hi=Decimal(10)), str(lb)[:20]))
    clean_points = []
    for i, (p, f) in enumerate(_rows(points_tiers or [], field="points_tiers", width=2)):
        clean_points.append((_dec(p, field=f"points_tiers[{i}].points", lo=Decimal(-100), hi=Decimal(100)),
                             _dec(f, field=f"points_tiers[{i}].factor", lo=Decimal(0), hi=Decimal(10))))
    floor_d = _dec(floor, field="floor", lo=Decimal(0), hi=Decimal("1e8"))
    values = {"mode": mode, "tiers": [[str(t), str(r)] for t, r in clean_tiers], "floor": floor_d,
              "kpi_tiers": [[str(s), str(f), lb] for s, f, lb in sorted(clean_kpi)],
              "points_tiers": [[str(p), str(f)] for p, f in sorted(clean_points)]}
    with transaction.atomic():
        row = CommissionPlan.objects.select_for_update().filter(shop=shop, group=group).first()
        before = None
        if row is None:
            row = CommissionPlan.objects.create(shop=shop, group=group, **values)
        else:
            before = {"mode": row.mode, "tiers": row.tiers, "floor": str(row.floor), "kpi_tiers": row.kpi_tiers,
                      "points_tiers": row.points_tiers}
            for k, v in values.items():
                setattr(row, k, v)
            row.save()
        audit_record(shop=shop, actor=actor, action="commission_plan.set", entity=row, before=before,
                     after={**values, "floor": str(floor_d), "group": group, "by": label_of(by, actor)})
    return row


def commission_plan_delete(*, shop: Shop, by: Agent | None, group: str, actor=None) -> None:
    require_manager(by)
    with transaction.atomic():
        row = CommissionPlan.objects.filter(shop=shop, group=group or "").first()
        if row is None:
            raise KefuError(f"no plan for group {group!r}", field="group")
        audit_record(shop=shop, actor=actor, action="commission_plan.delete", entity=row,
                     before={"group": row.group, "tiers": row.tiers}, after={"by": label_of(by, actor)})
        row.delete()


# ---------------------------------------------------------------- statements

def _kpi_scores(shop: Shop, month: dt.date, today: dt.date) -> dict[int, Decimal]:
    from kefu.metrics.kpi import kpi_report

    last = min(month_end(month), today)
    if last < month:
        return {}
    rep = kpi_report(shop=shop, date_from=month, date_to=last, by="agent")
    return {r["agent_id"]: Decimal(str(r["score"])) for r in rep["agents"] if r.get("score") is not None}


def _credits(shop: Shop, month: dt.date) -> dict[int, list]:
    from kefu.metrics.selectors import order_credits

    out: dict[int, list] = defaultdict(list)
    for c in order_credits(shop=shop, date_from=month, date_to=month_end(month)):
        out[c.agent_id].append(c)
    return out


def _order_lines(credits: list) -> list[StatementLine]:
    return [StatementLine(kind=LineKind.ORDER, order_id=c.order_id, order_no=c.order_no, day=c.pay_day,
                          paid=c.paid_amount, refund=c.refund_amount, taken_back=c.taken_back,
                          amount=P.order_net(c.paid_amount, c.refund_amount, c.taken_back)) for c in credits]


def _clawbacks(shop: Shop, month: dt.date, locked: set[dt.date]) -> dict[int, list[StatementLine]]:
    """Per agent, the clawback lines this month carries for the locked months before it whose first
    open month it is: what the locked month should pay now minus what it paid and was adjusted since."""
    origins = []
    m = month
    for _ in range(CLAWBACK_MONTHS):
        m = (m - dt.timedelta(days=1)).replace(day=1)
        if m not in locked:
            break
        origins.append(m)
    out: dict[int, list[StatementLine]] = defaultdict(list)
    for origin in origins:
        credits = _credits(shop, origin)
        booked: dict[int, Decimal] = defaultdict(Decimal)
        for agent_id, amount in StatementLine.objects.filter(
                statement__shop=shop, kind=LineKind.CLAWBACK, origin_month=origin,
                statement__month__gt=origin, statement__month__lt=month).values_list("statement__agent_id", "amount"):
            booked[agent_id] += amount
        for st in CommissionStatement.objects.filter(shop=shop, month=origin).prefetch_related("lines"):
            now_lines = {c.order_id: P.order_net(c.paid_amount, c.refund_amount, c.taken_back)
                         for c in credits.get(st.agent_id, [])}
            nos = {c.order_id: c.order_no for c in credits.get(st.agent_id, [])}
            then_lines = {ln.order_id: ln.amount for ln in st.lines.all() if ln.kind == LineKind.ORDER}
            sales = sum(now_lines.values(), Decimal(0))
            should = P.commission(sales=sales, plan=P.Plan.from_snapshot(st.plan), score=st.kpi_score,
                                  points_left=st.points_left)["commission"]
            diff = should - st.commission - booked[st.agent_id]
            if diff:
                changed = [o for o in set(now_lines) | set(then_lines) if now_lines.get(o) != then_lines.get(o)]
                nos.update({ln.order_id: ln.order_no for ln in st.lines.all() if ln.order_id not in nos})
                note = ", ".join(sorted(nos.get(o, str(o)) for o in changed))[:200]
                out[st.agent_id].append(StatementLine(kind=LineKind.CLAWBACK, amount=diff, origin_month=origin,
                                                      note=note))
    return out


def _bonus_lines(shop: Shop, month: dt.date) -> dict[int, list[StatementLine]]:
    """Per agent, the approved special bonuses and ranking awards this month's statement pays (kefu.people.bonus)."""
    from .enums import BonusState
    from .models import RankingAward, SpecialBonus

    out: dict[int, list[StatementLine]] = defaultdict(list)
    for b in SpecialBonus.objects.filter(shop=shop, month=month, state=BonusState.APPROVED).order_by("id"):
        out[b.agent_id].append(StatementLine(kind=LineKind.BONUS, amount=b.amount, note=b.reason[:200]))
    for a in RankingAward.objects.filter(shop=shop, pay_month=month).select_related("rule").order_by("id"):
        out[a.agent_id].append(StatementLine(kind=LineKind.RANKING, amount=a.amount, origin_month=a.month,
                                             note=f"{a.rule.name} #{a.rank}"[:200]))
    return out


def _staff(shop: Shop) -> dict[int, Agent]:
    return {a.id: a for a in Agent.objects.filter(shop=shop)}


def commission_recompute(*, shop: Shop, month: dt.date, now: dt.datetime | None = None) -> int:
    """Recompute every agent's statement of an open or closed month; returns the statements written.
    Agents on it: active agents of a group with a plan, and anyone with credited orders or a clawback."""
    now = now or timezone.now()
    month = month.replace(day=1)
    with transaction.atomic():
        MonthClose.objects.get_or_create(shop=shop, month=month)
        close = MonthClose.objects.select_for_update().get(shop=shop, month=month)  # one recompute at a time
        if close.state == MonthState.LOCKED:
            raise KefuError(f"{month:%Y-%m} is locked", field="month", code=PeopleError.LOCKED)
        plans = plans_by_group(shop)
        staff = _staff(shop)
        credits = _credits(shop, month)
        clawbacks = _clawbacks(shop, month, locked_months(shop))
        bonuses = _bonus_lines(shop, month)
        wanted = ({a.id for a in staff.values() if a.active and a.has_role(Role.AGENT)} | set(credits)
                  | set(clawbacks) | set(bonuses))
        wanted = {i for i in wanted if i in staff and (plan_for_group(plans, staff[i].group) is not None
                                                       or i in clawbacks or i in bonuses)}
        if not wanted:
            CommissionStatement.objects.filter(shop=shop, month=month).delete()
            return 0
        needs_kpi = any(p.kpi_tiers for p in plans.values())
        scores = _kpi_scores(shop, month, shop_today(shop, now)) if needs_kpi else {}
        ledger_on = people_settings(shop).ledger_enabled
        points = dict(LedgerMonth.objects.filter(shop=shop, month=month).values_list("agent_id", "points_left")) \
            if ledger_on else {}
        start = people_settings(shop).start_points
        CommissionStatement.objects.filter(shop=shop, month=month).exclude(agent_id__in=wanted).delete()
        existing = {s.agent_id: s for s in CommissionStatement.objects.filter(shop=shop, month=month)}
        StatementLine.objects.filter(statement__shop=shop, statement__month=month).delete()
        lines: list[StatementLine] = []
        for agent_id in sorted(wanted):
            agent = staff[agent_id]
            row = plan_for_group(plans, agent.group)
            plan = plan_of(row) if row else P.Plan(mode=PlanMode.PROGRESSIVE, tiers=())  # a clawback or bonus only
            order_lines = _order_lines(credits.get(agent_id, []))
            claw = clawbacks.get(agent_id, [])
            net = sum((ln.amount for ln in order_lines), Decimal(0))
            pts = points.get(agent_id, start) if ledger_on else None
            calc = P.commission(sales=net, plan=plan, score=scores.get(agent_id), points_left=pts)
            clawback = sum((ln.amount for ln in claw), Decimal(0))
            extra = bonuses.get(agent_id, [])
            bonus = sum((ln.amount for ln in extra), Decimal(0))
            st = existing.get(agent_id) or CommissionStatement(shop=shop, agent=agent, month=month)
            st.group, st.plan, st.orders = agent.group, plan.snapshot(), len(order_lines)
            st.sales = sum((ln.paid for ln in order_lines), Decimal(0))
            st.refunds = sum((ln.refund for ln in order_lines), Decimal(0))
            st.net_sales, st.base, st.commission = net, calc["base"], calc["commission"]
            st.kpi_score, st.kpi_tier, st.kpi_factor = scores.get(agent_id), calc["kpi_tier"], calc["kpi_factor"]
            st.points_left, st.points_factor = pts, calc["points_factor"]
            st.clawback, st.bonus, st.computed_at = clawback, bonus, now
            st.total = calc["commission"] + clawback + bonus
            st.save()
            for ln in order_lines + claw + extra:
                ln.statement = st
                lines.append(ln)
        StatementLine.objects.bulk_create(lines, batch_size=1000)
    return len(wanted)


def commission_recompute_open(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """The scheduler's pass: this month, and last month while it is not locked."""
    now = now or timezone.now()
    this = shop_today(shop, now).replace(day=1)
    months = [this]
    last = (this - dt.timedelta(days=1)).replace(day=1)
    if not CommissionPlan.objects.filter(shop=shop).exists():
        return 0
    if MonthClose.objects.filter(shop=shop, month=last).values_list("state", flat=True).first() != MonthState.LOCKED:
        months.insert(0, last)
    return sum(commission_recompute(shop=shop, month=m, now=now) for m in months)

