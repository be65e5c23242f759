"""Clock rebuild and scan: policy matching, bot replies, late messages, warnings and escalations once."""

import datetime as dt

import pytest

from kefu.approvals.models import Notification
from kefu.conversations.models import Conversation
from kefu.core.errors import KefuError, PermissionDenied
from kefu.sla import services as S
from kefu.sla.enums import AlertKind, ClockState, Outcome, Target
from kefu.sla.models import SlaAlert, SlaClock, SlaPolicy
from kefu.sla.selectors import subject_clocks

from .conftest import MONDAY, at, make_case, order, send

pytestmark = pytest.mark.django_db
KF = "店铺:阿美"


def scan(shop, now):
    return S.sla_scan(shop=shop, now=now)


def clocks(shop, **kw):
    return list(SlaClock.objects.filter(shop=shop, **kw).order_by("started_at", "target", "seq"))


def test_first_scan_installs_seed_000_defaults(shop):
    scan(shop, at(MONDAY, "10:00"))
    ps = list(SlaPolicy.objects.filter(shop=shop))
    assert [(p.first_reply_minutes, p.resolution_minutes) for p in ps] == [(5, None), (None, 2880)]
    assert ps[0].conversation_kinds == ["aftersales"] and ps[0].business_hours
    assert set(ps[1].case_reasons) == {"lost_parcel", "damaged_parcel", "undeliverable"}
    # Installing again changes nothing; a manager's edit survives.
    S.policy_update(shop=shop, editor=None, policy_id=ps[0].pk, data={"first_reply_minutes": 3})
    assert S.policies_install_defaults(shop=shop) == []
    assert SlaPolicy.objects.get(pk=ps[0].pk).first_reply_minutes == 3


def test_aftersales_conversation_gets_a_first_reply_clock_presales_none(shop, kf):
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o-77"),  # order card: after-sales
                ("m2", "b1", KF, "agent", at(MONDAY, "10:04")),
                ("m3", "b2", KF, "buyer", at(MONDAY, "10:00")),  # a plain question: pre-sales
                ("m4", "b2", KF, "agent", at(MONDAY, "10:30"))])
    scan(shop, at(MONDAY, "11:00"))
    [c] = clocks(shop)
    assert c.customer.buyer_id == "b1" and c.target == Target.FIRST_REPLY
    assert (c.state, c.stopped_at, c.agent_id) == (ClockState.HIT, at(MONDAY, "10:04"), kf.pk)
    assert subject_clocks(shop=shop, conversation_id=c.conversation_id)["outcome"] == Outcome.HIT


def test_recent_paid_order_makes_a_conversation_aftersales(shop, kf):
    order(shop, "o1", "b1", at(MONDAY, "08:00") - dt.timedelta(days=3))
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"))])
    scan(shop, at(MONDAY, "10:01"))
    [c] = clocks(shop)
    assert c.state == ClockState.ACTIVE and c.due_at == at(MONDAY, "10:05")


def test_bot_replies_never_stop_the_clock(shop, kf):
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1"),
                ("m2", "b1", KF, "bot", at(MONDAY, "10:00", 5)),
                ("m3", "b1", KF, "system", at(MONDAY, "10:01")),  # a system notice is no reply either
                ("m4", "b1", KF, "agent", at(MONDAY, "10:07"))])
    scan(shop, at(MONDAY, "11:00"))
    [c] = clocks(shop)
    assert (c.state, c.stopped_at, c.breached_at) == (ClockState.MISSED, at(MONDAY, "10:07"), at(MONDAY, "10:05"))


def test_late_message_re_times_the_clock_in_place(shop, kf):
    send(shop, [("m2", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1"), ("m3", "b1", KF, "agent", at(MONDAY, "10:03"))])
    scan(shop, at(MONDAY, "10:10"))
    [before] = clocks(shop)
    assert before.state == ClockState.HIT
    # The platform delivers an earlier buyer message late: the wait really began at 09:50.
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "09:50"), "o1")])
    scan(shop, at(MONDAY, "10:11"))
    [after] = clocks(shop, target=Target.FIRST_REPLY)
    assert after.started_at == at(MONDAY, "09:50") and after.due_at == at(MONDAY, "09:55")
    assert after.state == ClockState.MISSED
    assert Conversation.objects.filter(shop=shop).count() == 1


