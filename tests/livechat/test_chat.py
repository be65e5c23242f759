"""A live chat end to end through the services and the workspace API: the reply is sent at once
and answers the turn, a widget chat counts exactly as the same messages imported, scripts refuse
unfilled variables, close invites CSAT, transfer and spam push to the right people."""

import csv
import datetime as dt

import pytest
from django.utils import timezone

from kefu.conversations.models import Conversation, Message
from kefu.conversations.services import conversation_reply, conversation_transfer
from kefu.core.services import shop_create
from kefu.core.timeutil import shop_day
from kefu.importers.services import file_import
from kefu.livechat import services
from kefu.livechat.events import Viewer, replay
from kefu.livechat.identity import visitor_session
from kefu.livechat.models import LiveEvent
from kefu.metrics.kpi import kpi_report
from kefu.metrics.models import DirtyBuyer
from kefu.orders.services import orders_clean, orders_upsert
from kefu.outbound.models import OutboundMessage

from .conftest import Buyer, drained, on_shift, person, post_json, staff

pytestmark = pytest.mark.django_db


def _base_time(shop):
    now = timezone.now()
    base = now - dt.timedelta(minutes=5)
    return base if shop_day(base, shop.tz) == shop_day(now, shop.tz) else now - dt.timedelta(seconds=20)


def test_reply_through_the_widget_is_sent_at_once_and_answers_the_turn(shop, widget, kf, data_dir):
    b = Buyer(widget)
    b.send("这款有红色吗")
    conv = Conversation.objects.get(shop=shop)
    assert conv.waiting is True
    r = post_json(staff(kf), f"/api/v1/conversations/{conv.pk}/reply?shop={shop.code}", {"text": "有的亲", "key": "k1"})
    assert r.status_code == 201 and r.json()["state"] == "sent"
    reply = Message.objects.get(shop=shop, sender="agent")
    assert (reply.agent_id, reply.channel, reply.text) == (kf.pk, "webchat", "有的亲")
    conv.refresh_from_db()
    assert conv.waiting is False  # left 待回复 at once …
    assert DirtyBuyer.objects.filter(shop=shop, customer_id=conv.customer_id).exists()  # … facts not yet rebuilt
    chat = staff(kf).get(f"/api/v1/live/chats?shop={shop.code}").json()["chats"][0]
    assert (chat["last_sender"], chat["last_text"], chat["waiting_since"]) == ("agent", "有的亲", None)
    assert Conversation.objects.get(pk=conv.pk).message_count == 2
    out = OutboundMessage.objects.get(shop=shop)
    assert out.state == "sent" and out.external_id == reply.message_id
    assert not (data_dir / "outbox").exists()  # Kefu delivered it itself: nothing for a connector
    # The buyer's widget gets it on its stream (replayed from the log).
    viewer = Viewer.of_buyer(shop_id=shop.pk, customer_id=conv.customer_id)
    texts = [e.data["message"]["text"] for e in replay(viewer=viewer, after=0) if e.kind == "message"]
    assert texts == ["这款有红色吗", "有的亲"]
    # A resend of the same reply key: no second message.
    r2 = post_json(staff(kf), f"/api/v1/conversations/{conv.pk}/reply?shop={shop.code}", {"text": "有的亲", "key": "k1"})
    assert r2.status_code == 200 and Message.objects.filter(shop=shop, sender="agent").count() == 1
    history = Buyer(widget, visitor_token=b.token).data["history"]
    assert [m["text"] for m in history] == ["这款有红色吗", "有的亲"]


def _export(shop, path):
    """The shop's messages as a generic import file, agents named by their webchat accounts."""
    from kefu.core.models import AgentAccount

    accounts = {a.agent_id: a.platform_id for a in AgentAccount.objects.filter(shop=shop)}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["message_id", "channel", "buyer_id", "buyer_nick", "agent_id", "sender", "sent_at", "text", "order_id"])
        for m in Message.objects.filter(shop=shop).select_related("customer").order_by("sent_at", "pk"):
            w.writerow([m.message_id, m.channel, m.customer.buyer_id, m.customer.nick,
                        accounts.get(m.agent_id, "") if m.agent_id else "", m.sender, m.sent_at.isoformat(), m.text,
                        m.order_ref])


