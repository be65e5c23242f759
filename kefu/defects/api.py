"""Production alerts (AFT-8) and the return-reasons report (AFT-9) under /api/v1/."""

import datetime as dt

from django.utils import timezone
from ninja import Query, Router

from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError
from kefu.core.timeutil import shop_day

from . import selectors as sel
from . import services
from .enums import AlertAction
from .models import ProductionAlert
from .schemas import (
    AlertActIn,
    AlertDetailOut,
    AlertOut,
    BatchIn,
    BatchOut,
    DefectRuleIn,
    DefectRuleOut,
    DefectScanOut,
    OpinionOut,
    ReportOut,
    ReportQueryIn,
)

router = Router(tags=["defects"], auth=AUTH)
REPORT_DEFAULT_DAYS = 30


def alert_out(a: ProductionAlert) -> dict:
    return {"id": a.pk, "sku": a.sku, "batch": a.batch, "reason": a.reason, "state": a.state,
            "case_count": a.case_count, "buyer_count": a.buyer_count, "threshold": a.threshold,
            "window_days": a.window_days, "first_case_at": a.first_case_at, "last_case_at": a.last_case_at,
            "raised_at": a.raised_at, "acknowledged_at": a.acknowledged_at,
            "acknowledged_by": a.acknowledged_by.name if a.acknowledged_by_id else None,
            "closed_at": a.closed_at, "closed_by": a.closed_by.name if a.closed_by_id else None, "note": a.note}


def alert_detail_out(shop, a: ProductionAlert) -> dict:
    cases = [{"case_id": ac.case_id, "sku": ac.sku, "type": ac.case.type, "reason": ac.case.reason,
              "state": ac.case.state, "order_id": ac.case.order.order_id if ac.case.order_id else None,
              "created_at": ac.case.created_at} for ac in a.alert_cases.all()]
    events = [{"action": e.action, "from_state": e.from_state, "to_state": e.to_state,
               "actor": e.actor.name if e.actor_id else None, "case_count": e.case_count, "note": e.note,
               "created_at": e.created_at} for e in a.events.all()]
    ops = [{"aspect": o.aspect, "label": o.label, "positive": o.positive, "negative": o.negative,
            "examples": o.examples} for o in sel.alert_opinions(shop=shop, alert=a)]
    return {**alert_out(a), "cases": cases, "events": events, "opinions": ops,
            "batch_info": sel.alert_batch(shop=shop, alert=a)}


@router.get("/defects/alerts", response=list[AlertOut])
def alerts_get(request, shop: str | None = None, state: str | None = None, limit: int = Query(100, ge=1, le=1000)):
    """Production alerts, newest first (supervisors and up; `state` = open, acknowledged or closed)."""
    shop_obj, member = request.auth.shop_for(shop)
    return [alert_out(a) for a in sel.alerts_for(shop=shop_obj, member=member, state=state)[:limit]]


@router.post("/defects/scan", response=DefectScanOut)
def alerts_scan_post(request, shop: str | None = None):
    """Run the alert rule now (the scheduler runs it every 10 minutes); safe to repeat."""
    shop_obj, member = request.auth.shop_for(shop)
    services.require_manager(shop_obj, member)
    res = services.alerts_scan(shop=shop_obj)
    return {"raised": [a.pk for a in res.raised], "bumped": [a.pk for a in res.bumped], "attached": res.attached}


@router.get("/defects/alerts/{alert_id}", response=AlertDetailOut)
def alert_get(request, alert_id: int, shop: str | None = None):
    """One alert with its cases, timeline and the buyers' opinions on style, size, colour and quality."""
    shop_obj, member = request.auth.shop_for(shop)
    return alert_detail_out(shop_obj, sel.alert_get_for_user(shop=shop_obj, member=member, id=alert_id))


def _act(request, alert_id: int, action: str, payload: AlertActIn, shop: str | None):
    shop_obj, member = request.auth.shop_for(shop)
    sel.alert_get_for_user(shop=shop_obj, member=member, id=alert_id)  # 404 if not visible
    services.alert_act(shop=shop_obj, alert_id=alert_id, action=action, actor=member, note=payload.note or "")
    return alert_out(sel.alert_get_for_user(shop=shop_obj, member=member, id=alert_id))


