"""Demo scripts: the defaults of seed 000 §5, courier fees, a 双11 campaign script and the personal
opening lines of some agents (001), all through the services."""

import datetime as dt
import random

from kefu.core.models import Agent, Shop

from .models import Script
from .services import (
    opening_line_set,
    script_create,
    script_settings_update,
    script_use,
    scripts_install_defaults,
)

OPENINGS = (
    "哈喽{买家昵称}～我是{客服}，今天由我陪您挑床品，有什么想法尽管说哦~",
    "亲爱的{买家昵称}，欢迎来到{店铺}！我是爱笑的{客服}，睡个好觉从选对四件套开始~",
    "您好呀，{客服}在线～{买家昵称}想看哪款？我给您挑最适合的尺寸哈",
    "{买家昵称}晚上好～我是夜班的{客服}，这么晚还在逛，一定是想睡得更舒服吧~",
    "亲亲好，{客服}为您服务！先告诉我床的尺寸，我帮您一次选对哦",
)


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    rng = random.Random(f"replies-{seed}")
    created = scripts_install_defaults(shop)
    script_settings_update(shop=shop, actor=None, courier_fees={"中通快递": "8", "圆通速递": "8", "申通快递": "10",
                                                               "顺丰速运": "22"},
                           fee_link="https://item.taobao.com/item.htm?id=补运费")
    script_create(shop=shop, actor=None, category="campaign", title="双11预售提醒", key="campaign.double11",
                  body="{买家昵称}，双11活动进行中：全店满299减30，被芯买一送枕套一对，{日期}下单最划算哦~",
                  starts_on=date_to - dt.timedelta(days=10), ends_on=date_to + dt.timedelta(days=10))
    agents = list(Agent.objects.filter(shop=shop, active=True, roles__contains="agent").order_by("name")[:20])
    chosen = rng.sample(agents, min(len(OPENINGS), len(agents)))
    for agent, body in zip(chosen, OPENINGS, strict=False):
        opening_line_set(shop=shop, member=agent, body=body)
    # Usage as the picker counts it, so the library shows the popular scripts first.
    for s in Script.objects.filter(shop=shop, owner__isnull=True).order_by("id"):
        for _ in range(rng.randint(0, 12)):
            script_use(shop=shop, script_id=s.pk)
    say(f"{created} default scripts, a campaign script and {len(chosen)} personal opening lines")