def test_arrival_order_does_not_matter(shop, other_shop, kf):
    from kefu.core.services import person_create
    person_create(shop=other_shop, name="阿美", roles=["agent"], group="aftersales", platform_ids=[KF])
    rows = [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1"), ("m2", "b1", KF, "bot", at(MONDAY, "10:00")),
            ("m3", "b1", KF, "agent", at(MONDAY, "10:02")), ("m4", "b1", KF, "buyer", at(MONDAY, "10:03")),
            ("m5", "b1", KF, "agent", at(MONDAY, "10:20"))]
    for r in rows:
        send(shop, [r])
    for r in reversed(rows):
        send(other_shop, [r])
    for s in (shop, other_shop):
        S.policy_update(shop=s, editor=None, policy_id=S.policies_install_defaults(shop=s)[0].pk,
                        data={"next_reply_minutes": 10})
        scan(s, at(MONDAY, "11:00"))
    got = [[(c.target, c.seq, c.started_at, c.stopped_at, c.state) for c in clocks(s)] for s in (shop, other_shop)]
    assert got[0] == got[1]
    assert [g[:2] + (g[4],) for g in got[0]] == [("first_reply", 0, "hit"), ("next_reply", 0, "missed")]


def test_buyer_before_agent_at_the_same_instant(shop, kf):
    p = S.policies_install_defaults(shop=shop)[0]
    S.policy_update(shop=shop, editor=None, policy_id=p.pk, data={"next_reply_minutes": 10})
    # The reply and a new buyer message share a second: the buyer's counts first, so it was answered.
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1"), ("m2", "b1", KF, "agent", at(MONDAY, "10:02")),
                ("m3", "b1", KF, "buyer", at(MONDAY, "10:02"))])
    scan(shop, at(MONDAY, "11:00"))
    assert [(c.target, c.state) for c in clocks(shop)] == [("first_reply", "hit")]


def test_next_reply_clocks(shop, kf):
    p = S.policies_install_defaults(shop=shop)[0]
    S.policy_update(shop=shop, editor=None, policy_id=p.pk, data={"next_reply_minutes": 3, "business_hours": False})
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1"), ("m2", "b1", KF, "agent", at(MONDAY, "10:01")),
                ("m3", "b1", KF, "buyer", at(MONDAY, "10:02")), ("m4", "b1", KF, "buyer", at(MONDAY, "10:03")),
                ("m5", "b1", KF, "agent", at(MONDAY, "10:04")), ("m6", "b1", KF, "buyer", at(MONDAY, "10:05")),
                ("m7", "b1", KF, "agent", at(MONDAY, "10:10"))])
    scan(shop, at(MONDAY, "12:00"))
    got = [(c.target, c.seq, c.started_at.astimezone(at(MONDAY, "00:00").tzinfo).strftime("%H:%M"), c.state)
           for c in clocks(shop)]
    assert got == [("first_reply", 0, "10:00", "hit"), ("next_reply", 0, "10:02", "hit"),
                   ("next_reply", 1, "10:05", "missed")]
    conv = clocks(shop)[0].conversation_id
    assert subject_clocks(shop=shop, conversation_id=conv)["outcome"] == Outcome.MISSED


def test_business_hours_clock_waits_for_opening(shop, kf):
    shop.service_hours = {"weekly": {str(d): [["09:00", "18:00"]] for d in range(7)}}
    shop.save()
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "23:30"), "o1")])
    scan(shop, at(MONDAY, "23:59"))
    [c] = clocks(shop)
    assert c.due_at == at(MONDAY + dt.timedelta(days=1), "09:05") and c.state == ClockState.ACTIVE


def test_policy_matching_order_and_conditions(shop, kf, kf2, django_capture_on_commit_callbacks):
    S.policies_install_defaults(shop=shop)
    S.policy_create(shop=shop, editor=None, data={"name": "京东渠道", "priority": 5, "channels": ["jd"],
                                                   "first_reply_minutes": 1})
    S.policy_create(shop=shop, editor=None, data={"name": "售前组", "priority": 50, "groups": ["presales"],
                                                   "first_reply_minutes": 30})
    S.policy_create(shop=shop, editor=None, data={"name": "VIP", "priority": 1, "grades": ["VIP"],
                                                   "first_reply_minutes": 2})
    S.policy_create(shop=shop, editor=None, data={"name": "停用", "priority": 0, "active": False,
                                                   "first_reply_minutes": 1})
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1"),  # after-sales, generic channel
                ("m2", "b2", "店铺:阿丽", "buyer", at(MONDAY, "10:00"))])  # pre-sales group, no order
    from kefu.conversations.services import messages_clean, messages_ingest
    messages_ingest(shop=shop, rows=messages_clean([{"message_id": "m3", "buyer_id": "b3", "agent_id": KF,
                                                     "sender": "buyer", "channel": "jd",
                                                     "sent_at": at(MONDAY, "10:00").isoformat()}], tz=shop.tz))
    scan(shop, at(MONDAY, "10:00"))
    by_buyer = {c.customer.buyer_id: c.policy.name for c in clocks(shop)}
    # No buyer has a grade yet, so the VIP policy matches nobody.
    assert by_buyer == {"b1": "售后/物流投诉首次响应", "b2": "售前组", "b3": "京东渠道"}
    # Customer care grades b2 vip by hand: the VIP policy (priority 1) now times b2's chat.
    from kefu.crm.services import grade_override_set
    from kefu.customers.models import Customer

    with django_capture_on_commit_callbacks(execute=True):
        grade_override_set(shop=shop, customer=Customer.objects.get(shop=shop, buyer_id="b2"), grade="VIP",
                           reason="老客户", actor=None)
    by_buyer = {c.customer.buyer_id: c.policy.name for c in clocks(shop)}
    assert by_buyer == {"b1": "售后/物流投诉首次响应", "b2": "VIP", "b3": "京东渠道"}


