"""Automation rules (AUTO-2): conditions, order and stop, no loops, the firing log on the
timeline, dry runs; the issue's example end to end through the API."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kefu.approvals.models import Notification
from kefu.conversations.models import Conversation, ConversationNote, Message
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.services import person_create
from kefu.crm.services import grade_override_set
from kefu.customers.models import Customer
from kefu.integrations.models import RuleFiring
from kefu.integrations.rules import Ctx, _holds, conditions_clean, rule_dry_run, rule_save
from kefu.orders.models import Order

pytestmark = pytest.mark.django_db

VIP_COMPLAINT = dict(
    name="VIP 投诉转主管", event_type="message.created",
    conditions=[{"field": "sender", "value": ["buyer"]}, {"field": "keywords", "value": ["投诉"]},
                {"field": "buyer_grade", "value": ["VIP"]}],
    actions=[{"type": "assign", "role": "supervisor"}, {"type": "notify", "role": "supervisor"}],
)


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="王主管", username="boss", password="pass-word-1", roles=["supervisor"],
                         group="")


def post_message(api, mid, buyer, text, at, capture):
    body = {"message_id": mid, "buyer_id": buyer, "sender": "buyer", "sent_at": at.isoformat(), "text": text}
    with capture(execute=True):
        r = api.post("/api/v1/messages", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.content
    return Conversation.objects.get(customer__buyer_id=buyer)


def test_vip_complaint_goes_to_the_supervisor_who_is_notified(shop, manager, supervisor, api,
                                                              django_capture_on_commit_callbacks):
    cap = django_capture_on_commit_callbacks
    rule = rule_save(shop=shop, actor=manager, **VIP_COMPLAINT)
    now = timezone.now()
    # a VIP buyer and an ordinary one say hello first
    post_message(api, "m1", "tb_vip", "在吗", now - dt.timedelta(minutes=5), cap)
    post_message(api, "m2", "tb_normal", "在吗", now - dt.timedelta(minutes=5), cap)
    grade_override_set(shop=shop, customer=Customer.objects.get(buyer_id="tb_vip"), grade="VIP", reason="大客户",
                       actor=manager)
    assert not RuleFiring.objects.exists()  # no 投诉 yet
    conv = post_message(api, "m3", "tb_vip", "再不处理我就投诉你们", now, cap)
    assert conv.assignee == supervisor
    firing = RuleFiring.objects.get()
    assert (firing.rule, firing.subject, firing.subject_id) == (rule, "conversation", conv.pk)
    assert [r["action"] for r in firing.results] == ["assign", "notify"] and all(r["ok"] for r in firing.results)
    note = Notification.objects.get(recipient=supervisor)
    assert "投诉" in note.text and note.link == f"/conversations/{conv.pk}/"
    # on the conversation's timeline
    line = ConversationNote.objects.get(conversation=conv)
    assert "VIP 投诉转主管" in line.text and "转给 王主管" in line.text
    # the same words from an ordinary buyer, or a VIP without them: nothing
    post_message(api, "m4", "tb_normal", "我要投诉", now, cap)
    post_message(api, "m5", "tb_vip", "谢谢", now + dt.timedelta(seconds=5), cap)
    assert RuleFiring.objects.count() == 1
    # a resent message changes nothing and fires nothing
    post_message(api, "m3", "tb_vip", "再不处理我就投诉你们", now, cap)
    assert RuleFiring.objects.count() == 1


def test_rules_run_in_order_and_stop(shop, manager, supervisor, api, django_capture_on_commit_callbacks):
    cap = django_capture_on_commit_callbacks
    first = rule_save(shop=shop, actor=manager, name="先", event_type="message.created",
                      conditions=[{"field": "keywords", "value": ["退款"]}],
                      actions=[{"type": "set_priority", "priority": "high"}])
    second = rule_save(shop=shop, actor=manager, name="后", event_type="message.created",
                       conditions=[{"field": "keywords", "value": ["退款"]}],
                       actions=[{"type": "notify", "agent_id": supervisor.pk, "text": "有人要退款"}])
    assert first.position < second.position
    conv = post_message(api, "m1", "tb_1", "我要退款", timezone.now(), cap)
    assert [f.rule.name for f in RuleFiring.objects.order_by("id")] == ["先", "后"]
    conv.refresh_from_db()
    assert conv.priority == 1
    first.stop = True
    first.save()
    post_message(api, "m2", "tb_2", "退款怎么还没到", timezone.now(), cap)
    assert [f.rule.name for f in RuleFiring.objects.order_by("id")] == ["先", "后", "先"]


def test_a_rule_never_triggers_itself(shop, manager, supervisor, api, django_capture_on_commit_callbacks):
    """A rule on conversation.assigned whose action assigns again runs once per outside event;
    two rules that assign back and forth stop after each has run once on the other's event."""
    cap = django_capture_on_commit_callbacks
    other = person_create(shop=shop, name="李主管", username="boss2", password="pass-word-1", roles=["supervisor"],
                          group="")
    rule_save(shop=shop, actor=manager, name="给王", event_type="conversation.assigned", conditions=[],
              actions=[{"type": "assign", "agent_id": supervisor.pk}])
    rule_save(shop=shop, actor=manager, name="给李", event_type="conversation.assigned", conditions=[],
              actions=[{"type": "assign", "agent_id": other.pk}])
    from kefu.conversations.services import conversation_transfer

    conv = post_message(api, "m1", "tb_1", "在吗", timezone.now(), cap)
    agent = person_create(shop=shop, name="小美", username="xm", password="pass-word-1", roles=["agent"])
    with cap(execute=True):
        conversation_transfer(shop=shop, conversation=conv, to_agent=agent, by=None)
    names = [f.rule.name for f in RuleFiring.objects.order_by("id")]
    # outside event: 给王, 给李; 给王's event → 给李; 给李's events → 给王 (then each chain holds both)
    assert sorted(names) == sorted(["给王", "给李", "给李", "给王"]) and len(names) <= 4
    conv.refresh_from_db()
    assert conv.assignee in (supervisor, other)


