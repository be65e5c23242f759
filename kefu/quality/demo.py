"""Demo data of quality inspection, made through the services, deterministic from the seed:
automatic flags on the month's chats, sampling rounds every two days with the supervisor's reviews
(the last round left in the queue for a newcomer), one open appeal for the manager to decide, a
calibration, two typical cases of this week (one already in the script library), script uses from
the picker, product knowledge cards and one complaint traced to wrong product knowledge."""

import datetime as dt
import random

from django.utils import timezone

from kefu.catalog.models import Product
from kefu.conversations.models import Conversation, Message
from kefu.core.enums import Role
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import day_bounds, shop_day
from kefu.customers.models import Customer

from . import services
from .flags import flags_refresh, qa_settings
from .models import QaReview
from .sampling import is_round_day, sampling_run

KNOWLEDGE = {
    "四件套": {"sizes": "1.5m床：被套200x230，床单245x250，枕套48x74 两只\n1.8m床：被套220x240，床单245x270\n2.0m床：被套230x250",
             "fabric": "100支新疆长绒棉，贡缎工艺", "care": "首次洗涤前单独冷水漂洗；30℃以下机洗，反面晾晒，不可漂白",
             "fit_advice": "床垫厚度超过25cm建议选床笠款；被芯尺寸与被套一致即可，偏大的被芯会鼓包",
             "keywords": "四件套,床单,被套,床品", "model_measurements": ""},
    "乳胶枕": {"sizes": "经典波浪款 60x40cm，高度 10/12cm；儿童款 44x27cm，高度 6/7cm",
            "fabric": "泰国天然乳胶 93%，外套天丝", "care": "乳胶芯不可水洗、不可暴晒；外套可拆洗",
            "fit_advice": "侧睡选12cm高的一面，仰睡选10cm；肩宽的买家建议高一档",
            "keywords": "乳胶枕,枕头,枕芯", "model_measurements": ""},
    "羽绒被": {"sizes": "150x200 1.5kg；200x230 2kg；220x240 2.5kg", "fabric": "95%白鹅绒，蓬松度 800+，面料全棉防钻绒",
            "care": "不建议水洗，局部污渍用中性洗涤剂擦洗；每月晾晒一次，拍打恢复蓬松",
            "fit_advice": "南方冬季选1.5kg即可，北方有暖气选2kg；怕热的买家选轻一档",
            "keywords": "羽绒被,被子,被芯", "model_measurements": ""},
    "珊瑚绒毛毯": {"sizes": "100x150；150x200；200x230", "fabric": "珊瑚绒 100%涤纶，克重 320g/㎡",
              "care": "30℃以下洗衣袋机洗，不可烘干，首洗会有少量浮毛",
              "fit_advice": "午睡盖毯选100x150；单人床当被子用选150x200", "keywords": "毛毯,盖毯,珊瑚绒",
              "model_measurements": "模特身高165cm，披肩展示为100x150"},
}
SUMMARIES = ["回复及时，推荐了搭配的枕套", "开场问候到位，尺码解答准确", "问题解决了但没有主动推荐",
             "买家问了两次才回复，需要注意响应", "语气可以更亲切一些"]


def _now_at(day: dt.date, shop: Shop, hour: int) -> dt.datetime:
    return day_bounds(day, shop.tz)[0] + dt.timedelta(hours=hour)


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    rng = random.Random(f"quality-{seed}")
    ids = list(Customer.objects.filter(shop=shop).values_list("id", flat=True))
    for i in range(0, len(ids), 500):
        flags_refresh(shop=shop, customer_ids=ids[i:i + 500])
    _knowledge(shop)
    _script_uses(shop, rng, date_from, date_to)
    supervisor = next((a for a in Agent.objects.filter(shop=shop, active=True).order_by("id")
                       if a.has_role(Role.SUPERVISOR)), None)
    manager = next((a for a in Agent.objects.filter(shop=shop, active=True).order_by("id")
                    if a.has_role(Role.MANAGER)), None)
    if supervisor is None or manager is None:
        say("quality: no supervisor or manager, no reviews")
        return
    cats = services.rubric_ensure(shop)
    qa_settings(shop)
    today = shop_day(timezone.now(), shop.tz)
    rounds = [d for d in (date_from + dt.timedelta(days=i) for i in range(2, (today - date_from).days + 1))
              if is_round_day(shop, d)]
    reviews = []
    for day in rounds:
        samples = sampling_run(shop=shop, round_day=day, now=_now_at(day, shop, 9))
        if day == rounds[-1]:
            break  # the newest round stays in the supervisor's queue
        for s in samples:
            if s.reviewer_id != supervisor.pk:
                continue
            at = _now_at(day, shop, 10 + rng.randint(0, 7))
            r = services.review_start(shop=shop, reviewer=supervisor, sample=s, now=at)
            scores = []
            for c in cats:
                low = c.scale_min + (1 if c.critical else 0)
                chosen = max(low, min(c.scale_max, c.scale_max - int(rng.expovariate(1.2))))
                if rng.random() < 0.03 and c.critical:
                    chosen = c.scale_min + 1  # now and then a failed politeness item
                scores.append({"category_id": c.pk, "chosen": chosen, "comment": ""})
            msg = Message.objects.filter(shop=shop, customer_id=s.customer_id, sender="agent",
                                         sent_at__gte=r.window_start, sent_at__lte=r.window_end).first()
            if msg is not None:
                scores[-1]["comment"] = "可以顺带推荐同系列枕套"
                scores[-1]["message_id"] = msg.pk
            reviews.append(services.review_save(shop=shop, review=r, reviewer=supervisor, scores=scores,
                                                summary=rng.choice(SUMMARIES), submit=True, now=at))
    appealed = _appeal_and_calibrate(shop, rng, reviews, cats, manager)
    cases = _cases(shop, reviews, supervisor)
    fault = _knowledge_fault(shop, supervisor)
    pending = sum(1 for r in QaReview.objects.filter(shop=shop, state="draft"))
    say(f"quality: {len(rounds)} sampling rounds, {len(reviews)} reviews ({pending} drafts), "
        f"{'one open appeal' if appealed else 'no appeal'}, {cases} typical cases, "
        f"{'a knowledge fault' if fault else 'no knowledge fault'}")