def test_case_reason_condition_reaches_the_buyers_conversation(shop, kf):
    o = order(shop, "o1", "b1", at(MONDAY, "08:00") - dt.timedelta(days=40))  # too old to count
    S.policies_install_defaults(shop=shop)
    S.policy_create(shop=shop, editor=None, data={"name": "丢件会话", "priority": 1, "case_reasons": ["lost_parcel"],
                                                   "first_reply_minutes": 2})
    make_case(shop, order=o, owner=kf, opened=at(MONDAY, "09:00"))
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"))])
    scan(shop, at(MONDAY, "10:00"))
    conv = clocks(shop, conversation__isnull=False)
    assert [c.policy.name for c in conv] == ["丢件会话"]


def test_resolution_clock_of_logistics_cases(shop, kf):
    o = order(shop, "o1", "b1", at(MONDAY, "08:00"))
    fast = make_case(shop, order=o, owner=kf, opened=at(MONDAY, "09:00"),
                     steps=[("reshipped", at(MONDAY, "20:00")), ("closed", at(MONDAY + dt.timedelta(days=3), "09:00"))])
    slow = make_case(shop, order=o, owner=kf, reason="damaged_parcel", opened=at(MONDAY, "09:00"),
                     steps=[("waiting_buyer", at(MONDAY, "10:00"))])
    quality = make_case(shop, order=o, owner=kf, reason="quality", type="return_refund", opened=at(MONDAY, "09:00"))
    scan(shop, at(MONDAY + dt.timedelta(days=1), "09:00"))
    by_case = {c.case_id: c for c in clocks(shop, case__isnull=False)}
    assert set(by_case) == {fast.pk, slow.pk} and quality.pk not in by_case
    assert by_case[fast.pk].state == ClockState.HIT and by_case[fast.pk].stopped_at == at(MONDAY, "20:00")
    assert by_case[slow.pk].state == ClockState.ACTIVE
    assert by_case[slow.pk].due_at == at(MONDAY + dt.timedelta(days=2), "09:00")
    assert by_case[slow.pk].warn_at == at(MONDAY + dt.timedelta(days=2), "05:00")
    scan(shop, at(MONDAY + dt.timedelta(days=2), "06:00"))
    assert SlaClock.objects.get(case=slow).state == ClockState.WARNED
    scan(shop, at(MONDAY + dt.timedelta(days=2), "09:00"))
    c = SlaClock.objects.get(case=slow)
    assert c.state == ClockState.MISSED and c.stopped_at is None
    assert subject_clocks(shop=shop, case_id=slow.pk)["outcome"] == Outcome.ACTIVE_MISSED


def test_warning_and_escalation_exactly_once(shop, kf, supervisor):
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1")])
    t0 = at(MONDAY, "10:00")
    for minute in (0, 1):
        scan(shop, t0 + dt.timedelta(minutes=minute))
    assert not Notification.objects.exists()
    for sec in (180, 200, 240):  # warned from 10:03 (2 minutes before the 5-minute target)
        scan(shop, t0 + dt.timedelta(seconds=sec))
    [n] = Notification.objects.all()
    assert n.recipient == kf and "即将超时" in n.text and n.link.startswith("/sla/")
    for sec in (300, 330, 420, 3000):
        scan(shop, t0 + dt.timedelta(seconds=sec))
    breach = Notification.objects.filter(text__contains="已超时")
    assert sorted(b.recipient.name for b in breach) == ["周主管", "阿美"]
    assert SlaAlert.objects.filter(kind=AlertKind.WARNING).count() == 1
    assert SlaAlert.objects.filter(kind=AlertKind.BREACH).count() == 1
    # The late reply settles the clock as missed; nothing is sent again, even after a full rebuild.
    send(shop, [("m2", "b1", KF, "agent", at(MONDAY, "10:20"))])
    S.policy_update(shop=shop, editor=None, policy_id=SlaPolicy.objects.filter(shop=shop).first().pk,
                    data={"warn_before_minutes": 1})
    scan(shop, t0 + dt.timedelta(minutes=21))
    assert Notification.objects.count() == 3
    assert clocks(shop)[0].state == ClockState.MISSED