def test_conditions(shop, supervisor):
    cust = Customer.objects.create(shop=shop, buyer_id="b1")
    order = Order.objects.create(shop=shop, order_id="o1", customer=cust, created_at=timezone.now(),
                                 paid_amount=Decimal("199.00"), status="paid")
    ctx = Ctx(shop=shop, type="message.created", at=dt.datetime(2026, 11, 1, 23, 30, tzinfo=shop.tz),
              data={"text": "你们这是欺诈，我要投诉", "channel": "qianniu"}, customer=cust, order=order)

    def holds(field, value, negate=False):
        return _holds(conditions_clean([{"field": field, "value": value, "not": negate}])[0], ctx)

    assert holds("keywords", "差评，投诉") and not holds("keywords", ["退货"]) and holds("keywords", ["退货"], True)
    assert holds("channel", ["qianniu"]) and not holds("channel", ["jd"])
    assert holds("order_amount", {"min": "100"}) and not holds("order_amount", {"min": "200"})
    assert holds("order_amount", {"min": "199", "max": "199"}) and not holds("order_amount", {"max": "50"})
    assert holds("order_status", ["paid", "shipped"]) and not holds("order_status", ["refunded"])
    assert holds("time_of_day", {"from": "22:00", "to": "08:00"})  # wraps midnight
    assert not holds("time_of_day", {"from": "09:00", "to": "18:00"})
    assert holds("buyer_grade", ["VIP"], True)
    assert not holds("sla_state", ["missed"])  # no conversation, no clock
    for bad in ([{"field": "weather", "value": ["sun"]}], [{"field": "keywords", "value": []}],
                [{"field": "time_of_day", "value": {"from": "25:00", "to": "1"}}], "x"):
        with pytest.raises(KefuError):
            conditions_clean(bad)


def test_only_managers_edit_rules_and_actions_are_checked(shop, manager, supervisor):
    with pytest.raises(PermissionDenied):
        rule_save(shop=shop, actor=supervisor, **VIP_COMPLAINT)
    with pytest.raises(KefuError, match="no such person"):
        rule_save(shop=shop, actor=manager, **{**VIP_COMPLAINT, "actions": [{"type": "assign", "agent_id": 99999}]})
    with pytest.raises(KefuError, match="unknown event"):
        rule_save(shop=shop, actor=manager, **{**VIP_COMPLAINT, "event_type": "weather.changed"})


