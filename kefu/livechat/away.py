"""Auto-away: a person who closed the workspace (or lost the network) stops being given chats.

Routing gives new chats to agents on shift whose status is online. An agent who closes the browser
stays "online", so buyers would be routed to nobody. While a person's workspace has its event
stream open, the stream writes a heartbeat (WorkspaceHeartbeat: when the stream opens, every
HEARTBEAT_SECONDS and when it ends). A scheduler rule (every minute) sets to away, through the
presence service (recorded like any status change, source "system"), every online person whose
heartbeat is older than the shop's `away_after_minutes` and who was already online when the
workspace was last seen — someone who chose "online" after closing the workspace (answering on
another device or the platform's own client) is left alone.

When the workspace comes back (a reconnect after a network drop, the page reopened; checked at
every heartbeat) and the person's status is still the automatic away, it is set back to online,
again as a recorded change. A person who set themselves away by hand stays away.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kefu.core.models import Agent, Shop
from kefu.workforce.enums import PresenceSource, PresenceStatus
from kefu.workforce.models import AgentPresence, AgentStatusChange

from .models import WidgetSettings, WorkspaceHeartbeat

HEARTBEAT_SECONDS = 60.0
AWAY_LABEL = "接待台已断开"  # actor_label of the automatic changes (history rows)
BACK_LABEL = "接待台已重新连接"


def heartbeat(*, shop_id: int, agent_id: int, now: dt.datetime | None = None) -> None:
    """The person's workspace stream is open now (or just ended)."""
    now = now or timezone.now()
    if WorkspaceHeartbeat.objects.filter(agent_id=agent_id).update(seen_at=now):
        return
    try:
        with transaction.atomic():
            WorkspaceHeartbeat.objects.create(shop_id=shop_id, agent_id=agent_id, seen_at=now)
    except IntegrityError:  # a second tab's first heartbeat won
        WorkspaceHeartbeat.objects.filter(agent_id=agent_id).update(seen_at=now)


def workspace_alive(*, shop_id: int, agent_id: int, now: dt.datetime | None = None) -> bool:
    """A workspace stream is open (called when it opens and every HEARTBEAT_SECONDS): heartbeat, and
    undo an automatic away. Returns whether it set the person back online."""
    from kefu.workforce.services import presence_set

    now = now or timezone.now()
    heartbeat(shop_id=shop_id, agent_id=agent_id, now=now)
    if not AgentPresence.objects.filter(agent_id=agent_id, status=PresenceStatus.AWAY).exists():
        return False
    with transaction.atomic():
        presence = AgentPresence.objects.select_for_update().filter(agent_id=agent_id).first()
        if presence is None or presence.status != PresenceStatus.AWAY or not _was_auto(agent_id):
            return False
        agent = Agent.objects.select_related("shop").get(pk=agent_id)
        presence_set(shop=agent.shop, agent=agent, status=PresenceStatus.ONLINE, source=PresenceSource.SYSTEM,
                     actor=BACK_LABEL, at=now)
    return True


def _was_auto(agent_id: int) -> bool:
    last = (AgentStatusChange.objects.filter(agent_id=agent_id).order_by("-at", "-id")
            .values_list("source", "actor_label", "status").first())
    return last == (PresenceSource.SYSTEM, AWAY_LABEL, PresenceStatus.AWAY)


def away_minutes(shop: Shop) -> int:
    value = WidgetSettings.objects.filter(shop=shop).values_list("away_after_minutes", flat=True).first()
    return 5 if value is None else value


def _gone(shop: Shop, now: dt.datetime):
    """Heartbeats of online people whose workspace is gone longer than the shop allows and who were
    online before it went."""
    minutes = away_minutes(shop)
    if not minutes:
        return WorkspaceHeartbeat.objects.none()
    return WorkspaceHeartbeat.objects.filter(
        shop=shop, seen_at__lt=now - dt.timedelta(minutes=minutes), agent__presence__status=PresenceStatus.ONLINE,
        agent__presence__since__lte=F("seen_at"))


def away_due(*, shop: Shop, now: dt.datetime | None = None) -> bool:
    """Someone is to be set away (one query; the scheduler asks every minute)."""
    return _gone(shop, now or timezone.now()).exists()


def agents_auto_away(*, shop: Shop, now: dt.datetime | None = None) -> list[int]:
    """Set away every online person of the shop whose workspace is gone too long. Each is re-checked
    under their presence lock, so a workspace reopened meanwhile keeps its person online."""
    from kefu.workforce.services import presence_set

    now = now or timezone.now()
    done = []
    for agent_id in list(_gone(shop, now).values_list("agent_id", flat=True)):
        with transaction.atomic():
            presence = AgentPresence.objects.select_for_update().filter(agent_id=agent_id).first()
            if presence is None or presence.status != PresenceStatus.ONLINE:
                continue
            if not _gone(shop, now).filter(agent_id=agent_id).exists():
                continue  # the workspace came back meanwhile
            agent = Agent.objects.get(pk=agent_id)
            presence_set(shop=shop, agent=agent, status=PresenceStatus.AWAY, source=PresenceSource.SYSTEM,
                         actor=AWAY_LABEL, at=now)
            done.append(agent_id)
    return done
