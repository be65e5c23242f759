"""Demo data of complaints, reviews, disputes and service ratings, made through the services.

Deterministic from the seed: complaints in every stage (some against an agent, with verdicts),
reviews of paid orders (mostly good, some medium/bad, each medium/bad with its task, some
revised), disputes, and rating invitations with ratings for the last two days of the range.
"""

import datetime as dt
import random

from django.utils import timezone

from kefu.core.models import Agent, Shop
from kefu.core.timeutil import day_bounds, shop_day
from kefu.orders.models import Order

from . import ratings, reviews, services
from .enums import STATE_ORDER, STEPS_BY_STATE, ComplaintState
from .models import ReviewTask

GOOD = ["很好，物流很快，好评", "质量不错，穿着很舒服，推荐", "客服很耐心，东西和描述一样", "性价比高，还会再来",
        "包装很用心，很满意"]
MEDIUM = ["一般般吧，颜色有点色差", "东西还行，但是物流太慢了", "尺码偏小，凑合穿", "质量一般，和图片不太一样"]
BAD = ["质量太差了，穿一次就起球，差评！", "客服态度很差，问了半天没人理", "收到就是坏的，太失望了",
       "假货！和专柜的完全不一样，骗子！", "发错货了，退货还要我出运费，再也不会来了"]
COMPLAINTS = [
    ("buyer", "slow_reply", "问了三次都没人回复，等了一个多小时！", "assertive"),
    ("buyer", "attitude", "客服说话很冲，还说是我自己不会用", "self_centred"),
    ("buyer", "product", "杯子用了两天就漏水，要求退款并赔偿", "analytical"),
    ("buyer", "shipping", "说好48小时发货，一周了还没发", "friendly"),
    ("colleague", "attitude", "同事反映：客服对买家不耐烦，被买家投诉到平台", "unknown"),
    ("buyer", "aftersales", "退货寄回去十天了还没退款，你们到底管不管", "assertive"),
    ("buyer", "product", "衣服洗一次就掉色，太失望了", "friendly"),
    ("colleague", "slow_reply", "主管抽查：高峰期回复超时严重", "unknown"),
    ("buyer", "attitude", "问尺码被敷衍，还不如不问", "analytical"),
    ("buyer", "shipping", "快递把箱子压坏了，里面的东西碎了", "friendly"),
]
DEMO_INVITATIONS = 40
TARGETS = [ComplaintState.ACCEPT, ComplaintState.CLARIFY, ComplaintState.SOLUTION, ComplaintState.REVISIT,
           ComplaintState.CLOSED]


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    rnd = random.Random(seed * 31 + 3)
    agents = [a for a in Agent.objects.filter(shop=shop, active=True).order_by("name", "id") if a.has_role("agent")]
    supervisor = next((a for a in Agent.objects.filter(shop=shop, active=True).order_by("id")
                       if a.has_role("supervisor")), None)
    if not agents or supervisor is None:
        return
    start, _ = day_bounds(date_from, shop.tz)
    _, end = day_bounds(date_to, shop.tz)
    paid = list(Order.objects.filter(shop=shop, paid_at__gte=start, paid_at__lt=end)
                .select_related("customer").order_by("paid_at", "id"))
    if not paid:
        return
    _complaints(shop, rnd, agents, supervisor, paid)
    _reviews(shop, rnd, supervisor, paid, end)
    _disputes(shop, rnd, agents, supervisor, paid)
    invited = _ratings(shop, rnd, date_from, date_to)
    say(f"complaints, reviews, disputes and {invited} rating invitations added")


def _ratings(shop, rnd, date_from, date_to) -> int:
    """Invitations (through the outbox) for a sample of the last days' replied receptions (the
    scheduler rule invites them all; the demo keeps its load small), and the buyers' ratings."""
    from kefu.metrics.models import Reception

    recs = list(Reception.objects.filter(shop=shop, replied=True, day__gte=max(date_from, date_to - dt.timedelta(days=6)),
                                         day__lte=date_to, customer__is_spam=False)
                .select_related("agent", "customer").order_by("day", "id"))
    invited = 0
    for rec in sorted(rnd.sample(recs, min(len(recs), DEMO_INVITATIONS)), key=lambda r: (r.day, r.pk)):
        inv, created = ratings.rating_invite(shop=shop, agent=rec.agent, customer=rec.customer, day=rec.day)
        invited += created
        if created and rnd.random() < 0.6:
            score = rnd.choices([5, 4, 3, 2, 1], weights=[55, 25, 10, 6, 4])[0]
            ratings.rating_record(shop=shop, invitation_id=inv.pk, score=score)
    return invited


