"""The integrations pages as each role sees them; another shop's ids answer 404."""

import pytest
from django.test import Client

from kefu.core.services import person_create
from kefu.customers.models import Customer
from kefu.integrations.models import AutomationRule, WebhookSubscription

pytestmark = pytest.mark.django_db


def login(person):
    c = Client()
    c.force_login(person.user)
    return c


def test_manager_subscribes_and_writes_the_vip_rule_on_the_page(shop, manager, manager_client, receiver,
                                                                django_assert_max_num_queries):
    boss = person_create(shop=shop, name="王主管", username="boss", password="pass-word-1", roles=["supervisor"])
    page = manager_client.get("/integrations/")
    assert page.status_code == 200 and "还没有订阅" in page.content.decode()
    r = manager_client.post("/integrations/webhooks/new/", {"name": "本地接收端", "url": receiver.url,
                                                            "event_types": ["*"]})
    sub = WebhookSubscription.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/integrations/webhooks/{sub.pk}/"
    detail = manager_client.get(r["Location"]).content.decode()
    assert sub.secret in detail and "还没有投递" in detail
    r = manager_client.post("/integrations/rules/new/", {
        "name": "VIP 投诉", "event_type": "message.created", "c_sender": "buyer", "c_keywords": "投诉",
        "c_buyer_grade": "VIP", "a0_type": "assign", "a0_who": "supervisor", "a1_type": "notify",
        "a1_who": str(boss.pk), "active": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    rule = AutomationRule.objects.get()
    assert [c["field"] for c in rule.conditions] == ["sender", "keywords", "buyer_grade"]
    assert rule.actions == [{"type": "assign", "role": "supervisor"}, {"type": "notify", "agent_id": boss.pk, "text": ""}]
    page = manager_client.get(f"/integrations/rules/{rule.pk}/").content.decode()
    assert "VIP 投诉" in page and "投诉" in page
    dry = manager_client.post(f"/integrations/rules/{rule.pk}/", {"action": "dry_run", "days": "30"})
    assert dry.status_code == 200 and "没有命中" in dry.content.decode()
    with django_assert_max_num_queries(15):
        assert manager_client.get("/integrations/").status_code == 200
    # a bad URL is refused with the reason, nothing saved
    bad = manager_client.post("/integrations/webhooks/new/", {"name": "x", "url": "ftp://x/", "event_types": ["*"]})
    assert bad.status_code == 400 and "http" in bad.content.decode()
    assert WebhookSubscription.objects.count() == 1
    assert manager_client.get("/integrations/events/").status_code == 200


def test_roles_and_shops(shop, other_shop, manager, agent_person):
    sub = WebhookSubscription.objects.create(shop=shop, name="x", url="http://127.0.0.1:9/", secret="s" * 20,
                                             event_types=["*"])
    rule = AutomationRule.objects.create(shop=shop, name="r", event_type="message.created",
                                         actions=[{"type": "escalate"}])
    agent = login(agent_person)
    assert agent.get("/integrations/").status_code == 404  # agents do not manage integrations
    boss = login(person_create(shop=shop, name="主管", username="boss", password="pass-word-1", roles=["supervisor"]))
    page = boss.get(f"/integrations/webhooks/{sub.pk}/").content.decode()
    assert "s" * 20 in page and "删除" not in page  # supervisors read, managers change
    assert boss.post(f"/integrations/rules/{rule.pk}/", {"action": "delete"}).status_code == 403
    other = login(person_create(shop=other_shop, name="别家", username="m2", password="pass-word-1", roles=["manager"]))
    for url in (f"/integrations/webhooks/{sub.pk}/", f"/integrations/rules/{rule.pk}/"):
        assert other.get(url).status_code == 404
        assert other.post(url, {"action": "delete"}).status_code == 404
    assert AutomationRule.objects.exists() and WebhookSubscription.objects.exists()


def test_order_page_shows_the_tracking_timeline(shop, manager_client, api):
    import datetime as dt
    import json

    from django.utils import timezone

    from kefu.integrations.models import TrackingEvent
    from kefu.orders.models import Order

    cust = Customer.objects.create(shop=shop, buyer_id="b1")
    Order.objects.create(shop=shop, order_id="T9", customer=cust, tracking_no="ZT1", status="paid",
                         created_at=dt.datetime(2026, 11, 1, tzinfo=shop.tz))
    page = manager_client.get("/orders/T9/").content.decode()
    assert "还没有物流轨迹" in page
    api.post("/api/v1/tracking/push", content_type="application/json", data=json.dumps({"events": [
        {"number": "ZT1", "state": "1", "time": "2026-11-01 18:00:00", "context": "【广州】已揽收"}]}))
    page = manager_client.get("/orders/T9/").content.decode()
    assert "【广州】已揽收" in page and "2026-11-01 18:00" in page
    # the order's timeline too says when the parcel was scanned; the tracking card adds when it came
    timeline = page.split('id="timeline"')[1]
    assert "2026-11-01 18:00" in timeline.split("已揽收")[0].rsplit("<li>", 1)[1]
    received = timezone.localtime(TrackingEvent.objects.get().received_at, shop.tz).strftime("%Y-%m-%d %H:%M")
    assert f"{received} 收到" in page.split('id="tracking"')[1]


def test_failing_since_reads_as_a_sentence_in_both_languages(shop, manager_client, receiver):
    import datetime as dt

    from django.utils import timezone

    manager_client.post("/integrations/webhooks/new/", {"name": "接收端", "url": receiver.url,
                                                        "event_types": ["*"]})
    sub = WebhookSubscription.objects.get()
    since = timezone.now() - dt.timedelta(hours=3)
    WebhookSubscription.objects.filter(pk=sub.pk).update(failures=4, failing_since=since)
    shown = timezone.localtime(since, shop.tz).strftime("%Y-%m-%d %H:%M")
    html = manager_client.get(f"/integrations/webhooks/{sub.pk}/").content.decode()
    assert f"4（自 {shown} 起）" in html
    manager_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = manager_client.get(f"/integrations/webhooks/{sub.pk}/").content.decode()
    assert f"4（since {shown}）" in html and "自" not in html.split("Failures in a row")[1][:200]
