"""The widget's public endpoints: sessions and identity, messages through the one ingestion path,
images, tenancy of the shop key, rate limits."""

import pytest
from django.test import Client

from kefu.conversations.models import Conversation, Message
from kefu.core.services import shop_create
from kefu.livechat.enums import CHANNEL, IdentityKind
from kefu.livechat.identity import identity_hash, widget_settings_of
from kefu.livechat.models import ChatAttachment, LiveEvent, Visitor

from .conftest import Buyer, png_bytes

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_gets_a_token_and_its_history_back(widget, kf):
    b = Buyer(widget)
    assert b.status == 200 and b.token and b.data["kind"] == IdentityKind.ANONYMOUS and b.data["online"] is True
    assert b.send("在吗").status_code == 201
    again = Buyer(widget, visitor_token=b.token)
    assert again.token is None  # the browser's token stays valid
    assert [m["text"] for m in again.data["history"]] == ["在吗"]
    stranger = Buyer(widget)
    assert stranger.data["history"] == [] and stranger.token != b.token


def test_message_goes_through_ingestion_routed_to_the_agent_on_shift(shop, widget, kf):
    b = Buyer(widget)
    r = b.send("这款还有货吗", order_id="")
    assert r.status_code == 201
    m = Message.objects.get(shop=shop)
    assert (m.channel, m.sender, m.agent_id, m.text) == (CHANNEL, "buyer", kf.pk, "这款还有货吗")
    conv = Conversation.objects.get(shop=shop)
    assert conv.assignee_id == kf.pk and conv.waiting is True
    kinds = list(LiveEvent.objects.filter(shop=shop).values_list("kind", flat=True))
    assert "assigned" in kinds and "message" in kinds


def test_resend_with_the_same_client_id_changes_nothing(shop, widget, kf):
    b = Buyer(widget)
    assert b.send("你好", client_id="c1").status_code == 201
    r = b.send("你好", client_id="c1")
    assert r.status_code == 200 and r.json()["created"] is False
    assert Message.objects.filter(shop=shop).count() == 1
    assert LiveEvent.objects.filter(shop=shop, kind="message").count() == 1


def test_verified_identity_is_accepted_and_a_forged_one_refused(shop, widget, kf):
    good = Buyer(widget, user_id="u-42", user_hash=identity_hash(widget.identity_secret, "u-42"), user_name="老王")
    assert good.status == 200 and good.data["kind"] == IdentityKind.VERIFIED
    good.send("我是会员")
    v = Visitor.objects.get(pk=Visitor.objects.filter(kind=IdentityKind.VERIFIED).values("pk")[:1])
    assert v.customer.buyer_id == "u-42" and v.customer.nick == "老王"
    forged = Buyer(widget, user_id="u-42", user_hash=identity_hash("not-the-secret", "u-42"))
    assert forged.status == 403 and forged.data["code"] == "identity_refused"
    unsigned = Buyer(widget, user_id="u-42")
    assert unsigned.status == 403
    # The verified buyer's history on another device, but never with the anonymous token of that device.
    other_device = Buyer(widget, user_id="u-42", user_hash=identity_hash(widget.identity_secret, "u-42"))
    assert [m["text"] for m in other_device.data["history"]] == ["我是会员"]
    logged_out = Buyer(widget, visitor_token=good.token)
    assert logged_out.data["history"] == [] and logged_out.data["kind"] == IdentityKind.ANONYMOUS


def test_rotating_the_secret_refuses_old_signatures(shop, widget, kf):
    from kefu.livechat.settings_services import widget_secret_rotate

    old = identity_hash(widget.identity_secret, "u-1")
    widget_secret_rotate(shop=shop)
    assert Buyer(widget_settings_of(shop), user_id="u-1", user_hash=old).status == 403


def test_shop_key_of_shop_a_never_reaches_shop_b(shop, widget, kf):
    other = shop_create(code="b2", name="乙店")
    widget_b = widget_settings_of(other)
    a_buyer = Buyer(widget)
    a_buyer.send("A 店的消息")
    # A's session token used with B's key: refused, nothing written in B.
    c = Client()
    r = c.post(f"/live/w/{widget_b.key}/messages", '{"client_id": "x", "text": "hi"}', content_type="application/json",
               HTTP_X_KEFU_SESSION=a_buyer.session)
    assert r.status_code == 404
    assert c.get(f"/live/w/{widget_b.key}/messages", HTTP_X_KEFU_SESSION=a_buyer.session).status_code == 404
    # A's visitor token presented at B: a new, empty visitor of B (A's history never shows).
    at_b = Buyer(widget_b, visitor_token=a_buyer.token)
    assert at_b.data["history"] == [] and at_b.token != a_buyer.token
    assert not Message.objects.filter(shop=other).exists()
    # An image of A is not readable with B's key nor by another visitor of A.
    a_buyer.image(png_bytes())
    att = ChatAttachment.objects.get()
    assert c.get(f"/live/w/{widget_b.key}/images/{att.pk}?t={a_buyer.session}").status_code == 404
    stranger = Buyer(widget)
    assert c.get(f"/live/w/{widget.key}/images/{att.pk}?t={stranger.session}").status_code == 404
    assert c.get(f"/live/w/{widget.key}/images/{att.pk}?t={a_buyer.session}").status_code == 200