@router.post("/defects/alerts/{alert_id}/acknowledge", response=AlertOut)
def alert_acknowledge(request, alert_id: int, payload: AlertActIn, shop: str | None = None):
    """A manager acknowledges the alert with what was done (`note`, required)."""
    return _act(request, alert_id, AlertAction.ACKNOWLEDGE, payload, shop)


@router.post("/defects/alerts/{alert_id}/close", response=AlertOut)
def alert_close(request, alert_id: int, payload: AlertActIn, shop: str | None = None):
    """A manager closes the alert; a new burst of reports raises a new one."""
    return _act(request, alert_id, AlertAction.CLOSE, payload, shop)


def rule_out(rule) -> dict:
    return {"reasons": rule.reasons, "threshold": rule.threshold, "window_days": rule.window_days,
            "updated_at": rule.updated_at}


@router.get("/defects/rule", response=DefectRuleOut)
def rule_get(request, shop: str | None = None):
    shop_obj, member = request.auth.shop_for(shop)
    sel.require_viewer(member)
    return rule_out(services.rule_for(shop_obj))


@router.post("/defects/rule", response=DefectRuleOut)
def rule_post(request, payload: DefectRuleIn, shop: str | None = None):
    """Change the alert rule (managers): fields left out keep their value."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.require_viewer(member)
    return rule_out(services.rule_update(shop=shop_obj, editor=member, reasons=payload.reasons,
                                         threshold=payload.threshold, window_days=payload.window_days))


@router.post("/defects/batches", response=BatchOut)
def batch_post(request, payload: BatchIn, shop: str | None = None):
    """Record the production batch (批次) of a SKU on a case; alerts then group by SKU and batch."""
    shop_obj, member = request.auth.shop_for(shop)
    row = services.batch_set(shop=shop_obj, actor=member, case_id=payload.case_id, sku=payload.sku,
                             batch=payload.batch)
    return {"case_id": row.case_id, "sku": row.sku, "batch": row.batch}


@router.get("/defects/opinions", response=list[OpinionOut])
def opinions_get(request, q: Query[ReportQueryIn]):
    """Buyers' opinions on style, size, colour and quality for one `sku` over cases opened in [from, to]
    (default: last 30 days), from the cases' notes and the buyers' messages."""
    shop_obj, member = request.auth.shop_for(q.shop)
    sel.require_viewer(member)
    if not q.sku or not q.sku.strip():
        raise KefuError("required", field="sku")
    date_to = q.date_to or shop_day(timezone.now(), shop_obj.tz)
    date_from = q.date_from or date_to - dt.timedelta(days=REPORT_DEFAULT_DAYS - 1)
    rq = sel.report_query(date_from=date_from, date_to=date_to, sku=q.sku)
    return [{"aspect": o.aspect, "label": o.label, "positive": o.positive, "negative": o.negative,
             "examples": o.examples}
            for o in sel.sku_opinions(shop=shop_obj, member=member, sku=rq.sku, date_from=rq.date_from,
                                      date_to=rq.date_to)]


@router.get("/defects/report", response=ReportOut)
def report_get(request, q: Query[ReportQueryIn]):
    """Return reasons by period, SKU, reason and responsible party with their cost (default: last 30 days)."""
    shop_obj, member = request.auth.shop_for(q.shop)
    sel.require_viewer(member)
    date_to = q.date_to or shop_day(timezone.now(), shop_obj.tz)
    date_from = q.date_from or date_to - dt.timedelta(days=REPORT_DEFAULT_DAYS - 1)
    rq = sel.report_query(date_from=date_from, date_to=date_to, group_by=q.group_by, responsible=q.responsible,
                          reason=q.reason, sku=q.sku)
    rep = sel.return_report(shop=shop_obj, member=member, q=rq)
    return {"date_from": rq.date_from, "date_to": rq.date_to, "group_by": rq.group_by, "rows": rep["rows"],
            "totals": rep["totals"]}