def test_dry_run_lists_past_matches(shop, manager):
    now = timezone.now()
    vip = Customer.objects.create(shop=shop, buyer_id="tb_vip", nick="大客户")
    plain = Customer.objects.create(shop=shop, buyer_id="tb_plain")
    grade_override_set(shop=shop, customer=vip, grade="VIP", reason="x", actor=manager)
    rows = [("a", vip, "我要投诉", 1), ("b", vip, "你好", 2), ("c", plain, "投诉", 3), ("d", vip, "投诉！", 40)]
    for mid, c, text, days in rows:
        Message.objects.create(shop=shop, message_id=mid, customer=c, sender="buyer", text=text,
                               sent_at=now - dt.timedelta(days=days))
    got = rule_dry_run(shop=shop, event_type="message.created", conditions=VIP_COMPLAINT["conditions"], days=30)
    assert got["scanned"] == 3 and got["matched"] == 1
    assert got["matches"][0]["buyer"] == "大客户" and not RuleFiring.objects.exists()
    got = rule_dry_run(shop=shop, event_type="message.created", conditions=VIP_COMPLAINT["conditions"], days=60)
    assert got["matched"] == 2


def test_rules_api_is_managers_only_and_per_shop(shop, other_shop, manager, manager_client, api):
    r = manager_client.post("/api/v1/automation-rules?shop=s1", data=json.dumps(VIP_COMPLAINT), content_type="application/json")
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    assert manager_client.get("/api/v1/automation-rules?shop=s1").json()[0]["name"] == "VIP 投诉转主管"
    dry = manager_client.post(f"/api/v1/automation-rules/{rid}/dry-run?shop=s1", data="{}", content_type="application/json")
    assert dry.status_code == 200 and dry.json()["matched"] == 0
    other = person_create(shop=other_shop, name="别家经理", username="m2", password="pass-word-1", roles=["manager"])
    c = Client()
    c.force_login(other.user)
    assert c.get(f"/api/v1/automation-rules/{rid}?shop=s2").status_code == 404
    assert c.get(f"/api/v1/automation-rules/{rid}?shop=s1").status_code == 404


def test_add_tag_puts_the_shops_buyer_tag_on_the_buyer(shop, manager, api, django_capture_on_commit_callbacks):
    """The add_tag action uses the buyer tags of the buyer pages (kefu.customers): a tag the shop has
    not defined is refused when the rule is saved; a firing tags the buyer once, on the buyer's
    timeline, and a buyer_tags condition sees it."""
    from kefu.customers.models import CustomerEvent, CustomerTag
    from kefu.customers.services import tag_create

    cap = django_capture_on_commit_callbacks
    rule = dict(name="差评预警", event_type="message.created", conditions=[{"field": "keywords", "value": ["差评"]}],
                actions=[{"type": "add_tag", "tag": "差评风险"}])
    with pytest.raises(KefuError, match="no tag '差评风险'"):
        rule_save(shop=shop, actor=manager, **rule)
    tag_create(shop=shop, name="差评风险", actor=manager)
    rule_save(shop=shop, actor=manager, **rule)
    rule_save(shop=shop, actor=manager, name="已标记的买家", event_type="message.created",
              conditions=[{"field": "buyer_tags", "value": ["差评风险"]}],
              actions=[{"type": "set_priority", "priority": "high"}])
    now = timezone.now()
    post_message(api, "m1", "tb_1", "你好", now - dt.timedelta(minutes=3), cap)
    assert not CustomerTag.objects.exists() and not RuleFiring.objects.exists()
    post_message(api, "m2", "tb_1", "再这样我给差评", now - dt.timedelta(minutes=2), cap)
    buyer = Customer.objects.get(buyer_id="tb_1")
    assert list(buyer.taggings.values_list("tag__name", flat=True)) == ["差评风险"]
    assert RuleFiring.objects.filter(rule__name="差评预警").count() == 1
    marked = RuleFiring.objects.filter(rule__name="已标记的买家").count()
    conv = post_message(api, "m3", "tb_1", "差评！", now - dt.timedelta(minutes=1), cap)
    assert buyer.taggings.count() == 1  # already there: not doubled
    assert RuleFiring.objects.filter(rule__name="差评预警").count() == 2
    assert RuleFiring.objects.filter(rule__name="已标记的买家").count() == marked + 1
    assert RuleFiring.objects.order_by("-id").filter(rule__name="差评预警").first().results[0]["ok"]
    conv.refresh_from_db()
    assert conv.priority == 1
    assert CustomerEvent.objects.filter(customer=buyer, kind="tag_add", detail="差评风险").count() == 1