def test_unknown_or_disabled_key_and_bad_session_answer_clearly(shop, widget):
    c = Client()
    assert c.post("/live/w/wk_nope/session", "{}", content_type="application/json").status_code == 404
    widget.enabled = False
    widget.save()
    assert c.post(f"/live/w/{widget.key}/session", "{}", content_type="application/json").status_code == 404
    widget.enabled = True
    widget.save()
    r = c.post(f"/live/w/{widget.key}/messages", '{"text": "x", "client_id": "1"}', content_type="application/json",
               HTTP_X_KEFU_SESSION="forged")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


@pytest.mark.parametrize("body,field", [
    ({"client_id": "a", "text": ""}, "text"),
    ({"client_id": "a", "text": "x" * 1001}, "text"),
    ({"client_id": "", "text": "hi"}, "client_id"),
    ({"client_id": "a", "text": ["no"]}, "text"),
    ({"client_id": "a", "text": "hi", "order_id": "x" * 65}, "order_id"),
])
def test_bad_messages_are_refused_naming_the_field(widget, kf, body, field):
    b = Buyer(widget)
    r = b.post("/messages", body)
    assert r.status_code == 400 and r.json()["field"] == field
    assert not Message.objects.exists()


def test_garbage_bodies_never_500(widget, kf):
    b = Buyer(widget)
    for raw in (b"not json", b"[1,2]", b"\xff\xfe", b"{" * 5000):
        r = b.c.post(b.base + "/messages", raw, content_type="application/json", HTTP_X_KEFU_SESSION=b.session)
        assert r.status_code == 400, raw[:10]


def test_images_are_checked_by_content_and_size(shop, widget, kf, settings):
    b = Buyer(widget)
    r = b.image(png_bytes(), name="photo.png", client_id="i1")
    assert r.status_code == 201
    msg = Message.objects.get(shop=shop)
    att = ChatAttachment.objects.get(message=msg)
    assert msg.text == "[图片]" and att.content_type == "image/png" and (att.width, att.height) == (8, 6)
    assert b.image(png_bytes(), client_id="i1").status_code == 200  # a resend: same message
    assert ChatAttachment.objects.count() == 1
    assert b.image(b"MZ\x90\x00 not an image", name="x.png", client_id="i2").status_code == 400
    settings.KEFU_LIVE_IMAGE_MAX_MB = 0
    r = b.image(png_bytes(), client_id="i3")
    assert r.status_code == 413 and r.json()["code"] == "file_size"
    assert Message.objects.filter(shop=shop).count() == 1


def test_rate_limits_per_visitor_and_per_address(widget, kf, settings, monkeypatch):
    from kefu.livechat import ratelimit

    # One fixed window for the whole test: a slow run must not cross into the next minute.
    monkeypatch.setattr(ratelimit, "_clock", lambda: 1_800_000_000.0)
    settings.KEFU_LIVE_LIMITS = {"message_visitor": [3, 60], "message_ip": [4, 60], "session_ip": [3, 60]}
    a = Buyer(widget, ip="10.0.0.7")
    assert [a.send(f"m{i}").status_code for i in range(5)] == [201, 201, 201, 429, 429]
    # Another visitor behind the same address has its own 3, but the address allows 4 in all.
    b = Buyer(widget, ip="10.0.0.7")
    assert [b.send(f"n{i}").status_code for i in range(3)] == [201, 429, 429]
    c = Buyer(widget, ip="10.0.0.8")
    assert c.send("hello").status_code == 201
    assert Buyer(widget, ip="10.0.0.7").status == 200  # the 3rd session of that address this minute
    assert Buyer(widget, ip="10.0.0.7").status == 429
    assert Message.objects.count() == 5


def test_a_spam_flagged_buyer_is_refused(shop, widget, kf):
    from kefu.customers.services import customer_spam_set

    b = Buyer(widget)
    b.send("加微信领红包")
    customer_spam_set(shop=shop, customer=Visitor.objects.get().customer, spam=True)
    r = b.send("再发一次")
    assert r.status_code == 403 and r.json()["code"] == "blocked"
    assert Buyer(widget, visitor_token=b.token).data["blocked"] is True
