"""Courier tracking events (IN-4): kuaidi100-style pushes or a file, mapped to shipped / in
transit / exception / signed / returned. A scan moves its order (shipped_at, signed_at and the
status), closes its late-shipment rows, records the arrival of an early refund's returned parcel,
and lands on the timeline of the order and of any open parcel case (lost parcel: the SLA
resolution clock's case sees the courier's word). Idempotent: a resent scan changes nothing.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from kefu.core.errors import KefuError, ValidationFailed, row_number
from kefu.core.inputs import cell_text
from kefu.core.models import Shop
from kefu.core.timeutil import parse_moment
from kefu.orders.enums import OrderEventKind, OrderStatus
from kefu.orders.models import Order, OrderEvent

from .enums import TrackingState
from .models import TrackingEvent

T = TrackingState
# kuaidi100 `state` codes (and the words of resultv2 scans) → Kefu's tracking states
STATE_CODES = {
    "1": T.SHIPPED, "0": T.IN_TRANSIT, "5": T.IN_TRANSIT, "7": T.IN_TRANSIT, "8": T.IN_TRANSIT, "10": T.IN_TRANSIT,
    "11": T.IN_TRANSIT, "12": T.IN_TRANSIT, "2": T.EXCEPTION, "13": T.EXCEPTION, "14": T.EXCEPTION,
    "3": T.SIGNED, "4": T.RETURNED, "6": T.RETURNED,
}
STATE_WORDS = (("揽收", T.SHIPPED), ("签收", T.SIGNED), ("退签", T.RETURNED), ("退回", T.RETURNED),
               ("拒签", T.EXCEPTION), ("疑难", T.EXCEPTION), ("异常", T.EXCEPTION), ("派件", T.IN_TRANSIT),
               ("在途", T.IN_TRANSIT))
FILE_COLUMNS = {"number": "number", "物流单号": "number", "运单号": "number", "快递单号": "number", "nu": "number",
                "courier": "courier", "快递公司": "courier", "物流公司": "courier", "com": "courier",
                "state": "state", "状态": "state", "time": "time", "时间": "time", "ftime": "time",
                "context": "context", "描述": "context", "物流信息": "context", "location": "location", "地点": "location"}
ADVANCE = (OrderStatus.UNPAID, OrderStatus.PAID, OrderStatus.PRINTED)


def state_of(value) -> str:
    """A Kefu tracking state from a kuaidi100 code, a Chinese word or Kefu's own name."""
    v = str(value if value is not None else "").strip()
    if v in T.values:
        return v
    if v in STATE_CODES:
        return STATE_CODES[v]
    for word, state in STATE_WORDS:
        if word in v:
            return state
    raise KefuError(f"unknown state {v!r} (kuaidi100 codes 0–14, 揽收/在途/派件/签收/退回/疑难, or "
                    f"{'/'.join(T.values)})", field="state")


def push_parse(body: dict) -> list[dict]:
    """Scans of one kuaidi100 push (`param` JSON, or its object): newest first in the push.
    A scan without its own status takes the parcel's state when newest, 揽收 when oldest, else 在途."""
    if isinstance(body.get("param"), str):
        try:
            body = json.loads(body["param"])
        except ValueError as exc:
            raise KefuError("param is not JSON", field="param") from exc
    elif isinstance(body.get("param"), dict):
        body = body["param"]
    last = body.get("lastResult")
    if not isinstance(last, dict):
        raise KefuError("no lastResult in the push", field="lastResult")
    number, courier = str(last.get("nu") or "").strip(), str(last.get("com") or "").strip()
    data = last.get("data") or []
    if not isinstance(data, list):
        raise KefuError("lastResult.data must be a list", field="lastResult.data")
    out = []
    for i, scan in enumerate(data):
        if not isinstance(scan, dict):
            raise KefuError(f"scan {i + 1} must be an object", field="lastResult.data")
        own = scan.get("statusCode") or scan.get("status")
        if own:
            state = own
        elif i == 0:
            state = last.get("state", "0")
        elif i == len(data) - 1:
            state = "1"
        else:
            state = "0"
        out.append({"number": number, "courier": courier, "state": state, "time": scan.get("ftime") or scan.get("time"),
                    "context": scan.get("context", ""), "location": scan.get("areaName") or scan.get("location") or ""})
    return out


def events_clean(raws: list[dict], *, tz, first_row: int = 1) -> list[dict]:
    rows, errors = [], []
    for i, raw in enumerate(raws):
        try:
            number = cell_text(raw, "number")
            if not number:
                raise KefuError("required", field="number")
            if len(number) > 64:
                raise KefuError("longer than 64 characters", field="number")
            when = raw.get("time")
            if when in (None, ""):
                raise KefuError("required", field="time")
            try:
                at = parse_moment(when, tz)
            except ValueError as exc:
                raise KefuError(str(exc), field="time") from exc
            rows.append({"number": number, "courier": cell_text(raw, "courier")[:40], "state": state_of(raw.get("state")),
                         "raw_state": cell_text(raw, "state")[:10], "at": at,
                         "context": cell_text(raw, "context")[:500], "location": cell_text(raw, "location")[:100]})
        except KefuError as exc:
            errors.append({"row": row_number(raw, first_row + i), "field": exc.field, "message": exc.message})
    if errors:
        raise ValidationFailed(errors)
    return rows


@dataclass
class TrackingResult:
    created: int = 0
    duplicates: int = 0
    orders_moved: list = field(default_factory=list)


