"""Care messages (CRM-3): the product-content check, scheduling, sending through the outbox as SMS,
opt-out honoured forever and the frequency cap (hypothesis over campaign schedules), replies, and
the report recomputed from the rows."""

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from django.conf import settings as dj_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.care import campaigns as C
from kefu.care.models import CareCampaign, CareOptOut, CareReply, CareSend
from kefu.care.selectors import campaign_report
from kefu.care.services import care_settings_update
from kefu.catalog.models import Product
from kefu.core.errors import KefuError
from kefu.core.services import shop_create
from kefu.customers.models import Customer
from kefu.outbound.models import OutboundMessage
from kefu.outbound.services import outbound_mark
from tests.concurrency import race, require_postgresql
from tests.web.data import DAY, chat, order

from .conftest import login

pytestmark = pytest.mark.django_db
TEXT = "天气转凉，早晚温差大，记得给皮膚多补水，出门做好保暖。【测试旗舰店】"


@pytest.fixture
def buyers(shop):
    out = []
    for i in range(4):
        out.append(Customer.objects.create(shop=shop, buyer_id=f"b{i}", phone=f"1380000000{i}"))
    out.append(Customer.objects.create(shop=shop, buyer_id="nophone"))
    return out


def test_content_check_finds_products_prices_links_and_promotions(shop, team):
    Product.objects.create(shop=shop, title="玫瑰精油 10ml 补水", category="精油")
    chat(shop, agent=team["mei"], buyer="x", day=DAY)
    order(shop, order_id="o1", buyer="x", day=DAY)
    from kefu.orders.models import Order

    Order.objects.filter(order_id="o1").update(title="薰衣草舒缓面膜")
    assert C.content_check(shop=shop, text=TEXT) == []  # the shop's own name is the signature
    found = C.content_check(shop=shop, text="换季用玫瑰精油，现在 ¥59 包邮，点 https://x.cn/a 或 tb.cn 领券，敷薰衣草舒缓面膜")
    kinds = {(f["kind"], f["text"]) for f in found}
    assert ("product", "玫瑰精油") in kinds and ("product", "薰衣草舒缓面膜") in kinds
    assert ("price", "¥59") in kinds and ("promo", "包邮") in kinds and ("promo", "领券") in kinds
    assert ("link", "https://x.cn/a") in kinds and ("link", "tb.cn") in kinds
    assert {f["kind"] for f in C.content_check(shop=shop, text="第二件5折，满200减30，才99元")} == {"price"}


def test_schedule_needs_the_warnings_accepted(shop, team, buyers):
    c = C.campaign_save(shop=shop, actor=team["owner"], name="秋季保湿", text="秋天记得补水，满99元包邮")
    with pytest.raises(KefuError) as e:
        C.campaign_schedule(shop=shop, campaign_id=c.pk, scheduled_at=None, actor=team["owner"])
    assert e.value.code == "content_warnings" and "包邮" in e.value.message
    c = C.campaign_schedule(shop=shop, campaign_id=c.pk, scheduled_at=None, actor=team["owner"], accept_warnings=True)
    assert c.state == "scheduled" and {w["kind"] for w in c.warnings} == {"price", "promo"}
    # A change puts it back to draft; agents may not run campaigns.
    c = C.campaign_save(shop=shop, actor=team["owner"], campaign_id=c.pk, text=TEXT)
    assert c.state == "draft" and c.warnings == []
    with pytest.raises(KefuError):
        C.campaign_save(shop=shop, actor=team["mei"], name="x", text="y")
    with pytest.raises(KefuError) as e:
        C.campaign_schedule(shop=shop, campaign_id=c.pk, actor=team["owner"],
                            scheduled_at=(timezone.now() - dt.timedelta(days=1)).isoformat())
    assert e.value.field == "scheduled_at"


def test_sending_writes_sms_to_the_outbox_and_honours_opt_out(shop, team, buyers, settings):
    settings.DATA_DIR = Path(dj_settings.DATA_DIR)
    now = timezone.now()
    C.opt_out_record(shop=shop, customer=buyers[0], source="agent", actor=team["owner"], note="电话里说不要")
    c = C.campaign_save(shop=shop, actor=team["owner"], name="秋季保湿", text=TEXT)
    C.campaign_schedule(shop=shop, campaign_id=c.pk, scheduled_at=None, actor=team["owner"], now=now)
    with pytest.raises(ValueError):
        CareOptOut.objects.get(customer=buyers[0]).delete()
    counts = C.campaigns_send_due(shop=shop, now=now + dt.timedelta(seconds=1))
    assert counts == 1
    by = dict(CareSend.objects.filter(campaign=c).values_list("customer__buyer_id", "outcome"))
    assert by == {"b0": "opted_out", "b1": "queued", "b2": "queued", "b3": "queued", "nophone": "no_phone"}
    msgs = list(OutboundMessage.objects.filter(shop=shop, kind="care").order_by("recipient"))
    assert [(m.channel, m.recipient, m.text) for m in msgs] == [("sms", f"1380000000{i}", TEXT) for i in (1, 2, 3)]
    c.refresh_from_db()
    assert c.state == "done"
    # Resending is a no-op; a second campaign the same day is capped at one per 30 days.
    assert C.campaign_send(shop=shop, campaign_id=c.pk) == {o: 0 for o in ("queued", "opted_out", "capped", "no_phone")}
    care_settings_update(shop=shop, actor=None, cap_count=1)
    c2 = C.campaign_save(shop=shop, actor=team["owner"], name="防晒", text="紫外线强，出门记得防晒。")
    C.campaign_schedule(shop=shop, campaign_id=c2.pk, scheduled_at=None, actor=team["owner"])
    C.campaigns_send_due(shop=shop, now=timezone.now() + dt.timedelta(minutes=1))
    assert set(CareSend.objects.filter(campaign=c2).values_list("outcome", flat=True)) == {"opted_out", "capped",
                                                                                            "no_phone"}


