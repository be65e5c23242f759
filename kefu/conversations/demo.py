"""Demo routing: a few buyers writing right now through the live path (routed, or queued when
nobody is online), a supervisor's saved view and an internal note — all through the services."""

import datetime as dt
import random

from django.utils import timezone

from kefu.core.models import Agent, Shop

from .models import Conversation
from .services import messages_clean, messages_ingest, note_add, saved_view_create

LIVE_TEXTS = ["在吗？这款还有货吗", "昨天买的杯子收到破损了，要换货", "能便宜点吗", "什么时候发货呀"]


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    rng = random.Random(f"conversations-{seed}")
    now = timezone.now()
    raws = [{"message_id": f"live-{seed}-{i}", "buyer_id": f"live{seed % 1000:03d}{i}", "buyer_nick": f"新买家{i + 1}",
             "sender": "buyer", "channel": "qianniu", "sent_at": (now - dt.timedelta(minutes=4 - i)).isoformat(),
             "text": LIVE_TEXTS[i]} for i in range(len(LIVE_TEXTS))]
    for raw in raws:  # one by one, as a platform connector posts them
        messages_ingest(shop=shop, rows=messages_clean([raw], tz=shop.tz, routed=True), route=True, now=now)
    queued = Conversation.objects.filter(shop=shop, queued_at__isnull=False, assignee__isnull=True).count()
    supervisor = Agent.objects.filter(shop=shop, roles__contains="supervisor").order_by("id").first()
    if supervisor is not None:
        saved_view_create(shop=shop, owner=supervisor, name="售后待回复", params={"group": "aftersales", "waiting": "1"})
    recent = list(Conversation.objects.filter(shop=shop, agent__isnull=False).order_by("-ended_at")[:20])
    if recent:
        conv = rng.choice(recent)
        note_add(shop=shop, conversation=conv, by=conv.agent, text="买家说下周再来看看，注意跟进。")
    say(f"{len(raws)} live buyers routed ({queued} queued), a saved view and an internal note")
