"""Demo customer care: promotions, product pairs, grades computed from the month of orders and a
few manual grades, all through the services."""

import datetime as dt
import random

from kefu.catalog.models import Product
from kefu.core.models import Agent, Shop

from .models import CustomerGrade
from .services import grade_override_set, grades_recompute, product_pair_add, promotion_save


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    rng = random.Random(f"crm-{seed}")
    products = list(Product.objects.filter(shop=shop).order_by("id"))
    by_cat: dict[str, list[Product]] = {}
    for p in products:
        by_cat.setdefault(p.category, []).append(p)
    promotion_save(shop=shop, actor=None, name="全店满减", discount_text="全店满299减30，满599减80",
                   starts_on=date_to - dt.timedelta(days=10), ends_on=date_to + dt.timedelta(days=10))
    if "被子" in by_cat:
        promotion_save(shop=shop, actor=None, name="被芯送枕套", discount_text="任意被芯送纯棉枕套一对",
                       category="被子", starts_on=date_from, ends_on=date_to + dt.timedelta(days=20))
    if "毛巾浴巾" in by_cat:
        promotion_save(shop=shop, actor=None, name="毛巾第二件半价", discount_text="毛巾浴巾第二件半价",
                       product_ids=[p.pk for p in by_cat["毛巾浴巾"]], starts_on=date_to - dt.timedelta(days=3),
                       ends_on=date_to + dt.timedelta(days=4))
    pairs = 0
    for a, b in (("床品套件", "枕头"), ("被子", "床品套件"), ("床垫", "床品套件"), ("毛巾浴巾", "地毯地垫")):
        if by_cat.get(a) and by_cat.get(b):
            product_pair_add(shop=shop, actor=None, product_id=by_cat[a][0].pk, related_id=by_cat[b][0].pk,
                             note="搭配购买更划算")
            pairs += 1
    changed = grades_recompute(shop=shop)
    supervisor = Agent.objects.filter(shop=shop, roles__contains="supervisor").first()
    graded = list(CustomerGrade.objects.filter(shop=shop, orders__gte=1).order_by("id")
                  .select_related("customer")[:200])
    for g in rng.sample(graded, min(3, len(graded))):
        grade_override_set(shop=shop, customer=g.customer, grade="VIP", reason="老客户转介绍多位朋友购买",
                           actor=supervisor)
    say(f"promotions, {pairs} product pairs, {changed} buyer grades")
