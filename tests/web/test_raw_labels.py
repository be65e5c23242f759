"""Raw codes and untranslated words found on the walk (issue 12, item 5): each shows as a word people
use, in the UI's language."""

import pytest
from django.template import Context, Template
from django.utils import translation

from kefu.core.models import Agent
from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.outbound.services import send
from kefu.sla.enums import ClockState, Outcome
from kefu.web.formatting import channel_text

pytestmark = pytest.mark.django_db


def test_outbox_shows_the_channel_by_name(shop, manager_client):
    buyer = Customer.objects.create(shop=shop, buyer_id="b1")
    send(shop=shop, channel="", to_buyer=buyer, text="在的亲", key="k1")  # stored as "generic"
    send(shop=shop, channel="qianniu", to_buyer=buyer, text="好的", key="k2")
    send(shop=shop, channel="sms", to_buyer=buyer, text="您的包裹", key="k3", recipient="13800000000")
    cells = {c.split(">")[-1] for c in manager_client.get("/outbox/").content.decode().split("</td>")}
    assert {"通用", "千牛", "短信"} <= cells and not {"generic", "qianniu", "sms"} & cells
    manager_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    cells = {c.split(">")[-1] for c in manager_client.get("/outbox/").content.decode().split("</td>")}
    assert {"Generic", "Qianniu", "SMS"} <= cells and "generic" not in cells


def test_channel_names():
    with translation.override("zh-hans"):
        assert channel_text("") == "通用" and channel_text("qianniu") == "千牛"
        assert channel_text("someplatform") == "someplatform"  # an unknown platform's own code
    with translation.override("en"):
        assert channel_text("jd") == "JD" and channel_text("generic") == "Generic"


def test_agent_group_text(shop):
    loner = person_create(shop=shop, name="甲", username="jia", password="pass-word-1", group="")
    assert Agent.objects.get(pk=loner.pk).group_text == "—"
    with translation.override("en"):
        assert person_create(shop=shop, name="乙", username="yi", password="pass-word-1").group_text == "Pre-sales"


def test_overdue_not_breached_in_english():
    with translation.override("en"):
        assert str(ClockState.MISSED.label) == "Overdue"
        assert str(Outcome.ACTIVE_MISSED.label) == "Running (already overdue)"
        html = Template("{% load i18n %}{% translate '已超时未回复/未解决' %}").render(Context())
        assert "breach" not in html.lower() and "Overdue" in html


def test_language_menu_names_each_language_in_itself(manager_client):
    for lang in ("zh-hans", "en"):
        manager_client.post("/i18n/setlang/", {"language": lang, "next": "/"})
        html = manager_client.get("/").content.decode()
        assert ">简体中文</button>" in html and ">English</button>" in html
        assert "英语" not in html and ">Chinese" not in html
