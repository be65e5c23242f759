"""The seeded demo-shop generator: a month of a Taobao home-textiles shop, as generic-format rows.

Pure Python (no database): `World` simulates buyers, shifts, routing, chats and orders day by
day from one `random.Random(seed)`, so a seed and an end date always give the same rows. The
demo command feeds the rows to the real ingestion services; the benchmarks use `rows()`.

Rows are the generic import/API format: messages {message_id, channel, buyer_id, buyer_nick,
agent_id, sender, sent_at, text, order_id} and orders {order_id, buyer_id, buyer_nick, title,
items, total_amount, paid_amount, refund_amount, created_at … refunded_at, status, courier,
tracking_no, address, buyer_note, seller_remark}; times are ISO 8601 with the shop's offset,
money is exact decimal text.
"""

import datetime as dt
import heapq
import math
import random
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from . import phrases as P

TZ_NAME = "Asia/Shanghai"
CHANNEL = "qianniu"
# Shifts in minutes from shop midnight. Day and night overlap at the afternoon peak.
SHIFTS = {"day": (8 * 60, 17 * 60), "night": (15 * 60, 24 * 60)}
SHIFT_LABELS = {"day": "白班 08:00-17:00", "night": "晚班 15:00-24:00"}
# The shop's service hours (SPEC §12 business seconds): every day 08:00-24:00.
SERVICE_HOURS = {"weekly": {str(d): [["08:00", "24:00"]] for d in range(7)}}
# An agent takes no new conversation in the last minutes of a shift and may finish one this late.
LAST_CALL_MIN = 15
OVERTIME_MIN = 20
# Buyer traffic by hour of day (Taobao: quiet at night, peaks late morning, afternoon, evening).
HOURLY = [3, 1.5, 1, 0.6, 0.5, 0.7, 1.5, 3, 5, 8, 10, 10, 7, 7, 9, 9, 8, 7, 7, 9, 12, 13, 11, 7]
# Per unit of scale: pre-sales chats and silent orders per day.
PRESALES_PER_DAY = 180
SILENT_PER_DAY = 35
HISTORY_DAYS = 10  # orders (no chats) before the month, so after-sales starts on day 1
TEAM = (("presales", "day", 9), ("presales", "night", 4), ("aftersales", "day", 5), ("aftersales", "night", 2))


@dataclass
class AgentPlan:
    key: str  # login suffix: kf01 …
    name: str
    platform_id: str  # the 旺旺 sub-account messages name the agent by
    group: str
    shift: str
    rest_weekday: int  # Monday = 0
    speed: float  # multiplies reply delays
    skill: float  # multiplies conversion

    def on_shift(self, moment: dt.datetime, *, new_chat: bool = True) -> bool:
        if moment.weekday() == self.rest_weekday:
            return False
        start, end = SHIFTS[self.shift]
        minute = moment.hour * 60 + moment.minute
        return start <= minute < end - (LAST_CALL_MIN if new_chat else 0)

    def shift_end(self, moment: dt.datetime) -> dt.datetime:
        day = dt.datetime.combine(moment.date(), dt.time(0), tzinfo=moment.tzinfo)
        return day + dt.timedelta(minutes=SHIFTS[self.shift][1] + OVERTIME_MIN)


@dataclass
class Sku:
    code: str
    product: str
    category: str
    spec: str
    price: Decimal


@dataclass
class Buyer:
    buyer_id: str
    nick: str
    address: str
    city: str
    last_agent: dict = field(default_factory=dict)  # group -> AgentPlan