def test_a_widget_chat_counts_exactly_as_the_same_messages_imported(shop, widget, kf, tmp_path):
    other = person(shop, "阿强", username="aqiang")
    on_shift(shop, [other], status="away")
    t0 = _base_time(shop)
    w = widget
    v1, _ = visitor_session(widget=w)
    v2, _ = visitor_session(widget=w)
    services.buyer_message_send(visitor=v1, client_id="a1", text="在吗，这个四件套有现货吗", now=t0)
    services.buyer_message_send(visitor=v1, client_id="a2", text="多久发货", now=t0 + dt.timedelta(seconds=5))
    conv1 = Conversation.objects.get(shop=shop, customer=v1.customer)
    conversation_reply(shop=shop, conversation=conv1, by=kf, text="亲，有现货的，今天下单明天发", key="r1",
                       now=t0 + dt.timedelta(seconds=47))
    services.buyer_message_send(visitor=v2, client_id="b1", text="昨天的订单能改地址吗", order_id="O-1",
                                now=t0 + dt.timedelta(seconds=60))
    services.buyer_message_send(visitor=v1, client_id="a3", text="好的我拍了", now=t0 + dt.timedelta(seconds=90))
    conv2 = Conversation.objects.get(shop=shop, customer=v2.customer)
    conversation_reply(shop=shop, conversation=conv2, by=kf, text="可以的亲", key="r2", now=t0 + dt.timedelta(seconds=250))
    conv1 = conversation_transfer(shop=shop, conversation=conv1, to_agent=other, by=kf, now=t0 + dt.timedelta(seconds=100))
    services.buyer_message_send(visitor=v1, client_id="a4", text="地址写错了", now=t0 + dt.timedelta(seconds=110))
    conversation_reply(shop=shop, conversation=conv1, by=other, text="我来跟进，已为您备注", key="r3",
                       now=t0 + dt.timedelta(seconds=130))
    order = {"order_id": "P-1", "buyer_id": v1.customer.buyer_id, "created_at": (t0 + dt.timedelta(seconds=95)).isoformat(),
             "paid_at": (t0 + dt.timedelta(seconds=99)).isoformat(), "total_amount": "299.00", "paid_amount": "299.00"}
    orders_upsert(shop=shop, rows=orders_clean([order], tz=shop.tz))

    path = tmp_path / "chat.csv"
    _export(shop, path)
    imported = shop_create(code="imp", name="导入店")
    file_import(shop=imported, kind="messages", path=path)
    orders_upsert(shop=imported, rows=orders_clean([order], tz=imported.tz))

    drained(shop, imported)
    day = shop_day(t0, shop.tz)
    live = kpi_report(shop=shop, date_from=day, date_to=day)
    again = kpi_report(shop=imported, date_from=day, date_to=day)
    strip = ("agent", "agent_id", "group", "rank", "score")
    rows_live = sorted(({k: v for k, v in r.items() if k not in strip} for r in live["agents"]), key=repr)
    rows_imp = sorted(({k: v for k, v in r.items() if k not in strip} for r in again["agents"]), key=repr)
    assert rows_live == rows_imp
    assert {k: v for k, v in live["shop_totals"].items() if k not in strip} == \
        {k: v for k, v in again["shop_totals"].items() if k not in strip}
    # And the figures themselves, recomputed by hand: 2 buyers with 小美, 1 with 阿强 after the transfer.
    by_name = {r["agent"]: r for r in live["agents"]}
    assert by_name["小美"]["receptions"] == 2 and by_name["小美"]["replied_receptions"] == 2
    assert by_name["小美"]["first_response_seconds"] == (47 + 190) / 2
    assert by_name["小美"]["unanswered_turns"] == 1  # "好的我拍了" came before the transfer
    assert by_name["阿强"]["receptions"] == 1 and by_name["阿强"]["answered_turns"] == 1
    assert by_name["阿强"]["response_seconds"] == 130 - 110


def test_a_script_with_a_variable_this_chat_cannot_fill_is_refused(shop, widget, kf):
    from kefu.replies.services import script_create

    b = Buyer(widget)
    b.send("你好")
    conv = Conversation.objects.get(shop=shop)
    ok = script_create(shop=shop, actor=None, category="opening", title="问候", body="{买家昵称}您好，我是{客服}")
    needs_order = script_create(shop=shop, actor=None, category="shipping", title="查单", body="您的订单{订单号}已发货")
    c = staff(kf)
    r = post_json(c, f"/api/v1/live/chats/{conv.pk}/script?shop={shop.code}", {"script_id": ok.pk})
    assert r.status_code == 200 and r.json()["text"].endswith("您好，我是小美")
    r = post_json(c, f"/api/v1/live/chats/{conv.pk}/script?shop={shop.code}", {"script_id": needs_order.pk})
    assert r.status_code == 400 and r.json()["code"] == "unfilled_variable" and "{订单号}" in r.json()["message"]
    # Typed by hand into the reply box: refused at send as well, nothing stored.
    r = post_json(c, f"/api/v1/conversations/{conv.pk}/reply?shop={shop.code}", {"text": "您的订单{订单号}已发货"})
    assert r.status_code == 400 and r.json()["code"] == "unfilled_variable"
    assert not Message.objects.filter(shop=shop, sender="agent").exists()


