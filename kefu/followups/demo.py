"""Demo follow-ups: a week of 催付 history replayed through the rule, and open leads, promised
answers and money-action approvals for today."""

import datetime as dt
import random
from decimal import Decimal

from django.db.models import F, Q
from django.utils import timezone

from kefu.core.enums import Group, Role
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import day_bounds
from kefu.orders.enums import OrderStatus
from kefu.orders.models import Order

from .enums import FollowUpKind, FollowUpReason
from .services import (
    followup_act,
    followup_create,
    followups_close_for_orders,
    payment_reminders_create,
)

HISTORY_DAYS = 7


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    rng = random.Random(f"followups-{seed}")
    reminders = _replay_payment_reminders(shop, date_to)
    _today(shop, rng)
    _approvals(shop, rng)
    say(f"{reminders} 催付 tasks replayed; leads, promised answers and approvals for today")


def _replay_payment_reminders(shop: Shop, date_to: dt.date) -> int:
    """Run the 催付 rule at the minute each order of the last week turned N minutes unpaid.

    The rule reads the order as it stands; so each order is shown to it as it stood at that
    minute (unpaid, open) and restored right after — its metric facts never change. Then the
    orders' real state closes the tasks as an order sync would (won when paid, lost when closed).
    """
    start, _ = day_bounds(date_to - dt.timedelta(days=HISTORY_DAYS - 1), shop.tz)
    _, end = day_bounds(date_to, shop.tz)
    due = dt.timedelta(minutes=shop.payment_reminder_minutes)
    orders = list(Order.objects.filter(shop=shop, created_at__gte=start, created_at__lt=end)
                  .filter(Q(paid_at__isnull=True) | Q(paid_at__gt=F("created_at") + due))
                  .order_by("created_at", "id"))
    created = 0
    for o in orders:
        moment = o.created_at + due + dt.timedelta(minutes=1)
        if o.closed_at is not None and o.closed_at <= moment:
            continue
        real = {"status": o.status, "paid_at": o.paid_at, "closed_at": o.closed_at}
        Order.objects.filter(pk=o.pk).update(status=OrderStatus.UNPAID, paid_at=None, closed_at=None)
        created += len(payment_reminders_create(shop=shop, now=moment))
        Order.objects.filter(pk=o.pk).update(**real)
    followups_close_for_orders(shop=shop, order_ids=[o.order_id for o in orders], now=timezone.now())
    return created


def _presales(shop: Shop) -> list[Agent]:
    return list(Agent.objects.filter(shop=shop, group=Group.PRESALES, active=True, roles__contains=Role.AGENT)
                .order_by("name"))


def _today(shop: Shop, rng: random.Random) -> None:
    """Each pre-sales agent has a lead due now, one contacted for later, and a promised answer."""
    now = timezone.now()
    buyers = list(Order.objects.filter(shop=shop, paid_at__isnull=True).select_related("customer")
                  .order_by("-created_at")[:200])
    rng.shuffle(buyers)
    lead_reasons = [FollowUpReason.SIZE_UNSURE, FollowUpReason.PRICE, FollowUpReason.WAITING_PROMOTION,
                    FollowUpReason.COMPARING, FollowUpReason.STOCK]
    picks = iter(buyers)
    for agent in _presales(shop):
        o = next(picks, None)
        if o is None:
            return
        followup_create(shop=shop, kind=FollowUpKind.LEAD, customer=o.customer, owner=agent, actor=agent,
                        reason=rng.choice(lead_reasons), note="问了尺码，说晚点再看",
                        next_contact_at=now + dt.timedelta(minutes=1), now=now - dt.timedelta(minutes=30))
        o = next(picks, None)
        if o is None:
            return
        fu = followup_create(shop=shop, kind=FollowUpKind.LEAD, customer=o.customer, owner=agent, actor=agent,
                             reason=rng.choice(lead_reasons), now=now - dt.timedelta(hours=2))
        followup_act(shop=shop, followup_id=fu.pk, action="contact", actor=agent, note="发了优惠券",
                     next_contact_at=now + dt.timedelta(hours=rng.randint(2, 6)), now=now - dt.timedelta(hours=1))
        o = next(picks, None)
        if o is None:
            return
        followup_create(shop=shop, kind=FollowUpKind.PROMISED_ANSWER, customer=o.customer, owner=agent, actor=agent,
                        note="问仓库：黑色 L 码什么时候到货", due_at=now + dt.timedelta(hours=rng.randint(1, 5)), now=now)


def _approvals(shop: Shop, rng: random.Random) -> None:
    """A discount above an agent's limit waiting for the supervisor, one approved, one rejected,
    and a small one within the agent's own authority."""
    from kefu.approvals.services import approval_decide, money_action_request

    agents = _presales(shop)
    supervisor = Agent.objects.filter(shop=shop, roles__contains=Role.SUPERVISOR).order_by("id").first()
    paid = list(Order.objects.filter(shop=shop, paid_at__isnull=False, total_amount__gte=60)
                .order_by("-paid_at")[:8])
    if len(agents) < 4 or supervisor is None or len(paid) < 4:
        return
    money_action_request(shop=shop, agent=agents[0], kind="discount", amount=Decimal("35.00"), order=paid[0],
                         reason="老客户，尺码不合适换购，申请改价优惠")
    ok = money_action_request(shop=shop, agent=agents[1], kind="compensation", amount=Decimal("30.00"),
                              order=paid[1], reason="发货延迟两天，补偿买家")
    no = money_action_request(shop=shop, agent=agents[2], kind="discount", amount=Decimal("45.00"), order=paid[2],
                              reason="买家要求再便宜一点")
    if ok.approval is not None:
        approval_decide(shop=shop, approval_id=ok.approval.pk, approver=supervisor, approve=True, reason="同意，属实")
    if no.approval is not None:
        approval_decide(shop=shop, approval_id=no.approval.pk, approver=supervisor, approve=False,
                        reason="已是活动价，不能再优惠")
    money_action_request(shop=shop, agent=agents[3], kind="discount", amount=Decimal("5.00"), order=paid[3],
                         reason="包邮差价")