def _appeal_and_calibrate(shop, rng, reviews, cats, manager) -> bool:
    if len(reviews) < 3:
        return False
    low = sorted(reviews[-12:], key=lambda r: (r.score, r.pk))
    target = low[0]
    agent = Agent.objects.get(pk=target.agent_id)
    services.review_acknowledge(shop=shop, review=target, agent=agent, now=target.submitted_at)
    services.appeal_open(shop=shop, review=target, agent=agent, now=target.submitted_at + dt.timedelta(hours=2),
                         reason="那位买家问的是1.8m床，我回复的尺码是对的，请再看一下第三条消息")
    # The manager calibrates another recent review: a second opinion beside the supervisor's.
    other = low[-1]
    c = services.review_start(shop=shop, reviewer=manager, calibration_of=other, now=other.submitted_at)
    scores = [{"category_id": s.category_id, "chosen": max(s.scale_min, s.chosen - rng.randint(0, 1))}
              for s in other.scores.all() if s.category_id]
    services.review_save(shop=shop, review=c, reviewer=manager, scores=scores, summary="校准：主动推荐偏宽松",
                         submit=True, now=other.submitted_at + dt.timedelta(hours=1))
    return True


def _cases(shop, reviews, supervisor) -> int:
    if not reviews:
        return 0
    best = max(reviews[-20:], key=lambda r: (r.score, r.pk))
    good = services.case_mark(shop=shop, actor=supervisor, kind="good", review=best, title="尺码推荐一次说清",
                              note="先问床垫尺寸和厚度，再给出被套和床单的对应规格，并顺带推荐同系列枕套。")
    services.case_to_script(shop=shop, actor=supervisor, case=good, category="opening", title="尺码一次说清",
                            body="亲，先告诉我床垫的尺寸和厚度哦，我帮您一次把被套、床单的规格选对~")
    angry = (Conversation.objects.filter(shop=shop, flags__kind="anger", agent__isnull=False)
             .order_by("-ended_at", "id").first())
    if angry is None:
        return 1
    services.case_mark(shop=shop, actor=supervisor, kind="bad", conversation=angry, title="买家着急时只回了模板",
                       note="买家连续追问物流，客服两次复制同一句模板，没有查单也没有给出时间，买家情绪升级。")
    return 2


def _knowledge(shop) -> None:
    for p in Product.objects.filter(shop=shop).order_by("id"):
        for key, card in KNOWLEDGE.items():
            if key in p.title:
                services.knowledge_save(shop=shop, actor=None, product=p, **card)
                break


def _script_uses(shop, rng, date_from, date_to) -> None:
    """Picker insertions on a sample of the month's conversations (as agents do when replying)."""
    from kefu.replies.models import Script
    from kefu.replies.services import script_use

    scripts = list(Script.objects.filter(shop=shop, owner__isnull=True, active=True).order_by("id"))
    if not scripts:
        return
    start, end = day_bounds(date_from, shop.tz)[0], day_bounds(date_to, shop.tz)[1]
    convs = list(Conversation.objects.filter(shop=shop, agent__isnull=False, started_at__gte=start,
                                             started_at__lt=end).order_by("id").values_list("id", flat=True))
    picked = rng.sample(convs, min(400, len(convs)))
    for conv in Conversation.objects.filter(pk__in=picked).select_related("agent"):
        reply = Message.objects.filter(shop=shop, customer_id=conv.customer_id, sender="agent",
                                       sent_at__gte=conv.started_at, sent_at__lte=conv.ended_at).first()
        if reply is None:
            continue
        s = scripts[min(len(scripts) - 1, int(rng.expovariate(0.25)))]
        script_use(shop=shop, script_id=s.pk, agent=conv.agent, conversation=conv, now=reply.sent_at)


def _knowledge_fault(shop, supervisor) -> bool:
    from kefu.complaints.models import Complaint

    base = Complaint.objects.filter(shop=shop, against__isnull=False, knowledge_fault__isnull=True)
    c = base.filter(category="product").order_by("id").first() or base.order_by("id").first()
    if c is None:
        return False
    product = Product.objects.filter(shop=shop, title__contains="四件套").order_by("id").first()
    services.knowledge_fault_record(shop=shop, actor=supervisor, complaint=c, product=product,
                                    note="把1.8m床的被套规格说成了200x230，买家收货后不合适")
    return True
