"""Demo data of the defects app: a month of after-sales cases across reasons (for the return-reasons
report) and a burst of quality complaints on one SKU that raises a production alert.

Cases are opened and refunded through kefu.aftersales.services; their timestamps are then moved back
to the day they belong to in the demo month (the services stamp "now"), and the alert rule is run over
the month through kefu.defects.services.alerts_scan.
"""

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from kefu.aftersales.enums import CaseReason, CaseState, Party
from kefu.aftersales.models import Case, CaseEvent, CaseMoneyLine
from kefu.aftersales.services import MoneyLineIn, case_open, case_transition
from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import day_bounds
from kefu.orders.models import Order

# (reason, responsible, type, weight) of the everyday cases.
MIX = [
    (CaseReason.QUALITY, Party.SUPPLIER, "return_refund", 5),
    (CaseReason.WRONG_SIZE_ORDERED, Party.BUYER, "exchange", 6),
    (CaseReason.CHANGED_MIND, Party.BUYER, "return_refund", 6),
    (CaseReason.WRONG_ITEM, Party.WAREHOUSE, "reship", 2),
    (CaseReason.MISSING_ITEM, Party.WAREHOUSE, "reship", 2),
    (CaseReason.DAMAGED_PARCEL, Party.COURIER, "compensation", 2),
    (CaseReason.LOST_PARCEL, Party.COURIER, "reship", 1),
    (CaseReason.ALLERGY, Party.SUPPLIER, "refund_only", 1),
]
NOTES = {
    CaseReason.QUALITY: ["袖口开线，线头很多", "洗了一次就掉色", "有破洞，做工粗糙", "面料起球"],
    CaseReason.WRONG_SIZE_ORDERED: ["买家说偏小，要换大一码", "尺码偏大，换小一码", "穿着太紧"],
    CaseReason.CHANGED_MIND: ["颜色和图片不一样，不喜欢", "款式老气，不想要了", "不太好看"],
    CaseReason.ALLERGY: ["穿了皮肤过敏"],
}
BURST_NOTES = ["收到就开线了，尺码也偏小", "领口开线，颜色有色差", "缝线开线，版型还不错，显瘦", "袖子开线，质量差"]
EVERYDAY = 40
BURST = 4


def _backdate(case: Case, at: dt.datetime) -> None:
    """Move a case and its timeline to the demo moment it happened."""
    Case.objects.filter(pk=case.pk).update(created_at=at, updated_at=at)
    CaseEvent.objects.filter(case=case).update(created_at=at)
    CaseMoneyLine.objects.filter(case=case, done_at__isnull=False).update(done_at=at, created_at=at)
    CaseMoneyLine.objects.filter(case=case, done_at__isnull=True).update(created_at=at)


def _open(shop, actor, manager, order, reason, responsible, type, note, at, rng, refund: bool) -> Case | None:
    item = rng.choice(list(order.items.all()))
    price = min(item.price, Decimal("90.00"))
    lines = [MoneyLineIn(kind="goods", direction="shop_to_buyer", amount=price)] if price > 0 else []
    if responsible != Party.BUYER and rng.random() < 0.5:
        lines.append(MoneyLineIn(kind="shipping", direction="shop_to_buyer", amount=Decimal("8.00")))
    elif responsible == Party.BUYER and type == "exchange":
        lines = [MoneyLineIn(kind="shipping", direction="buyer_to_shop", amount=Decimal("10.00"))]
    case = case_open(shop=shop, actor_agent=actor, type=type, reason=reason, order=order, responsible=responsible,
                     items=[(item.sku_code, 1)], note=note, money_lines=lines)
    if refund and lines:
        try:
            case_transition(shop=shop, case=case, to=CaseState.REFUNDED, actor_agent=manager,
                            expected_version=case.version, note="已退款")
        except KefuError:
            pass  # above the demo manager's authority: the case stays open, as it would in a real shop
    _backdate(case, at)
    return case


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    from .services import alerts_scan

    rng = random.Random(f"defects-{seed}")
    tz = shop.tz
    now = timezone.now()
    people = list(Agent.objects.filter(shop=shop, active=True).order_by("name"))
    manager = next((p for p in people if p.has_role("manager")), None)
    agents = [p for p in people if p.has_role("agent") and p.group == "aftersales"] or people
    orders = list(Order.objects.filter(shop=shop).filter(~Q(shipped_at=None))
                  .prefetch_related("items").select_related("customer").order_by("created_at", "id"))
    orders = [o for o in orders if o.items.all()]
    if not orders or manager is None:
        say("defects: no shipped orders, no demo cases")
        return
    start, end = day_bounds(date_from, tz)[0], min(day_bounds(date_to, tz)[1], now)

    def moment(o: Order) -> dt.datetime:
        base = (o.signed_at or o.shipped_at) + dt.timedelta(hours=rng.randint(2, 60))
        return min(max(base, start), end - dt.timedelta(minutes=1))

    for o in rng.sample(orders, min(EVERYDAY, len(orders))):
        reason, responsible, type, _w = rng.choices(MIX, weights=[m[3] for m in MIX])[0]
        note = rng.choice(NOTES.get(reason, [""]))
        _open(shop, rng.choice(agents), manager, o, reason, responsible, type, note, moment(o), rng,
              refund=rng.random() < 0.6)

    # The burst: the most ordered SKU of the last week, four different buyers within five days.
    week_ago = end - dt.timedelta(days=7)
    recent = [o for o in orders if o.created_at >= week_ago - dt.timedelta(days=7)]
    counts = Counter(it.sku_code for o in recent for it in o.items.all())
    burst = 0
    if counts:
        sku = counts.most_common(1)[0][0]
        buyers = set()
        for o in reversed(recent):
            if burst == BURST:
                break
            if o.customer_id in buyers or sku not in {it.sku_code for it in o.items.all()}:
                continue
            buyers.add(o.customer_id)
            at = end - dt.timedelta(days=burst, hours=rng.randint(1, 12))
            case = case_open(shop=shop, actor_agent=rng.choice(agents), type="return_refund",
                             reason=CaseReason.QUALITY, order=o, responsible=Party.SUPPLIER, items=[(sku, 1)],
                             note=BURST_NOTES[burst], money_lines=[])
            _backdate(case, max(at, start))
            burst += 1
    res = alerts_scan(shop=shop, now=now, since=start)
    say(f"defects: {EVERYDAY} cases over the month, a burst of {burst} quality cases; "
        f"{len(res.raised)} production alert(s) raised")