def test_outbox_file_lines_carry_the_sms(shop, team, buyers, tmp_path, settings, django_capture_on_commit_callbacks):
    settings.DATA_DIR = tmp_path
    c = C.campaign_save(shop=shop, actor=team["owner"], name="秋季保湿", text=TEXT)
    C.campaign_schedule(shop=shop, campaign_id=c.pk, scheduled_at=None, actor=team["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        C.campaigns_send_due(shop=shop, now=timezone.now() + dt.timedelta(seconds=1))
    lines = [json.loads(x) for x in (tmp_path / "outbox" / "s1.jsonl").read_text().splitlines()]
    assert sorted((x["channel"], x["kind"], x["recipient"]) for x in lines) == [
        ("sms", "care", f"1380000000{i}") for i in range(4)]


def test_report_and_replies(shop, team, buyers, manager):
    c = C.campaign_save(shop=shop, actor=team["owner"], name="秋季保湿", text=TEXT)
    C.campaign_schedule(shop=shop, campaign_id=c.pk, scheduled_at=None, actor=team["owner"])
    sent_at = timezone.now() + dt.timedelta(seconds=1)
    C.campaigns_send_due(shop=shop, now=sent_at)
    msgs = {m.customer.buyer_id: m for m in OutboundMessage.objects.filter(kind="care").select_related("customer")}
    outbound_mark(shop=shop, message=msgs["b0"], state="sent")
    outbound_mark(shop=shop, message=msgs["b1"], state="sent")
    outbound_mark(shop=shop, message=msgs["b2"], state="failed", error="空号")
    api = login(team["owner"])

    def reply(rid, text, minutes, **who):
        return api.post("/api/v1/care/replies?shop=s1", {"reply_id": rid, "text": text,
                                                        "received_at": (sent_at + dt.timedelta(minutes=minutes)).isoformat(),
                                                        **who}, content_type="application/json")

    assert reply("r1", "谢谢提醒", 5, buyer_id="b0").status_code == 201
    r = reply("r2", "TD", 6, phone="13800000001")
    assert r.status_code == 201 and r.json()["is_opt_out"] and r.json()["campaign_id"] == c.pk
    assert reply("r2", "TD", 6, phone="13800000001").status_code == 200  # a resend changes nothing
    reply("r3", "好的", 60 * 24 * 5, buyer_id="b0")  # after the 3-day window
    assert reply("r4", "hi", 1, buyer_id="nobody").status_code == 404
    report = campaign_report(shop=shop, campaign=c)
    # The same figures by an independent route: the rows, one by one.
    sends = list(CareSend.objects.filter(campaign=c).select_related("outbound"))
    replies = [x for x in CareReply.objects.filter(send__campaign=c).select_related("send")
               if x.received_at - x.send.created_at <= dt.timedelta(days=3)]
    want = {
        "buyers": len(sends), "queued": sum(s.outcome == "queued" for s in sends),
        "sent": sum(s.outbound is not None and s.outbound.state == "sent" for s in sends),
        "failed": sum(s.outbound is not None and s.outbound.state == "failed" for s in sends),
        "waiting": sum(s.outbound is not None and s.outbound.state == "queued" for s in sends),
        "skipped_opted_out": sum(s.outcome == "opted_out" for s in sends),
        "skipped_capped": sum(s.outcome == "capped" for s in sends),
        "skipped_no_phone": sum(s.outcome == "no_phone" for s in sends),
        "replies": len(replies), "replied_buyers": len({x.customer_id for x in replies}),
        "opted_out": sum(1 for o in CareOptOut.objects.filter(shop=shop) if o.reply and o.reply.send
                         and o.reply.send.campaign_id == c.pk),
        "reply_window_days": 3,
    }
    assert report == want
    assert report == {"buyers": 5, "queued": 4, "sent": 2, "failed": 1, "waiting": 1, "skipped_opted_out": 0,
                      "skipped_capped": 0, "skipped_no_phone": 1, "replies": 2, "replied_buyers": 2, "opted_out": 1,
                      "reply_window_days": 3}
    assert api.get(f"/api/v1/care-campaigns/{c.pk}/report?shop=s1").json() == report
    page = login(manager).get(f"/care/campaigns/{c.pk}/").content.decode()
    assert 'data-figure="opted_out">1<' in page and 'data-figure="failed">1<' in page
    assert CareOptOut.objects.get(customer=buyers[1]).source == "reply"


_counter = itertools.count()
START = dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.UTC)


@st.composite
def schedules(draw):
    """Buyers, campaigns at random times, opt-outs at random times, a cap."""
    n_buyers = draw(st.integers(1, 5))
    events = []
    for i in range(draw(st.integers(1, 8))):
        events.append(("campaign", draw(st.integers(0, 90 * 24)), f"c{i}"))
    for b in range(n_buyers):
        if draw(st.booleans()):
            events.append(("opt_out", draw(st.integers(0, 90 * 24)), b))
    cap = (draw(st.integers(1, 3)), draw(st.sampled_from([1, 7, 30])))
    return n_buyers, sorted(events, key=lambda e: (e[1], e[0] != "opt_out")), cap


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=schedules())
def test_no_opted_out_buyer_is_ever_sent_to_and_the_cap_holds(data):
    n_buyers, events, (cap_count, cap_days) = data
    shop = shop_create(code=f"h{next(_counter)}", name="关怀店")
    care_settings_update(shop=shop, actor=None, cap_count=cap_count, cap_days=cap_days)
    buyers = [Customer.objects.create(shop=shop, buyer_id=f"b{i}", phone=f"1390000{i:04d}") for i in range(n_buyers)]
    opted_at: dict[int, dt.datetime] = {}
    for kind, hours, what in events:
        now = START + dt.timedelta(hours=hours)
        if kind == "opt_out":
            C.opt_out_record(shop=shop, customer=buyers[what], source="agent", now=now)
            opted_at.setdefault(buyers[what].pk, now)
        else:
            c = C.campaign_save(shop=shop, actor=None, name=what, text="注意保暖")
            C.campaign_schedule(shop=shop, campaign_id=c.pk, scheduled_at=now, actor=None, now=now)
            C.campaigns_send_due(shop=shop, now=now)
    sends = list(CareSend.objects.filter(shop=shop))
    assert len(sends) == n_buyers * CareCampaign.objects.filter(shop=shop).count()  # every buyer handled once
    queued: dict[int, list[dt.datetime]] = {}
    for s in sends:
        if s.outcome == "queued":
            assert s.customer_id not in opted_at or s.created_at < opted_at[s.customer_id], "sent after opt-out"
            queued.setdefault(s.customer_id, []).append(s.created_at)
        elif s.outcome == "opted_out":
            assert opted_at[s.customer_id] <= s.created_at
    for times in queued.values():
        times.sort()
        for i, t in enumerate(times):
            in_window = [u for u in times[: i + 1] if u > t - dt.timedelta(days=cap_days)]
            assert len(in_window) <= cap_count, (times, cap_count, cap_days)
    assert OutboundMessage.objects.filter(shop=shop).count() == sum(len(v) for v in queued.values())