def test_old_breaches_are_recorded_not_escalated(shop, kf, supervisor):
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1")])
    scan(shop, at(MONDAY + dt.timedelta(days=3), "10:00"))  # imported history: breached days ago
    assert clocks(shop)[0].state == ClockState.MISSED
    assert not Notification.objects.exists() and not SlaAlert.objects.exists()


def test_warning_goes_to_supervisors_when_the_agent_left(shop, kf, supervisor):
    send(shop, [("m1", "b9", KF, "buyer", at(MONDAY, "10:00"), "o1")])
    kf.active = False
    kf.save()
    scan(shop, at(MONDAY, "10:04"))
    [n] = Notification.objects.all()
    assert n.recipient == supervisor


def test_rebuild_is_idempotent_and_writes_nothing_when_unchanged(shop, kf, django_assert_max_num_queries):
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1"), ("m2", "b1", KF, "agent", at(MONDAY, "10:02"))])
    scan(shop, at(MONDAY, "10:03"))
    ids = [c.pk for c in clocks(shop)]
    r = S.sla_rebuild(shop=shop, everything=True, now=at(MONDAY, "10:04"))
    assert (r.created, r.updated, r.deleted) == (0, 0, 0)
    assert [c.pk for c in clocks(shop)] == ids
    # A quiet minute: nothing new, nothing running, no rebuild.
    assert not S.sla_scan_pending(shop=shop)


def test_policy_changes_rebuild_every_clock(shop, kf):
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1"), ("m2", "b1", KF, "agent", at(MONDAY, "10:04"))])
    scan(shop, at(MONDAY, "11:00"))
    assert clocks(shop)[0].state == ClockState.HIT
    p = SlaPolicy.objects.get(shop=shop, name="售后/物流投诉首次响应")
    S.policy_update(shop=shop, editor=None, policy_id=p.pk, data={"first_reply_minutes": 3, "warn_before_minutes": 1})
    assert S.sla_scan_pending(shop=shop)
    r = scan(shop, at(MONDAY, "11:01"))
    assert r.full and clocks(shop)[0].state == ClockState.MISSED
    S.policy_update(shop=shop, editor=None, policy_id=p.pk, data={"active": False})
    scan(shop, at(MONDAY, "11:02"))
    assert clocks(shop) == []


def test_policy_input_errors_name_the_field(shop, manager, agent_person):
    bad = [({"name": ""}, "name"), ({"name": "x"}, "first_reply_minutes"),
           ({"name": "x", "first_reply_minutes": 0}, "first_reply_minutes"),
           ({"name": "x", "first_reply_minutes": "abc"}, "first_reply_minutes"),
           ({"name": "x", "first_reply_minutes": 5, "warn_before_minutes": 5}, "warn_before_minutes"),
           ({"name": "x", "first_reply_minutes": 5, "case_reasons": ["nope"]}, "case_reasons[0]"),
           ({"name": "x", "first_reply_minutes": 5, "groups": "presales,x"}, "groups[1]"),
           ({"name": "x", "first_reply_minutes": 5, "channels": [1]}, "channels[0]"),
           ({"name": "x", "first_reply_minutes": 5, "active": "yes"}, "active"),
           ({"name": "x", "first_reply_minutes": 5, "priority": -1}, "priority"),
           ({"name": "x", "first_reply_minutes": 5, "colour": 1}, "colour")]
    for data, field in bad:
        with pytest.raises(KefuError) as exc:
            S.policy_create(shop=shop, editor=manager, data=data)
        assert exc.value.field == field, data
    S.policy_create(shop=shop, editor=manager, data={"name": "x", "first_reply_minutes": 5})
    with pytest.raises(KefuError) as exc:
        S.policy_create(shop=shop, editor=manager, data={"name": "x", "first_reply_minutes": 5})
    assert exc.value.code == "duplicate_name"
    with pytest.raises(PermissionDenied):
        S.policy_create(shop=shop, editor=agent_person, data={"name": "y", "first_reply_minutes": 5})


def test_scheduler_job_fires_each_minute_only_while_there_is_work(shop, kf):
    from kefu.core.scheduler import jobs
    from kefu.sla.jobs import _scan_minute

    assert "sla.scan" in {j.name for j in jobs()}
    now = at(MONDAY, "10:00")
    assert _scan_minute(shop, now) is None  # nothing happened in the shop yet
    send(shop, [("m1", "b1", KF, "buyer", at(MONDAY, "10:00"), "o1")])
    assert _scan_minute(shop, now) == "2026-11-02T02:00"
    scan(shop, now)
    assert _scan_minute(shop, now) is not None  # a clock is running
    send(shop, [("m2", "b1", KF, "agent", at(MONDAY, "10:01"))])
    scan(shop, at(MONDAY, "10:02"))
    assert _scan_minute(shop, now) is None  # all settled, nothing new
