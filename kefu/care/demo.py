"""Demo customer care, through the services: shop tags on buyers, a care owner, a revisit plan with
today's lists and a few calls recorded, a seasonal care message sent to a tagged segment with one
buyer who had opted out (skipped) and replies (one of them 退订), surprises (one within authority,
one waiting for a manager), and the churn scan over the month's complaints, cases and reviews."""

import datetime as dt
import random

from django.db.models import Count
from django.utils import timezone

from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer
from kefu.customers.services import customer_tags_bulk, tag_create

from . import campaigns, churn, services, surprises
from .enums import OptOutSource
from .models import Revisit

TAGS = (("老客户", "green"), ("敏感肌", "red"), ("送礼", "purple"), ("价格敏感", "yellow"), ("VIP", "blue"))
QUESTIONS = ["收到的东西用得怎么样？", "有没有需要帮忙的地方？", "对我们的服务还满意吗？"]
CARE_TEXT = "入冬了，早晚温差大，被褥记得常晒晒，卧室开暖气时放一盆清水保持湿润，注意保暖别着凉。"


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    rng = random.Random(f"care-{seed}")
    people = list(Agent.objects.filter(shop=shop, active=True).order_by("id"))
    agents = [a for a in people if a.has_role("agent")]
    manager = next((a for a in people if a.has_role("manager")), None)
    supervisor = next((a for a in people if a.has_role("supervisor")), None)
    if not agents or manager is None:
        return
    # Buyers by their paid orders (the month's data), most first.
    buyers = list(Customer.objects.filter(shop=shop, is_spam=False, orders__paid_at__isnull=False)
                  .annotate(n=Count("orders")).order_by("-n", "id")[:400])
    if len(buyers) < 10:
        return
    tags = {name: tag_create(shop=shop, name=name, color=color, actor=supervisor) for name, color in TAGS}
    repeat = [b.pk for b in buyers if b.n >= 2]
    customer_tags_bulk(shop=shop, customer_ids=repeat[:300] or [buyers[0].pk], tag=tags["老客户"], add=True,
                       actor=supervisor)
    for name in ("敏感肌", "送礼", "价格敏感"):
        picked = rng.sample(buyers, min(len(buyers), rng.randint(15, 40)))
        customer_tags_bulk(shop=shop, customer_ids=[b.pk for b in picked], tag=tags[name], add=True,
                           actor=agents[0])
    customer_tags_bulk(shop=shop, customer_ids=[b.pk for b in buyers[:12]], tag=tags["VIP"], add=True,
                       actor=supervisor)
    # The care owner (专属客服) and the plan.
    owner = agents[0]
    services.care_settings_update(shop=shop, actor=manager, owner_ids=[owner.pk])
    callers = agents[:3]
    plan = services.revisit_plan_save(shop=shop, actor=owner, name="老客户月度回访",
                                      segment={"tag_ids": [tags["老客户"].pk]}, cadence_days=30,
                                      questions=QUESTIONS, assignee_ids=[a.pk for a in callers], per_owner_daily=8)
    made = services.revisits_generate(shop=shop, plan_id=plan.pk)
    outcomes = ["satisfied", "satisfied", "satisfied", "issue", "no_answer"]
    for i, r in enumerate(Revisit.objects.filter(plan=plan).order_by("id")[:6]):
        answers = {QUESTIONS[0]: rng.choice(["很好用，很舒服", "还行，就是有点起球", "挺满意的"])}
        services.revisit_record(shop=shop, revisit_id=r.pk, actor=r.owner, outcome=outcomes[i % len(outcomes)],
                                answers=answers, note="买家说下次还来" if i % 2 == 0 else "")
    # A care message to the sensitive-skin buyers; the contacts come with the imported orders.
    segment = list(Customer.objects.filter(shop=shop, taggings__tag=tags["敏感肌"]).order_by("id"))
    for i, c in enumerate(segment):
        if not c.phone and i % 7 != 6:  # a few buyers without a phone number
            c.phone = f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
            c.save(update_fields=["phone"])
    opted = segment[0]
    campaigns.opt_out_record(shop=shop, customer=opted, source=OptOutSource.AGENT, actor=owner,
                             note="电话里说不需要短信提醒")
    now = timezone.now()
    c = campaigns.campaign_save(shop=shop, actor=owner, name="入冬护理提醒", text=CARE_TEXT,
                                segment={"tag_ids": [tags["敏感肌"].pk]})
    campaigns.campaign_schedule(shop=shop, campaign_id=c.pk, scheduled_at=now, actor=owner, now=now)
    counts = campaigns.campaign_send(shop=shop, campaign_id=c.pk, now=now)
    replied = [s for s in segment[1:] if s.phone][:3]
    for i, (buyer, text) in enumerate(zip(replied, ["谢谢提醒，很贴心", "TD", "好的"], strict=False)):
        campaigns.care_reply_record(shop=shop, reply_id=f"demo-{c.pk}-{i}", text=text, buyer_id=buyer.buyer_id,
                                    received_at=now + dt.timedelta(minutes=10 + i))
    campaigns.campaign_save(shop=shop, actor=owner, name="春季防过敏提醒",
                            text="春天花粉多，敏感肌出门记得戴口罩，回家及时清洁，少用刺激性护肤品。",
                            segment={"tag_ids": [tags["敏感肌"].pk]})
    # Surprises (seed 001 授权): a card within the agent's authority, a gift waiting for a manager.
    surprises.surprise_create(shop=shop, customer=buyers[1], actor=agents[1], kind="card",
                              description="手写感谢卡和小样", reason="老客户第十次回购", cost="8.00")
    surprises.surprise_create(shop=shop, customer=buyers[2], actor=agents[2], kind="gift",
                              description="包装好的新婚礼物", reason="聊天时说下个月结婚", cost="120.00")
    surprises.surprise_create(shop=shop, customer=buyers[3], actor=owner, kind="handmade",
                              description="手工小钱包", reason="宝宝出生", cost="0")
    raised, _ = churn.churn_scan(shop=shop)
    say(f"tags on {len(repeat)} repeat buyers, {made} revisits, care message to {counts['queued']} buyers "
        f"({counts['opted_out']} opted out), 3 surprises, {raised} churn flags")
