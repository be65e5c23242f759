import datetime as dt

import pytest
from django.utils import timezone

from kefu.complaints.models import ServiceRating
from kefu.conversations.models import Conversation, Message
from kefu.core.timeutil import shop_day
from kefu.livechat.demo import CHATS, _chats_start, demo_extend
from kefu.livechat.models import WidgetSettings
from kefu.metrics.kpi import kpi_report

from .conftest import drained, person

pytestmark = pytest.mark.django_db


def test_demo_web_chats_go_through_the_services(shop):
    kf01 = person(shop, "小美", username="kf01")
    said = []
    demo_extend(shop=shop, seed=7, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 1, 31), say=said.append)
    assert WidgetSettings.objects.filter(shop=shop).exists()
    assert Message.objects.filter(shop=shop, channel="webchat").count() == sum(len(c) for c in CHATS) + 1  # + CSAT invite
    assert Conversation.objects.filter(shop=shop, assignee=kf01).count() == 2
    assert ServiceRating.objects.get().score == 5
    drained(shop)  # the worker's part (the demo's chats leave their buyers marked, as any ingest)
    day = shop_day(timezone.now(), shop.tz)
    rows = {r["agent"]: r for r in kpi_report(shop=shop, date_from=day - dt.timedelta(days=1), date_to=day)["agents"]}
    assert rows["小美"]["replied_receptions"] == 2 and rows["小美"]["ratings_satisfied"] == 1
    assert "2 web-chat buyers" in said[0]


def test_demo_chats_fall_inside_the_agents_latest_shift(shop):
    """A demo built at night must not show 小美 answering off duty (the demo test caught it at 00:05)."""
    from kefu.workforce.services import roster_pattern_apply, shift_create

    kf01 = person(shop, "小美", username="kf01")
    day_shift = shift_create(shop=shop, name="白班", start="08:00", end="17:00")
    monday = dt.date(2026, 3, 2)
    roster_pattern_apply(shop=shop, date_from=monday, date_to=monday + dt.timedelta(days=1),
                         pattern={kf01: {0: day_shift, 1: day_shift}})

    def at(day, hour, minute=0):
        return dt.datetime.combine(monday + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=shop.tz)

    assert _chats_start(kf01, at(0, 23, 30)) == at(0, 16, 30)  # after the shift: its last half hour
    assert _chats_start(kf01, at(1, 10)) == at(1, 9, 30)  # during it: the last half hour
    assert _chats_start(kf01, at(1, 8, 20)) == at(1, 8, 0)  # just begun: from its start
    assert _chats_start(kf01, at(1, 8, 5)) == at(0, 16, 30)  # too little of it yet: the day before