def tracking_ingest(*, shop: Shop, rows: list[dict]) -> TrackingResult:
    """Store clean scans (resends are duplicates) and apply what the new ones mean."""
    from kefu.aftersales.models import Case

    result = TrackingResult()
    with transaction.atomic():
        numbers = {r["number"] for r in rows}
        orders = {}
        for o in Order.objects.select_for_update().filter(shop=shop, tracking_no__in=numbers).order_by("pk"):
            orders.setdefault(o.tracking_no, o)
        seen = set(TrackingEvent.objects.filter(shop=shop, tracking_no__in=numbers)
                   .values_list("tracking_no", "at", "state"))
        fresh = []
        for r in sorted(rows, key=lambda r: r["at"]):
            key = (r["number"], r["at"], r["state"])
            if key in seen:
                result.duplicates += 1
                continue
            seen.add(key)
            o = orders.get(r["number"])
            fresh.append(TrackingEvent(shop=shop, tracking_no=r["number"], courier=r["courier"] or (o.courier if o else ""),
                                       order=o, state=r["state"], raw_state=r["raw_state"], at=r["at"],
                                       context=r["context"], location=r["location"]))
        TrackingEvent.objects.bulk_create(fresh)
        result.created = len(fresh)
        shipped = []
        for t in fresh:
            if t.order is not None and _apply(t.order, t):
                shipped.append(t.order.order_id)
        lines = [OrderEvent(shop=shop, order=t.order, kind=OrderEventKind.ORDER, action="tracking",
                            note=f"{T(t.state).label} {t.context}"[:500]) for t in fresh if t.order is not None]
        OrderEvent.objects.bulk_create(lines)
        # on the order's timeline at the time of the scan, not when Kefu heard of it (auto_now_add
        # stamps the insert; the tracking timeline shows the receiving time when it came late)
        for line, t in zip(lines, [t for t in fresh if t.order is not None], strict=True):
            line.created_at = t.at
        OrderEvent.objects.bulk_update(lines, ["created_at"], batch_size=500)
        result.orders_moved = sorted(set(shipped))
        if shipped:
            from kefu.shipping.services import issues_close_for_orders

            issues_close_for_orders(shop=shop, order_ids=result.orders_moved)
        _cases(shop, fresh, Case)
        from . import hooks

        hooks.tracking_updated(shop=shop, events=fresh)
    return result


def _apply(o: Order, t: TrackingEvent) -> bool:
    """Move the order by one scan (times only ever fill in; a status only moves forward)."""
    fields = []
    if t.state in (T.SHIPPED, T.IN_TRANSIT, T.SIGNED, T.EXCEPTION) and o.shipped_at is None:
        o.shipped_at = t.at
        fields.append("shipped_at")
        if o.status in ADVANCE:
            o.status = OrderStatus.SHIPPED
            fields.append("status")
    if t.state == T.SIGNED and o.signed_at is None:
        o.signed_at = t.at
        fields.append("signed_at")
        if o.status in (*ADVANCE, OrderStatus.SHIPPED):
            o.status = OrderStatus.SIGNED
            fields.append("status")
    if fields:
        o.save(update_fields=sorted(set(fields)) + ["updated_at"])
    return bool(fields)


def _cases(shop: Shop, fresh: list[TrackingEvent], Case) -> None:
    """The returned parcel of an early refund arriving clears its risk; a scan of the parcel of an
    open case (lost, damaged, undeliverable …) goes on the case's timeline."""
    from kefu.aftersales.enums import EventAction
    from kefu.aftersales.models import CaseEvent

    if not fresh:
        return
    numbers = {t.tracking_no for t in fresh}
    returns = {c.return_tracking_no: c for c in Case.objects.select_for_update()
               .filter(shop=shop, return_tracking_no__in=numbers)}
    for t in fresh:
        c = returns.get(t.tracking_no)
        if c is not None and t.state == T.SIGNED and c.return_received_at is None:
            c.return_received_at = t.at
            c.save(update_fields=["return_received_at"])
            CaseEvent.objects.create(shop=shop, case=c, from_state=c.state, to_state=c.state,
                                     action=EventAction.RETURN_ARRIVED, note=f"快递签收：{t.context}"[:500])
    order_ids = {t.order_id for t in fresh if t.order_id}
    from kefu.aftersales.money import FINISHED

    open_cases = Case.objects.filter(shop=shop, order_id__in=order_ids).exclude(state__in=FINISHED)
    by_order: dict = {}
    for c in open_cases:
        by_order.setdefault(c.order_id, []).append(c)
    for t in fresh:
        for c in by_order.get(t.order_id, []):
            CaseEvent.objects.create(shop=shop, case=c, from_state=c.state, to_state=c.state, action="tracking",
                                     note=f"物流：{T(t.state).label} {t.context}"[:500])


def tracking_file_import(*, shop: Shop, path: str | Path) -> TrackingResult:
    """A CSV/XLSX of scans (number, courier, state, time, context; Chinese headers too)."""
    from kefu.importers.files import read_table

    headers, raw = read_table(path)
    if "number" not in {FILE_COLUMNS.get(h) for h in headers} or "time" not in {FILE_COLUMNS.get(h) for h in headers}:
        raise KefuError("a tracking file needs number (物流单号) and time (时间) columns", field="header")
    rows = [{**{FILE_COLUMNS[h]: v for h, v in r.items() if h in FILE_COLUMNS}, "_line": r["_line"]} for r in raw]
    return tracking_ingest(shop=shop, rows=events_clean(rows, tz=shop.tz, first_row=2))