def _complaints(shop, rnd, agents, supervisor, paid) -> None:
    today = shop_day(timezone.now(), shop.tz)
    for i, (source, category, summary, buyer_type) in enumerate(COMPLAINTS):
        order = paid[rnd.randrange(len(paid))]
        owner = agents[rnd.randrange(len(agents))]
        against = None
        if category in ("attitude", "slow_reply"):
            against = next(a for a in agents[rnd.randrange(len(agents)):] + agents if a.pk != owner.pk)
        c = services.complaint_create(shop=shop, source=source, category=category, summary=summary,
                                      actor=supervisor, owner=owner, against=against, buyer_type=buyer_type,
                                      customer=order.customer if source == "buyer" else None,
                                      order=order if source == "buyer" else None,
                                      revisit_on=today + dt.timedelta(days=i % 3))
        if against is not None and i % 2 == 0:
            services.complaint_verdict(shop=shop, complaint_id=c.pk, verdict="upheld" if i % 4 == 0 else "rejected",
                                       actor=supervisor)
        target = TARGETS[i % len(TARGETS)]
        for state in STATE_ORDER[:STATE_ORDER.index(target)]:
            for step in STEPS_BY_STATE.get(state, ()):
                services.complaint_check(shop=shop, complaint_id=c.pk, step=step, actor=owner)
            if state == ComplaintState.SOLUTION:
                services.complaint_remedy(shop=shop, complaint_id=c.pk, actor=owner,
                                          **({"kind": "compensation", "text": "补偿 10 元并道歉", "amount": "10.00"}
                                             if category == "product" else {"kind": "apology", "text": "电话致歉"}))
            services.complaint_act(shop=shop, complaint_id=c.pk, action="close" if state == ComplaintState.REVISIT
                                   else "advance", actor=owner)


def _reviews(shop, rnd, supervisor, paid, end) -> None:
    sample = rnd.sample(paid, min(len(paid), 80))
    raws = []
    for n, o in enumerate(sorted(sample, key=lambda o: (o.paid_at, o.pk))):
        level = rnd.choices(["good", "medium", "bad"], weights=[80, 9, 11])[0]
        rating = {"good": rnd.choice([4, 5, 5, 5]), "medium": 3, "bad": rnd.choice([1, 2])}[level]
        text = rnd.choice({"good": GOOD, "medium": MEDIUM, "bad": BAD}[level])
        at = min(o.paid_at + dt.timedelta(days=rnd.randint(2, 6), hours=rnd.randint(0, 10)),
                 end - dt.timedelta(minutes=1))
        raws.append({"review_id": f"{shop.code}-RV{n:04d}", "order_id": o.order_id, "buyer_id": o.customer.buyer_id,
                     "sku": "", "rating": rating, "text": text, "created_at": at.isoformat()})
    reviews.reviews_ingest(shop=shop, rows=reviews.reviews_clean(raws, tz=shop.tz))
    for t in ReviewTask.objects.filter(shop=shop).order_by("id"):
        fate = rnd.choice(["open", "contacted", "resolved", "revised", "revised", "explained", "refused"])
        actor = t.owner or supervisor
        if fate == "open":
            continue
        reviews.review_task_act(shop=shop, task_id=t.pk, action="contact", actor=actor, note="旺旺联系买家")
        if fate == "contacted":
            continue
        reviews.review_task_act(shop=shop, task_id=t.pk, action="resolve", actor=actor, resolution="补发/退款已处理")
        if fate != "resolved":
            reviews.review_task_act(shop=shop, task_id=t.pk, action="close", actor=actor, outcome=fate)


def _disputes(shop, rnd, agents, supervisor, paid) -> None:
    o = paid[rnd.randrange(len(paid))]
    reviews.dispute_create(shop=shop, kind="extra_item_denied", actor=supervisor, owner=agents[0], order=o,
                           description="多发了一件，买家否认收到，申请平台介入（待上传称重和监控截图）")
    d = reviews.dispute_create(shop=shop, kind="malicious_review", actor=supervisor, owner=supervisor,
                               description="同行恶意差评，已收集聊天记录")
    reviews.dispute_act(shop=shop, dispute_id=d.pk, action="withdraw", actor=supervisor, note="证据不足，撤回")