def team(shop_name: str = P.SHOP_NAME, agents: int = 20, seed: int = 2026) -> list[AgentPlan]:
    """The agents: pre-sales and after-sales, day and night shifts (night smaller)."""
    rng = random.Random(f"team-{seed}")
    base = sum(n for *_, n in TEAM)
    out: list[AgentPlan] = []
    for group, shift, n in TEAM:
        count = max(1, round(n * agents / base))
        for j in range(count):
            i = len(out)
            name = P.AGENT_NAMES[i % len(P.AGENT_NAMES)] + (str(i // len(P.AGENT_NAMES) + 1) if i >= len(P.AGENT_NAMES) else "")
            out.append(
                AgentPlan(
                    key=f"kf{i + 1:02d}", name=name, platform_id=f"{shop_name}:{name}", group=group, shift=shift,
                    rest_weekday=(j * 3 + (1 if shift == "night" else 0)) % 7,
                    speed=round(rng.uniform(0.6, 1.6), 2), skill=round(rng.uniform(0.75, 1.25), 2),
                )
            )
    return out


def catalog() -> list[Sku]:
    skus = []
    for pi, (title, category, specs) in enumerate(P.PRODUCTS):
        for si, (spec, price) in enumerate(specs):
            skus.append(Sku(f"NN{pi + 1:02d}-{si + 1}", title, category, spec, Decimal(price)))
    return skus


def default_end(today: dt.date | None = None) -> dt.date:
    """The demo month ends yesterday in shop time, so the dashboard has fresh data."""
    if today is None:
        today = dt.datetime.now(zoneinfo.ZoneInfo(TZ_NAME)).date()
    return today - dt.timedelta(days=1)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _money(v: Decimal) -> str:
    return str(v.quantize(Decimal("0.01")))


class World:
    """Simulates the shop day by day. Call `messages()` (a generator), then `orders()`."""

    def __init__(self, *, seed: int = 2026, end: dt.date | None = None, days: int = 30, scale: float = 1.0,
                 agents: int = 20, shop_name: str = P.SHOP_NAME, id_prefix: str = "demo"):
        self.rng = random.Random(seed)
        self.tz = zoneinfo.ZoneInfo(TZ_NAME)
        self.end = end or default_end()
        self.days = days
        self.start = self.end - dt.timedelta(days=days - 1)
        self.start_at = dt.datetime.combine(self.start, dt.time(0), tzinfo=self.tz)
        self.cutoff = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz)
        self.scale = scale
        self.shop_name = shop_name
        self.prefix = id_prefix
        self.agents = team(shop_name, agents, seed)
        self.skus = catalog()
        self.by_group = {g: [a for a in self.agents if a.group == g] for g in ("presales", "aftersales")}
        self.rr = {"presales": 0, "aftersales": 0}
        self.buyers: list[Buyer] = []
        self.chatted: list[Buyer] = []
        self._chatted_ids: set[str] = set()  # membership of chatted in O(1): a list scan is quadratic at 1M messages
        self.pool_size = max(50, int(5200 * scale))
        self._orders: dict[str, dict] = {}
        self._pending: list = []  # heap of (time, seq, order_id, topic): after-sales chats to come
        self._seq = 0
        self._msg_seq = 0
        self._order_seq = 0
        self.promo_day = self.start + dt.timedelta(days=min(days - 1, days // 2))

    # --- buyers -----------------------------------------------------------------------------
    def _new_buyer(self) -> Buyer:
        r = self.rng
        n = len(self.buyers)
        nick = r.choice(P.NICK_HEAD) + r.choice(P.NICK_BODY) + r.choice(P.NICK_TAIL)
        if r.random() < 0.4:
            nick += str(r.randint(1, 999))
        prov, city, dist = r.choice(P.CITIES)
        address = f"{prov}{city if city != prov else ''}{dist}{r.choice(P.STREETS)}{r.randint(1, 399)}号"
        b = Buyer(buyer_id=f"tb{(n * 7919 + 1000003) % 90000000 + 10000000}", nick=nick, address=address,
                  city=city)
        self.buyers.append(b)
        return b

    def _pick_buyer(self, returning: float) -> Buyer:
        if self.chatted and (self.rng.random() < returning or len(self.buyers) >= self.pool_size):
            return self.rng.choice(self.chatted)
        return self._new_buyer()

    # --- time ---------------------------------------------------------------------------------
    def _moments(self, day: dt.date, n: int) -> list[dt.datetime]:
        base = dt.datetime.combine(day, dt.time(0), tzinfo=self.tz)
        hours = self.rng.choices(range(24), weights=HOURLY, k=n)
        return sorted(base + dt.timedelta(hours=h, seconds=self.rng.randrange(3600)) for h in hours)

    def _reply_delay(self, agent: AgentPlan, at: dt.datetime) -> int:
        r = self.rng.random()
        if r < 0.88:
            s = 8 + self.rng.gammavariate(2.2, 13)
        elif r < 0.97:
            s = self.rng.uniform(90, 240)
        else:
            s = self.rng.uniform(300, 1500)
        peak = 1.35 if at.hour in (10, 11, 20, 21, 22) else 1.0
        return max(3, int(s * agent.speed * peak))

    def _think(self) -> int:
        return int(12 + self.rng.gammavariate(2, 30))

    # --- routing ------------------------------------------------------------------------------
    def _route(self, group: str, buyer: Buyer, at: dt.datetime) -> tuple[AgentPlan, dt.datetime | None]:
        """The agent for a new conversation, and when the queue opens if no one is on shift."""
        on = [a for a in self.by_group[group] if a.on_shift(at)]
        sticky = buyer.last_agent.get(group)
        if on:
            if sticky in on:
                return sticky, None
            self.rr[group] += 1
            return on[self.rr[group] % len(on)], None
        # Offline (CONV-3): queued to the first agent whose shift starts next.
        t = at
        for _ in range(48 * 4):
            t += dt.timedelta(minutes=15)
            t = t.replace(minute=(t.minute // 15) * 15, second=0)
            on = [a for a in self.by_group[group] if a.on_shift(t)]
            if on:
                if sticky in on:
                    return sticky, t
                self.rr[group] += 1
                return on[self.rr[group] % len(on)], t
        raise RuntimeError("no agent on shift in two days")

    # --- messages -----------------------------------------------------------------------------
    def _fmt(self, text: str, ctx: dict) -> str:
        return text.format(**ctx)

    def _msg(self, out: list, buyer: Buyer, sender: str, at: dt.datetime, text: str,
             agent: AgentPlan | None = None, order_id: str = "") -> None:
        self._msg_seq += 1
        out.append({
            "message_id": f"{self.prefix}-m{self._msg_seq:08d}", "channel": CHANNEL, "buyer_id": buyer.buyer_id,
            "buyer_nick": buyer.nick, "agent_id": agent.platform_id if agent else "", "sender": sender,
            "sent_at": at, "text": text, "order_id": order_id,
        })

    def _ctx(self, buyer: Buyer, agent: AgentPlan, sku: Sku) -> dict:
        r = self.rng
        return {
            "product": sku.product.replace("暖暖家居 ", "").split(" ")[0], "color": r.choice(P.COLORS),
            "size": sku.spec.split(" ")[0], "price": sku.price, "sale": int(sku.price * Decimal("0.7")),
            "courier": r.choice(P.COURIERS[:5]), "days": r.randint(2, 4), "agent": agent.name,
            "shop": self.shop_name, "city": buyer.city,
        }

    def _exchange(self, out, buyer, agent, t, question, answer, ctx, order_id="", unanswered=0.02):
        """One buyer question (sometimes nudged) and the agent's reply; returns (time, answered)."""
        r = self.rng
        self._msg(out, buyer, "buyer", t, self._fmt(question, ctx), agent, order_id)
        reply = t + dt.timedelta(seconds=self._reply_delay(agent, t))
        if (reply - t).total_seconds() > 60 and r.random() < 0.3:
            t += dt.timedelta(seconds=r.randint(30, int((reply - t).total_seconds())))
            self._msg(out, buyer, "buyer", t, r.choice(P.NUDGES), agent)
        if r.random() < unanswered or reply >= agent.shift_end(t):
            self._late_reply(out, buyer, agent, t)
            return t, False
        self._msg(out, buyer, "agent", reply, self._fmt(answer, ctx), agent)
        return reply, True

    def _late_reply(self, out: list, buyer: Buyer, agent: AgentPlan, t: dt.datetime) -> None:
        """Most missed messages get a late answer when the agent catches up (a slow turn)."""
        r = self.rng
        if r.random() < 0.35:
            return  # stays unanswered (未回复)
        late = t + dt.timedelta(seconds=r.randint(600, 5400))
        if not agent.on_shift(late, new_chat=False):
            return
        self._msg(out, buyer, "agent", late, r.choice(P.LATE_REPLY), agent)

    def _presales_chat(self, out: list, at: dt.datetime) -> None:
        r = self.rng
        buyer = self._pick_buyer(returning=0.22)
        if buyer.buyer_id not in self._chatted_ids:
            self._chatted_ids.add(buyer.buyer_id)
            self.chatted.append(buyer)
        agent, queue_at = self._route("presales", buyer, at)
        buyer.last_agent["presales"] = agent
        sku = r.choice(self.skus)
        ctx = self._ctx(buyer, agent, sku)
        t = at
        direct = r.random() < 0.5
        opening = r.choice(P.PRESALES_TOPICS["stock"])
        first = opening[0] if direct else r.choice(P.GREETING_BUYER)
        self._msg(out, buyer, "buyer", t, self._fmt(first, ctx), agent)
        if queue_at is not None:
            self._msg(out, buyer, "bot", t + dt.timedelta(seconds=1), self._fmt(r.choice(P.BOT_OFFLINE), ctx))
            if r.random() < 0.5:  # a second line while waiting
                t += dt.timedelta(seconds=r.randint(10, 90))
                self._msg(out, buyer, "buyer", t, self._fmt(r.choice(P.PRESALES_TOPICS["shipping"])[0], ctx), agent)
            t = queue_at + dt.timedelta(seconds=r.randint(30, 900))
            self._msg(out, buyer, "agent", t, self._fmt(r.choice(P.OFFLINE_GREETING_AGENT), ctx), agent)
            if r.random() < 0.45:  # the buyer is asleep or gone
                return
            t += dt.timedelta(seconds=self._think() * 3)
        else:
            if r.random() < 0.4:
                self._msg(out, buyer, "bot", t + dt.timedelta(seconds=1), self._fmt(r.choice(P.BOT_WELCOME), ctx))
            if r.random() < 0.015:  # not answered in the chat
                self._late_reply(out, buyer, agent, t)
                return
            reply = t + dt.timedelta(seconds=self._reply_delay(agent, t))
            text = opening[1] if direct else r.choice(P.GREETING_AGENT)
            self._msg(out, buyer, "agent", reply, self._fmt(text, ctx), agent)
            t = reply
        answered_all = True
        topics = r.choices(list(P.PRESALES_TOPICS), weights=[3, 3, 2, 4, 4, 1, 1, 1], k=r.choice([1, 1, 2, 2, 3, 4]))
        last_reply = t
        for topic in dict.fromkeys(topics):
            t += dt.timedelta(seconds=self._think())
            q, a = r.choice(P.PRESALES_TOPICS[topic])
            t, ok = self._exchange(out, buyer, agent, t, q, a, ctx)
            if not ok:
                answered_all = False
                break
            last_reply = t
        p = 0.46 * agent.skill * (1.0 if answered_all else 0.35)
        if self.scale_promo(at):
            p *= 1.15
        if r.random() < p:
            when = r.random()
            if when < 0.55 and answered_all:
                t += dt.timedelta(seconds=self._think())
                created = t - dt.timedelta(seconds=r.randint(5, 60))
                order_id = self._order(buyer, created, sku, chat=True)
                self._exchange(out, buyer, agent, t, r.choice(P.BUY_LINES), r.choice(P.BUY_ACK), ctx, unanswered=0.01)
            else:
                if answered_all and r.random() < 0.7:
                    t += dt.timedelta(seconds=self._think())
                    self._exchange(out, buyer, agent, t, r.choice(P.LEAVE_LINES), r.choice(P.LEAVE_ACK), ctx, unanswered=0.06)
                later = dt.timedelta(minutes=r.randint(20, 300)) if when < 0.85 else dt.timedelta(hours=r.randint(16, 40))
                order_id = self._order(buyer, last_reply + later, sku, chat=True)
            o = self._orders[order_id]
            if o["_unpaid"] and agent.on_shift(o["_created"] + dt.timedelta(minutes=35), new_chat=False):
                nudge = o["_created"] + dt.timedelta(minutes=r.randint(30, 50))
                if nudge < self.cutoff:
                    self._msg(out, buyer, "agent", nudge, self._fmt(r.choice(P.URGE_PAY), ctx), agent)
        elif answered_all and r.random() < 0.75:
            t += dt.timedelta(seconds=self._think())
            self._exchange(out, buyer, agent, t, r.choice(P.LEAVE_LINES), r.choice(P.LEAVE_ACK), ctx, unanswered=0.08)

    def scale_promo(self, at: dt.datetime) -> bool:
        return at.date() == self.promo_day

    def _aftersales_chat(self, out: list, at: dt.datetime, order_id: str, topic: str) -> None:
        r = self.rng
        o = self._orders[order_id]
        buyer = o["_buyer"]
        agent, queue_at = self._route("aftersales", buyer, at)
        buyer.last_agent["aftersales"] = agent
        first, follow, agent_lines, outcome = P.AFTERSALES_TOPICS[topic]
        ctx = self._ctx(buyer, agent, o["_sku"])
        ctx["order"] = order_id
        t = at
        self._msg(out, buyer, "buyer", t, self._fmt(r.choice(first), ctx), agent, order_id)
        if r.random() < 0.5 or queue_at is not None:
            bot = P.BOT_OFFLINE if queue_at is not None else P.BOT_AFTERSALES
            self._msg(out, buyer, "bot", t + dt.timedelta(seconds=2), self._fmt(r.choice(bot), ctx))
        if queue_at is not None:
            t = queue_at + dt.timedelta(seconds=r.randint(60, 1200))
        else:
            if r.random() < 0.02:
                self._late_reply(out, buyer, agent, t)
                return
            t += dt.timedelta(seconds=self._reply_delay(agent, t))
        self._msg(out, buyer, "agent", t, self._fmt(r.choice(agent_lines), ctx), agent)
        for _ in range(r.choice([1, 1, 2, 3])):
            t += dt.timedelta(seconds=self._think())
            t, ok = self._exchange(out, buyer, agent, t, r.choice(follow), r.choice(agent_lines), ctx, unanswered=0.04)
            if not ok:
                break
        else:
            t += dt.timedelta(seconds=self._think())
            self._exchange(out, buyer, agent, t, r.choice(P.AFTERSALES_CLOSE_BUYER), r.choice(P.AFTERSALES_CLOSE_AGENT), ctx,
                           unanswered=0.06)
        self._settle(o, t, outcome)

    def _settle(self, o: dict, t: dt.datetime, outcome: str) -> None:
        """The money outcome of an after-sales chat on its order."""
        r = self.rng
        if outcome == "refund_or_exchange":
            outcome = r.choices(["refund_full", "refund_part", "exchange"], weights=[4, 3, 3])[0]
        paid = o["_paid"]
        if outcome == "refund_full" and not o["refunded_at"]:
            o["refund_amount"] = paid
            o["refunded_at"] = t + dt.timedelta(days=r.uniform(2, 5))
            o["seller_remark"] = "退货退款"
        elif outcome == "refund_part" and not o["refunded_at"]:
            o["refund_amount"] = min(paid, Decimal(r.choice([5, 10, 10, 15, 20, 30])))
            o["refunded_at"] = t + dt.timedelta(minutes=r.randint(5, 120))
            o["seller_remark"] = "补偿退差价"
        elif outcome == "exchange":
            o["seller_remark"] = "换货，已补发"

    # --- orders -------------------------------------------------------------------------------
    def _order(self, buyer: Buyer, created: dt.datetime, sku: Sku, chat: bool) -> str:
        r = self.rng
        self._order_seq += 1
        order_id = str(3000000000000000000 + self._order_seq * 7919 + r.randrange(7919))
        items = [(sku, r.choices([1, 2, 3], weights=[8, 3, 1])[0])]
        if r.random() < 0.25:
            extra = r.choice(self.skus)
            if extra.code != sku.code:
                items.append((extra, 1))
        total = sum((s.price * q for s, q in items), Decimal("0"))
        discount = Decimal(r.choice([0, 0, 0, 5, 10, 20, 30])) if total > 100 else Decimal("0")
        if chat and r.random() < 0.3:
            discount += Decimal(r.choice([5, 10]))
        paid = max(Decimal("1.00"), total - discount)
        unpaid = r.random() < 0.12
        o = {
            "order_id": order_id, "buyer_id": buyer.buyer_id, "buyer_nick": buyer.nick,
            "title": sku.product, "items": [{"sku": s.code, "quantity": q, "price": _money(s.price)} for s, q in items],
            "total_amount": total, "paid_amount": Decimal("0"), "refund_amount": Decimal("0"),
            "created_at": created, "paid_at": None, "printed_at": None, "shipped_at": None, "signed_at": None,
            "completed_at": None, "closed_at": None, "refunded_at": None, "courier": "", "tracking_no": "",
            "address": buyer.address, "buyer_note": r.choice(["", "", "", "请尽快发货", "不要放驿站", "送人的，不要放发票"]),
            "seller_remark": "",
            "_buyer": buyer, "_sku": sku, "_created": created, "_unpaid": unpaid, "_paid": paid,
        }
        self._orders[order_id] = o
        if unpaid and r.random() < 0.55:
            o["closed_at"] = created + dt.timedelta(hours=24)  # auto-closed unpaid (交易关闭)
            return order_id
        if unpaid and r.random() < 0.3:
            return order_id  # still waiting for payment
        pay_delay = r.randint(20, 900) if not unpaid else r.randint(3600, 6 * 3600)
        paid_at = created + dt.timedelta(seconds=pay_delay)
        o["paid_at"], o["paid_amount"] = paid_at, paid
        if r.random() < 0.03:  # cancelled before shipping (仅退款)
            o["refunded_at"] = paid_at + dt.timedelta(hours=r.uniform(1, 6))
            o["refund_amount"] = paid
            o["closed_at"] = o["refunded_at"]
            o["seller_remark"] = "买家撤单，未发货退款"
            return order_id
        cutoff_hour = paid_at.replace(hour=16, minute=0, second=0)
        if paid_at < cutoff_hour and paid_at.hour >= 8:
            printed = cutoff_hour + dt.timedelta(minutes=r.randint(0, 50))
        else:
            next_day = paid_at.date() + dt.timedelta(days=1 if paid_at.hour >= 8 else 0)
            printed = dt.datetime.combine(next_day, dt.time(10), tzinfo=self.tz) + dt.timedelta(minutes=r.randint(0, 90))
        o["printed_at"] = printed
        o["shipped_at"] = printed + dt.timedelta(minutes=r.randint(60, 180))
        o["courier"] = r.choice(P.COURIERS)
        o["tracking_no"] = f"{r.choice(['ZT', 'YT', 'YD', 'ST', 'SF', 'JT'])}{r.randrange(10**11, 10**12)}"
        o["signed_at"] = o["shipped_at"] + dt.timedelta(hours=r.uniform(30, 96))
        o["completed_at"] = o["signed_at"] + dt.timedelta(days=r.uniform(3, 10))
        # After-sales: some paid orders bring the buyer back with the order card.
        if r.random() < 0.2:
            topic = r.choices(
                ["ship_urge", "logistics", "missing", "quality", "size_return", "invoice", "refund_progress"],
                weights=[2, 2, 1, 2, 2, 0.5, 0.5],
            )[0]
            base = {
                "ship_urge": paid_at + dt.timedelta(hours=r.uniform(6, 20)),
                "logistics": o["shipped_at"] + dt.timedelta(hours=r.uniform(30, 60)),
            }.get(topic, o["signed_at"] + dt.timedelta(hours=r.uniform(4, 72)))
            self._seq += 1
            heapq.heappush(self._pending, (base, self._seq, order_id, topic))
        return order_id

    # --- driving ------------------------------------------------------------------------------
    def _day_messages(self, day: dt.date) -> list[dict]:
        out: list[dict] = []
        in_month = day >= self.start
        factor = (1.25 if day.weekday() >= 5 else 1.0) * (2.0 if day == self.promo_day else 1.0)
        n_chat = int(PRESALES_PER_DAY * self.scale * factor * self.rng.uniform(0.9, 1.1)) if in_month else 0
        n_silent = max(1, int(SILENT_PER_DAY * self.scale * factor * self.rng.uniform(0.85, 1.15)))
        events = [(t, 0) for t in self._moments(day, n_chat)] + [(t, 1) for t in self._moments(day, n_silent)]
        events.sort(key=lambda e: (e[0], e[1]))
        day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz)
        for t, kind in events:
            while self._pending and self._pending[0][0] <= t:
                self._run_pending(out)
            if kind == 0:
                self._presales_chat(out, t)
            else:
                buyer = self._pick_buyer(returning=0.15)
                self._order(buyer, t, self.rng.choice(self.skus), chat=False)
        while self._pending and self._pending[0][0] < day_end:
            self._run_pending(out)
        out = [m for m in out if m["sent_at"] < self.cutoff]
        out.sort(key=lambda m: (m["sent_at"], m["message_id"]))
        for m in out:
            m["sent_at"] = _iso(m["sent_at"])
        return out

    def _run_pending(self, out: list) -> None:
        at, _, order_id, topic = heapq.heappop(self._pending)
        if self.start_at <= at < self.cutoff:
            self._aftersales_chat(out, at, order_id, topic)

    def messages(self) -> Iterator[dict]:
        """Message rows, day by day in time order. Orders are complete once this is exhausted."""
        day = self.start - dt.timedelta(days=HISTORY_DAYS)
        while day <= self.end:
            yield from self._day_messages(day)
            day += dt.timedelta(days=1)

    def orders(self) -> list[dict]:
        """Order rows as they stand at the end of the month (later steps not happened yet)."""
        out = []
        for o in self._orders.values():
            if o["created_at"] >= self.cutoff:
                continue
            row = {k: v for k, v in o.items() if not k.startswith("_")}
            for k in ("paid_at", "printed_at", "shipped_at", "signed_at", "completed_at", "closed_at", "refunded_at"):
                if row[k] is not None and row[k] >= self.cutoff:
                    row[k] = None
            if row["paid_at"] is None:
                row["paid_amount"] = Decimal("0")
            if row["shipped_at"] is None:
                row["courier"] = row["tracking_no"] = ""
            if row["refunded_at"] is None:
                if row["refund_amount"]:
                    row["status"] = "refunding"  # agreed, money not back yet
                row["refund_amount"] = Decimal("0")
                if row["closed_at"] is not None and row["paid_at"] is not None:
                    row["closed_at"] = None
            for k in ("total_amount", "paid_amount", "refund_amount"):
                row[k] = _money(row[k])
            for k in ("created_at", "paid_at", "printed_at", "shipped_at", "signed_at", "completed_at", "closed_at", "refunded_at"):
                row[k] = _iso(row[k]) if row[k] is not None else ""
            out.append(row)
        out.sort(key=lambda r: (r["created_at"], r["order_id"]))
        return out


def rows(n_messages: int, *, seed: int = 2026, end: dt.date | None = None, days: int = 30, agents: int = 20,
         id_prefix: str = "bench") -> Iterator[tuple[str, dict]]:
    """`n_messages` message rows of about a month, then its orders: ("message", row) / ("order", row).

    The traffic is scaled so that the month holds a little more than n messages (≈ 52,000 per
    unit of scale); the stream stops at exactly n, and the orders that follow are those created
    up to the last message.
    """
    scale = max(0.002, n_messages * 1.25 / 52000)
    world = World(seed=seed, end=end, days=days, scale=scale, agents=agents, id_prefix=id_prefix)
    count, last = 0, ""
    for m in world.messages():
        if count >= n_messages:
            break
        count += 1
        last = m["sent_at"]
        yield "message", m
    for o in world.orders():
        if o["created_at"] <= last:
            yield "order", o


def expected_scale_messages(scale: float) -> int:
    """Rough count of messages a month at this scale gives (for progress bars)."""
    return int(math.ceil(52000 * scale))
