"""Auto-away: an online person whose workspace stream has been gone longer than the shop allows is
set away through the presence service (recorded, pushed), so routing stops giving them chats; the
workspace coming back sets them online again; a person who chose a status by hand is left alone."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from kefu.conversations.models import Conversation
from kefu.core.scheduler import tick
from kefu.livechat import away
from kefu.livechat.events import Viewer, replay
from kefu.livechat.models import WorkspaceHeartbeat
from kefu.livechat.settings_services import widget_settings_update
from kefu.workforce.models import AgentPresence, AgentStatusChange
from kefu.workforce.services import presence_set

from .conftest import Buyer, on_shift, person, staff

pytestmark = pytest.mark.django_db

T0 = timezone.now()


def _online_with_workspace(shop, name, *, online_at, seen_at):
    a = person(shop, name, username=f"u{abs(hash(name)) % 10**6}")
    on_shift(shop, [a], status=None)
    presence_set(shop=shop, agent=a, status="online", by=a, at=online_at)
    away.heartbeat(shop_id=shop.pk, agent_id=a.pk, now=seen_at)
    return a


def _status(a) -> str:
    return AgentPresence.objects.get(agent=a).status


def test_a_closed_workspace_sets_its_person_away_and_routing_passes_them_by(shop, widget):
    gone = _online_with_workspace(shop, "小美", online_at=T0 - dt.timedelta(minutes=30),
                                  seen_at=T0 - dt.timedelta(minutes=6))
    here = _online_with_workspace(shop, "阿强", online_at=T0 - dt.timedelta(minutes=30),
                                  seen_at=T0 - dt.timedelta(minutes=4))
    assert away.away_due(shop=shop, now=T0)
    assert away.agents_auto_away(shop=shop, now=T0) == [gone.pk]
    assert (_status(gone), _status(here)) == ("away", "online")
    change = AgentStatusChange.objects.filter(agent=gone).latest("at")
    assert (change.previous, change.status, change.source, change.actor_label) == \
        ("online", "away", "system", away.AWAY_LABEL)
    assert not away.away_due(shop=shop, now=T0)  # done once
    # The supervisors' live view is told; new chats go to the person still there.
    sup = person(shop, "主管", roles=("supervisor",), group="", username="sup")
    assert any(e.kind == "presence" and e.agent_id == gone.pk and e.data["status"] == "away"
               for e in replay(viewer=Viewer.of_member(sup), after=0))
    for _ in range(3):
        Buyer(widget).send("在吗")
    assert set(Conversation.objects.filter(shop=shop).values_list("assignee_id", flat=True)) == {here.pk}


def test_the_workspace_coming_back_sets_an_auto_away_person_online_but_not_a_chosen_away(shop):
    a = _online_with_workspace(shop, "小美", online_at=T0 - dt.timedelta(minutes=30), seen_at=T0 - dt.timedelta(minutes=9))
    b = _online_with_workspace(shop, "阿强", online_at=T0 - dt.timedelta(minutes=30), seen_at=T0 - dt.timedelta(minutes=9))
    assert sorted(away.agents_auto_away(shop=shop, now=T0)) == sorted([a.pk, b.pk])
    presence_set(shop=shop, agent=b, status="away", by=b, at=T0 + dt.timedelta(seconds=5))  # no change: already away
    presence_set(shop=shop, agent=b, status="offline", by=b, at=T0 + dt.timedelta(seconds=6))
    presence_set(shop=shop, agent=b, status="away", by=b, at=T0 + dt.timedelta(seconds=7))  # chosen by hand
    assert away.workspace_alive(shop_id=shop.pk, agent_id=a.pk, now=T0 + dt.timedelta(minutes=1)) is True
    assert away.workspace_alive(shop_id=shop.pk, agent_id=b.pk, now=T0 + dt.timedelta(minutes=1)) is False
    assert (_status(a), _status(b)) == ("online", "away")
    back = AgentStatusChange.objects.filter(agent=a).latest("at")
    assert (back.status, back.source, back.actor_label) == ("online", "system", away.BACK_LABEL)
    assert away.workspace_alive(shop_id=shop.pk, agent_id=a.pk, now=T0 + dt.timedelta(minutes=2)) is False


def test_online_chosen_after_the_workspace_closed_is_left_alone_and_zero_turns_it_off(shop):
    # Chose "online" after closing the workspace (e.g. answering in the platform's own client).
    a = _online_with_workspace(shop, "小美", online_at=T0 - dt.timedelta(minutes=5), seen_at=T0 - dt.timedelta(minutes=40))
    b = _online_with_workspace(shop, "阿强", online_at=T0 - dt.timedelta(minutes=60), seen_at=T0 - dt.timedelta(minutes=40))
    widget_settings_update(shop=shop, away_after_minutes=0)
    assert not away.away_due(shop=shop, now=T0) and away.agents_auto_away(shop=shop, now=T0) == []
    widget_settings_update(shop=shop, away_after_minutes=30)
    assert away.agents_auto_away(shop=shop, now=T0) == [b.pk]
    assert (_status(a), _status(b)) == ("online", "away")
    # Never opened the workspace: no heartbeat, never touched.
    c = person(shop, "小林", username="xiaolin")
    presence_set(shop=shop, agent=c, status="online", by=c, at=T0 - dt.timedelta(hours=3))
    assert away.agents_auto_away(shop=shop, now=T0 + dt.timedelta(hours=1)) == []


def test_the_setting_is_checked(shop, widget):
    from kefu.core.errors import KefuError

    for bad in (-1, 241, "5", True, 2.5):
        with pytest.raises(KefuError) as exc:
            widget_settings_update(shop=shop, away_after_minutes=bad)
        assert exc.value.field == "away_after_minutes"


def test_the_scheduler_fires_the_rule_once_a_minute_when_someone_is_due(shop, django_capture_on_commit_callbacks):
    m = T0.replace(second=5, microsecond=0)
    _online_with_workspace(shop, "小美", online_at=m - dt.timedelta(minutes=30), seen_at=m - dt.timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        fired = [f for f in tick(m) if f[0] == "livechat.auto_away"]
        again = [f for f in tick(m + dt.timedelta(seconds=30)) if f[0] == "livechat.auto_away"]
    assert len(fired) == 1 and again == [] and queued
    assert [f for f in tick(m - dt.timedelta(minutes=3)) if f[0] == "livechat.auto_away"] == []  # not due then


def test_the_workspace_stream_writes_the_heartbeat_while_open_and_when_it_ends(shop, kf, monkeypatch):
    from kefu.livechat import stream

    monkeypatch.setattr(stream, "KEEPALIVE", 0.05)
    monkeypatch.setattr(stream, "HEARTBEAT", 0.0)
    monkeypatch.setattr(stream.hub, "_ensure_thread", lambda: None)  # no event source needed here
    # request_finished (resp.close()) must not close the test's own connection, inside its transaction
    monkeypatch.setattr(connection, "close_if_unusable_or_obsolete", lambda: None)
    c = staff(kf)
    resp = c.get(f"/live/stream?workspace=1&shop={shop.code}")
    chunks = iter(resp.streaming_content)
    next(chunks)  # hello: the stream is open
    first = WorkspaceHeartbeat.objects.get(agent=kf).seen_at
    next(chunks)  # a keepalive later: beat again
    second = WorkspaceHeartbeat.objects.get(agent=kf).seen_at
    resp.close()  # the client went away (the generator is closed)
    assert first <= second <= WorkspaceHeartbeat.objects.get(agent=kf).seen_at
    # The live view's stream (no ?workspace=1) does not count as the workspace.
    WorkspaceHeartbeat.objects.all().delete()
    resp = c.get(f"/live/stream?shop={shop.code}")
    chunks = iter(resp.streaming_content)
    next(chunks)
    resp.close()
    assert not WorkspaceHeartbeat.objects.exists()
