"""Metric facts (recorded as messages and orders arrive) and the daily roll-up per agent.

Facts are rebuilt per buyer from that buyer's raw rows whenever a message or order of the buyer
arrives; the roll-up is changed by the difference. Reports read the roll-up, so their cost does
not grow with the number of messages. Definitions: SPEC §12, owned by kefu.metrics.facts.
"""

from decimal import Decimal

from django.db import models

from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer
from kefu.orders.models import Order

ZERO = Decimal("0.00")


class Reception(models.Model):
    """接待: (agent, buyer, shop day) with at least one buyer message served by that agent."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    day = models.DateField()
    first_buyer_at = models.DateTimeField()
    replied = models.BooleanField(default=False)
    first_response_seconds = models.IntegerField(null=True)
    first_response_business_seconds = models.IntegerField(null=True)
    is_inquiry = models.BooleanField(default=True)
    paid_same_day = models.BooleanField(default=False)
    paid_next_day = models.BooleanField(default=False)
    paid_final = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "customer", "day"], name="reception_unique")
        ]
        indexes = [models.Index(fields=["shop", "day", "agent"]), models.Index(fields=["customer"])]


class Turn(models.Model):
    """One (agent, buyer) turn: from the oldest unanswered buyer message to the agent's reply."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    started_at = models.DateTimeField()
    start_day = models.DateField()
    replied_at = models.DateTimeField(null=True)
    reply_day = models.DateField(null=True)
    seconds = models.IntegerField(null=True)
    business_seconds = models.IntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["shop", "reply_day", "agent"]),
            models.Index(fields=["shop", "start_day", "agent"]),
            models.Index(fields=["customer"]),
        ]


class OrderCredit(models.Model):
    """Who a paid order is credited to (null agent = silent order 静默下单)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="credit")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, null=True)
    pay_day = models.DateField()
    created_day = models.DateField()
    paid_amount = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    # Cancelled or fully refunded within the take-back period: out of net sales.
    taken_back = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["shop", "pay_day", "agent"]), models.Index(fields=["customer"])]


class AgentDay(models.Model):
    """Daily roll-up per (agent, shop day). Histograms map whole seconds → count (for medians)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE)
    day = models.DateField()
    receptions = models.IntegerField(default=0)
    replied_receptions = models.IntegerField(default=0)
    first_response_count = models.IntegerField(default=0)
    first_response_sum = models.BigIntegerField(default=0)
    first_response_business_sum = models.BigIntegerField(default=0)
    answered_turns = models.IntegerField(default=0)
    response_sum = models.BigIntegerField(default=0)
    response_business_sum = models.BigIntegerField(default=0)
    slow_turns = models.IntegerField(default=0)
    unanswered_turns = models.IntegerField(default=0)
    inquiries = models.IntegerField(default=0)
    inquiries_paid_same_day = models.IntegerField(default=0)
    inquiries_paid_next_day = models.IntegerField(default=0)
    inquiries_paid = models.IntegerField(default=0)
    orders = models.IntegerField(default=0)
    sales = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    net_sales = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    refunds = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    first_response_hist = models.JSONField(default=dict)
    first_response_business_hist = models.JSONField(default=dict)
    response_hist = models.JSONField(default=dict)
    response_business_hist = models.JSONField(default=dict)
    reception_hours = models.JSONField(default=dict)
    # Distinct buyers credited to the agent that day: not additive over days, so a range of
    # several days counts them from OrderCredit (kpi.py); a single day or month reads it here.
    paying_buyers = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "day"], name="agentday_unique")]
        indexes = [models.Index(fields=["shop", "day"])]


class AgentMonth(models.Model):
    """The response-time histograms of AgentDay summed per calendar month (shop days).

    A report over whole months merges one row per agent and month instead of one per day, so its
    cost stops growing once the distinct response seconds of a month are all seen.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE)
    month = models.DateField()  # the first day of the month
    first_response_hist = models.JSONField(default=dict)
    first_response_business_hist = models.JSONField(default=dict)
    response_hist = models.JSONField(default=dict)
    response_business_hist = models.JSONField(default=dict)
    paying_buyers = models.IntegerField(default=0)  # distinct buyers credited to the agent that month
    # The month's medians (facts.MEDIANS), set whenever the histograms move, so a one-month report
    # of a shop of 1,000 agents decodes no agent histogram.
    first_response_seconds_median = models.FloatField(null=True)
    response_seconds_median = models.FloatField(null=True)
    response_business_seconds_median = models.FloatField(null=True)
    # The group whose GroupMonth row holds these histograms: the agent's group when the row was
    # made. A report corrects for agents that changed group since (kpi._group_month_hists).
    rolled_group = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "month"], name="agentmonth_unique")]
        indexes = [models.Index(fields=["shop", "month"])]


class GroupMonth(models.Model):
    """The AgentMonth histograms of one group summed (by AgentMonth.rolled_group), moved with them.

    A one-month report merges these few rows for its group and shop medians instead of one
    histogram per agent."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    group = models.CharField(max_length=20, blank=True)
    month = models.DateField()  # the first day of the month
    first_response_hist = models.JSONField(default=dict)
    first_response_business_hist = models.JSONField(default=dict)
    response_hist = models.JSONField(default=dict)
    response_business_hist = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "group", "month"], name="groupmonth_unique")]


class ShopPeriod(models.Model):
    """Shop-level roll-up of one shop day or calendar month: distinct buyers credited to any agent,
    and (day rows only; any range sums its days) the silent orders and their paid amount."""

    DAY, MONTH = "day", "month"
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    period = models.CharField(max_length=5, choices=[(DAY, DAY), (MONTH, MONTH)])
    start = models.DateField()  # the day, or the first day of the month
    paying_buyers = models.IntegerField(default=0)
    silent_orders = models.IntegerField(default=0)
    silent_sales = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "period", "start"], name="shopperiod_unique")]


class DirtyBuyer(models.Model):
    """A buyer whose facts and roll-ups must be rebuilt (ADR 0004): written in the same transaction
    as the messages or orders that changed them, deleted by the drain that rebuilt them.

    Append-only for writers (an ingest only inserts, so it never waits on a row lock); a buyer may
    have several marks, which one drain pass coalesces. The oldest mark of a shop tells how stale
    its figures may be.
    """

    id = models.BigAutoField(primary_key=True)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    marked_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["shop", "id"])]


class DrainLease(models.Model):
    """A running drain task's promise (ADR 0004): it will look for new marks once more after `until`
    before it ends. An ingest that commits before `until` (less a margin for clocks) needs not
    check that a drain is queued; one row, renewed by each running drain task."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    until = models.DateTimeField()
