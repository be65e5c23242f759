"""Demo live chat: the shop's widget, and two web-chat buyers from the last half hour of 小美's (kf01)
latest shift — one picked up from the queue and answered, one answered, ended and rated — all through
the services, so the workspace, the KPI dashboard and the CSAT figures show web chat from the start."""

import datetime as dt

from django.utils import timezone

from kefu.conversations.models import Conversation
from kefu.conversations.services import conversation_reply, conversation_transfer
from kefu.core.models import Agent, Shop
from kefu.workforce.models import RosterEntry

from . import services
from .identity import visitor_session, widget_settings_of

CHATS = [
    [("buyer", "你好，这款四件套是纯棉的吗？"), ("agent", "亲，是100%新疆长绒棉的哦，亲肤不起球～"),
     ("buyer", "1.8米的床用哪个尺寸"), ("agent", "选2.0m床单款就可以，被套200×230")],
    [("buyer", "下单后多久发货"), ("agent", "亲，16点前下单当天发，明天就能到～"), ("buyer", "好的谢谢")],
]


# The chats take about 13 minutes from the first message to the rating.
SPAN = dt.timedelta(minutes=15)


def _chats_start(agent: Agent, now: dt.datetime) -> dt.datetime:
    """When the demo chats begin: within the last half hour, but inside the agent's latest shift (a
    demo built at night puts them at the end of the day shift, never an agent answering off duty)."""
    entry = RosterEntry.objects.filter(agent=agent, starts_at__lte=now - SPAN).order_by("-starts_at").first()
    if entry is None:
        return now - 2 * SPAN
    end = min(now, entry.ends_at)
    return max(entry.starts_at, end - dt.timedelta(minutes=30))


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    widget = widget_settings_of(shop)
    agent = (Agent.objects.filter(shop=shop, user__username="kf01").first()
             or Agent.objects.filter(shop=shop, roles__contains="agent", user__isnull=False).order_by("id").first())
    if agent is None:
        say("web chat: widget only (no agent with a login)")
        return
    start = _chats_start(agent, timezone.now())
    for n, lines in enumerate(CHATS):
        visitor, _ = visitor_session(widget=widget, user_agent="demo", page="/demo/site/", now=start)
        at = start + dt.timedelta(minutes=10 * n)
        conv = None
        for i, (who, text) in enumerate(lines):
            at += dt.timedelta(seconds=25 + 10 * i)
            if who == "buyer":
                services.buyer_message_send(visitor=visitor, client_id=f"demo-{seed}-{n}-{i}", text=text, now=at)
                continue
            conv = conv or Conversation.objects.get(shop=shop, customer=visitor.customer)
            if (conv.assignee_id or conv.agent_id) != agent.pk:
                conv = conversation_transfer(shop=shop, conversation=conv, to_agent=agent, by=agent, now=at)
            conversation_reply(shop=shop, conversation=conv, by=agent, text=text, key=f"demo-{seed}-{n}-{i}", now=at)
        if n == 1 and conv is not None:
            conv.refresh_from_db()
            services.chat_close(shop=shop, conversation=conv, by=agent, now=at + dt.timedelta(seconds=30))
            from kefu.complaints.models import RatingInvitation

            inv = RatingInvitation.objects.filter(shop=shop, customer=visitor.customer).first()
            if inv is not None:
                services.buyer_rating(visitor=visitor, invitation_id=inv.pk, score=5, comment="回复很快，很专业")
    say(f"web chat: widget {widget.key}, {len(CHATS)} web-chat buyers answered by {agent.name} (try /demo/site/)")