def test_close_invites_the_buyer_to_rate_in_the_widget(shop, widget, kf):
    from kefu.complaints.models import ServiceRating

    b = Buyer(widget)
    b.send("谢谢")
    conv = Conversation.objects.get(shop=shop)
    c = staff(kf)
    post_json(c, f"/api/v1/conversations/{conv.pk}/reply?shop={shop.code}", {"text": "不客气"})
    r = post_json(c, f"/api/v1/live/chats/{conv.pk}/close?shop={shop.code}", {})
    assert r.status_code == 200
    viewer = Viewer.of_buyer(shop_id=shop.pk, customer_id=conv.customer_id)
    kinds = [(e.kind, e.data.get("event")) for e in replay(viewer=viewer, after=0)]
    assert ("closed", "closed") in kinds
    invite = next(e for e in replay(viewer=viewer, after=0) if e.kind == "rating")
    inv_id = invite.data["invitation_id"]
    assert Buyer(widget, visitor_token=b.token).data["pending_rating"]["invitation_id"] == inv_id
    # Another visitor cannot rate it; the buyer can, once.
    assert Buyer(widget).post("/rating", {"invitation_id": inv_id, "score": 1}).status_code == 404
    assert b.post("/rating", {"invitation_id": inv_id, "score": 5, "comment": "很好"}).status_code == 201
    assert b.post("/rating", {"invitation_id": inv_id, "score": 1}).status_code == 409
    assert ServiceRating.objects.get().score == 5
    drained(shop)
    day = shop_day(timezone.now(), shop.tz)
    row = next(r for r in kpi_report(shop=shop, date_from=day, date_to=day)["agents"] if r["agent"] == "小美")
    assert (row["rating_invitations"], row["ratings"], row["ratings_satisfied"]) == (1, 1, 1)
    # The invitation is a system message: it never answers a turn or counts as a reply.
    assert Message.objects.filter(shop=shop, sender="system").count() == 1
    assert row["answered_turns"] == 1


def test_transfer_moves_the_chat_between_workspaces_live(shop, widget, kf):
    other = person(shop, "阿强", username="aqiang")
    on_shift(shop, [other])
    b = Buyer(widget)
    b.send("在吗")
    conv = Conversation.objects.get(shop=shop)
    first = conv.assignee
    second = other if first == kf else kf
    mark = LiveEvent.objects.order_by("-id").values_list("id", flat=True).first()
    r = post_json(staff(first), f"/api/v1/conversations/{conv.pk}/transfer?shop={shop.code}", {"to_agent_id": second.pk})
    assert r.status_code == 200
    for who in (first, second):
        evs = [e for e in replay(viewer=Viewer.of_member(who), after=mark) if e.kind == "assigned" and e.pk > mark]
        assert evs and evs[-1].agent_id == second.pk and evs[-1].prev_agent_id == first.pk
    b.send("还在吗")
    new = [e for e in replay(viewer=Viewer.of_member(second), after=mark) if e.kind == "message" and e.pk > mark]
    assert [e.data["message"]["text"] for e in new] == ["还在吗"]
    assert not [e for e in replay(viewer=Viewer.of_member(first), after=mark) if e.kind == "message" and e.pk > mark]


def test_a_rating_invitation_sent_after_the_chat_went_idle_does_not_open_a_chat_to_answer(shop, widget, kf):
    """The nightly rule invites receptions nobody closed. In a web chat the invitation is a system
    message; sent after the idle gap it starts a conversation of its own, which must not sit in the
    agent's workspace. The buyer who rates or writes back still reaches the agent."""
    from kefu.complaints.ratings import rating_invite
    from kefu.livechat.selectors import chats_for_member

    b = Buyer(widget)
    b.send("还在吗")
    conv = Conversation.objects.get(shop=shop)
    post_json(staff(kf), f"/api/v1/conversations/{conv.pk}/reply?shop={shop.code}", {"text": "在的"})
    later = timezone.now() + dt.timedelta(minutes=shop.conversation_gap_minutes + 5)
    inv, created = rating_invite(shop=shop, agent=kf, customer=conv.customer, day=shop_day(conv.started_at, shop.tz),
                                 now=later)
    assert created
    opened = Conversation.objects.exclude(pk=conv.pk).get(shop=shop)  # the invitation's own
    assert opened.buyer_message_count == 0 and opened.closed_at is not None
    assert [c["conversation_id"] for c in chats_for_member(shop=shop, member=kf, now=later)] == [conv.pk]
    assert b.post("/rating", {"invitation_id": inv.pk, "score": 4}).status_code == 201
