import datetime as dt

import pytest
from django.utils import timezone

from kefu.complaints.models import ServiceRating
from kefu.conversations.models import Conversation, Message
from kefu.core.timeutil import shop_day
from kefu.livechat.demo import CHATS, demo_extend
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