@pytest.mark.django_db(transaction=True)
def test_two_campaigns_at_once_respect_the_cap():
    require_postgresql()
    shop = shop_create(code="racecare", name="并发关怀")
    care_settings_update(shop=shop, actor=None, cap_count=1, cap_days=30)
    for i in range(30):
        Customer.objects.create(shop=shop, buyer_id=f"b{i}", phone=f"1370000{i:04d}")
    now = timezone.now()
    ids = []
    for name in ("a", "b"):
        c = C.campaign_save(shop=shop, actor=None, name=name, text="注意保暖")
        C.campaign_schedule(shop=shop, campaign_id=c.pk, scheduled_at=now, actor=None, now=now)
        ids.append(c.pk)
    results = race(lambda cid: C.campaign_send(shop=shop, campaign_id=cid, now=now), [(ids[0],), (ids[1],)])
    assert not [r for r in results if isinstance(r, Exception)], results
    per_buyer = {}
    for s in CareSend.objects.filter(shop=shop, outcome="queued"):
        per_buyer[s.customer_id] = per_buyer.get(s.customer_id, 0) + 1
    assert len(per_buyer) == 30 and set(per_buyer.values()) == {1}
    assert CareSend.objects.filter(shop=shop).count() == 60


@pytest.mark.django_db(transaction=True)
def test_the_same_campaign_sent_twice_at_once_sends_once():
    require_postgresql()
    shop = shop_create(code="racecare2", name="并发关怀2")
    for i in range(20):
        Customer.objects.create(shop=shop, buyer_id=f"b{i}", phone=f"1370000{i:04d}")
    now = timezone.now()
    c = C.campaign_save(shop=shop, actor=None, name="a", text="注意保暖")
    C.campaign_schedule(shop=shop, campaign_id=c.pk, scheduled_at=now, actor=None, now=now)
    results = race(lambda: C.campaign_send(shop=shop, campaign_id=c.pk, now=now), [(), ()])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert CareSend.objects.filter(campaign=c).count() == 20
    assert OutboundMessage.objects.filter(shop=shop).count() == 20
