"""What an executed money action does to the order it names (PRE-4, order side).

A price change (discount) or free order lowers what the buyer pays: one OrderAdjustment row per
MoneyAction (a one-to-one: it can never be applied twice), Order.adjustment_amount raised, an
OrderEvent on the timeline, an audit row, and the 改价 remark (seed 000 §6a) in the requester's name.
A compensation does not change the order's price: it is put on the timeline only.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import F

from kefu.approvals.enums import MoneyKind
from kefu.core.access import user_of
from kefu.core.services import audit_record
from kefu.core.timeutil import shop_day

from .enums import OrderEventKind, RemarkType
from .models import Order, OrderAdjustment, OrderEvent, OrderRemark
from .remarks import REMARK_RULES, remark_render

ZERO = Decimal("0.00")
PRICE_KINDS = (MoneyKind.DISCOUNT, MoneyKind.FREE_ORDER)


def payable(order: Order) -> Decimal:
    """What the buyer pays after executed price changes and free orders: the amount paid (or, before
    payment, the amount due) less the adjustments."""
    base = order.paid_amount if order.paid_amount > 0 else order.total_amount
    return max(ZERO, base - order.adjustment_amount)


def order_adjust_for_money_action(*, action) -> OrderAdjustment | None:
    """Apply an executed MoneyAction to its order, exactly once (called in the executing transaction)."""
    if action.order_id is None:
        return None
    who = action.approved_by or action.requested_by
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=action.order_id)
        label = MoneyKind(action.kind).label
        if action.kind not in PRICE_KINDS:
            OrderEvent.objects.create(shop_id=action.shop_id, order=order, kind=OrderEventKind.COMPENSATION,
                                      action=action.kind, actor=who,
                                      note=f"{label} ¥{action.amount}：{action.reason}"[:500])
            return None
        if OrderAdjustment.objects.filter(money_action=action).exists():
            return None  # already applied (the one-to-one would refuse a second row anyway)
        before = payable(order)
        # A free order waives whatever is left to pay; a price change lowers it by its amount.
        after = ZERO if action.kind == MoneyKind.FREE_ORDER else max(ZERO, before - action.amount)
        adj = OrderAdjustment.objects.create(shop_id=action.shop_id, order=order, money_action=action,
                                             kind=action.kind, amount=action.amount, payable_before=before,
                                             payable_after=after)
        Order.objects.filter(pk=order.pk).update(adjustment_amount=F("adjustment_amount") + (before - after))
        by = action.requested_by.name + (f"（{action.approved_by.name} 批准）" if action.approved_by_id else "")
        OrderEvent.objects.create(shop_id=action.shop_id, order=order, kind=OrderEventKind.ADJUSTMENT,
                                  action=action.kind, actor=who,
                                  note=f"{label} ¥{action.amount}：¥{before} → ¥{after} · {by} · {action.reason}"[:500])
        # The 改价 remark of seed 000 §6a, in the name of whoever changed the price.
        if action.requested_by.has_role(*REMARK_RULES[RemarkType.PRICE_CHANGE].roles):
            text = remark_render(type=RemarkType.PRICE_CHANGE, reason=action.reason[:100],
                                 author_name=action.requested_by.name, day=shop_day(adj.created_at, order.shop.tz))
            OrderRemark.objects.create(shop_id=action.shop_id, order=order, type=RemarkType.PRICE_CHANGE,
                                       reason=action.reason[:100], author=action.requested_by, text=text)
        audit_record(shop=order.shop, actor=user_of(who), action="order.adjust", entity=order,
                     before={"payable": str(before)},
                     after={"payable": str(after), "kind": action.kind, "money_action": action.pk})
    return adj
