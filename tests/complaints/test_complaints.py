"""CMP-1: the four stages and seven steps, remedy through approvals, verdicts for the penalty rules."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kefu.approvals.models import ApprovalRequest, MoneyAction
from kefu.complaints import services
from kefu.complaints.models import AgentComplaint, ComplaintEvent
from kefu.complaints.selectors import complaints_against
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import AuditLog
from kefu.core.timeutil import shop_day

pytestmark = pytest.mark.django_db


def new(shop, actor, customer, **kw):
    return services.complaint_create(shop=shop, source=kw.pop("source", "buyer"), category=kw.pop("category", "attitude"),
                                     summary=kw.pop("summary", "客服态度太差了，我要投诉！"), actor=actor,
                                     customer=customer, **kw)


def tick(shop, c, actor, *steps):
    for s in steps:
        services.complaint_check(shop=shop, complaint_id=c.pk, step=s, actor=actor)


def act(shop, c, actor, action, note=""):
    return services.complaint_act(shop=shop, complaint_id=c.pk, action=action, actor=actor, note=note)


def test_the_four_stages_need_their_steps(shop, agent_person, customer):
    c = new(shop, agent_person, customer)
    assert c.state == "accept" and c.owner == agent_person and c.negativity > 0
    with pytest.raises(KefuError) as e:
        act(shop, c, agent_person, "advance")
    assert e.value.code == "steps_missing" and "calm" in e.value.message
    tick(shop, c, agent_person, "accept_quickly", "calm")
    assert act(shop, c, agent_person, "advance").state == "clarify"
    # A step of a later stage waits for that stage.
    with pytest.raises(KefuError) as e:
        tick(shop, c, agent_person, "agree")
    assert e.value.field == "step"
    tick(shop, c, agent_person, "clarify", "clarify")  # twice: a no-op
    assert act(shop, c, agent_person, "advance").state == "solution"
    tick(shop, c, agent_person, "options", "agree", "thank")
    with pytest.raises(KefuError) as e:
        act(shop, c, agent_person, "advance")
    assert e.value.field == "remedy_kind"  # the remedy is chosen before the revisit
    services.complaint_remedy(shop=shop, complaint_id=c.pk, kind="apology", text="诚恳道歉并送小礼品",
                              actor=agent_person)
    assert act(shop, c, agent_person, "advance").state == "revisit"
    with pytest.raises(KefuError):
        act(shop, c, agent_person, "close")
    tick(shop, c, agent_person, "track")
    c = act(shop, c, agent_person, "close")
    assert c.state == "closed" and c.closed_at is not None
    actions = list(ComplaintEvent.objects.filter(complaint=c).values_list("action", flat=True))
    assert actions.count("check") == 7 and actions.count("advance") == 3 and actions[0] == "create"
    assert actions[-1] == "close"
    with pytest.raises(KefuError):
        act(shop, c, agent_person, "dismiss", "x")
    assert AuditLog.objects.filter(action="complaint.close").count() == 1


def test_dismiss_needs_a_reason_and_only_owner_or_supervisor_acts(shop, agent_person, colleague, supervisor,
                                                                  customer):
    c = new(shop, agent_person, customer)
    with pytest.raises(PermissionDenied):
        tick(shop, c, colleague, "calm")
    with pytest.raises(KefuError) as e:
        act(shop, c, agent_person, "dismiss")
    assert e.value.field == "note"
    assert act(shop, c, supervisor, "dismiss", "买家撤回").state == "closed"


def test_buyer_complaint_names_the_buyer_and_an_agent_registers_own(shop, agent_person, colleague, customer):
    with pytest.raises(KefuError) as e:
        services.complaint_create(shop=shop, source="buyer", category="product", summary="x", actor=agent_person)
    assert e.value.field == "buyer_id"
    with pytest.raises(PermissionDenied):
        new(shop, agent_person, customer, owner=colleague)
    with pytest.raises(KefuError) as e:
        new(shop, agent_person, customer, buyer_type="angry")
    assert e.value.field == "buyer_type"
    with pytest.raises(KefuError) as e:
        new(shop, agent_person, customer, revisit_on="2020-01-01")
    assert e.value.field == "revisit_on"


def test_complaint_against_an_agent_feeds_penalty_rules(shop, agent_person, colleague, supervisor, customer):
    c = new(shop, supervisor, customer, against=colleague, owner=agent_person)
    record = AgentComplaint.objects.get(complaint=c)
    assert record.agent == colleague and record.verdict == "pending"
    today = shop_day(timezone.now(), shop.tz)
    assert complaints_against(shop=shop, agent=colleague, date_from=today, date_to=today) == []
    assert len(complaints_against(shop=shop, agent=colleague, date_from=today, date_to=today, verdict=None)) == 1
    with pytest.raises(PermissionDenied):
        services.complaint_verdict(shop=shop, complaint_id=c.pk, verdict="upheld", actor=agent_person)
    services.complaint_verdict(shop=shop, complaint_id=c.pk, verdict="upheld", actor=supervisor, note="聊天记录属实")
    rows = complaints_against(shop=shop, agent=colleague, date_from=today, date_to=today)
    assert [r.complaint_id for r in rows] == [c.pk]
    assert complaints_against(shop=shop, agent=colleague, date_from=today + dt.timedelta(days=1),
                              date_to=today + dt.timedelta(days=9)) == []
    assert complaints_against(shop=shop, agent=agent_person, date_from=today, date_to=today) == []
    # A complaint without an agent has no verdict.
    other = new(shop, agent_person, customer)
    with pytest.raises(KefuError):
        services.complaint_verdict(shop=shop, complaint_id=other.pk, verdict="upheld", actor=supervisor)


def _to_solution(shop, c, actor):
    tick(shop, c, actor, "accept_quickly", "calm")
    act(shop, c, actor, "advance")
    tick(shop, c, actor, "clarify")
    act(shop, c, actor, "advance")


def test_compensation_goes_through_approvals_once(shop, agent_person, customer, order):
    c = new(shop, agent_person, customer, order=order)
    with pytest.raises(KefuError):  # not in the solution stage yet
        services.complaint_remedy(shop=shop, complaint_id=c.pk, kind="compensation", text="补偿", amount="5",
                                  actor=agent_person)
    _to_solution(shop, c, agent_person)
    with pytest.raises(KefuError) as e:
        services.complaint_remedy(shop=shop, complaint_id=c.pk, kind="apology", text="x", amount="5",
                                  actor=agent_person)
    assert e.value.field == "amount"
    c, outcome = services.complaint_remedy(shop=shop, complaint_id=c.pk, kind="compensation", text="补偿运费",
                                           amount="15.00", actor=agent_person)
    assert outcome == "executed"  # the agent's default authority is ¥20
    ma = MoneyAction.objects.get(shop=shop)
    assert ma.amount == Decimal("15.00") and ma.kind == "compensation" and c.remedy_money_action == ma
    with pytest.raises(KefuError) as e:
        services.complaint_remedy(shop=shop, complaint_id=c.pk, kind="compensation", text="再补", amount="1",
                                  actor=agent_person)
    assert e.value.code == "exists"
    assert MoneyAction.objects.count() == 1


def test_compensation_above_authority_waits_for_approval(shop, agent_person, customer, order):
    c = new(shop, agent_person, customer, order=order)
    _to_solution(shop, c, agent_person)
    tomorrow = shop_day(timezone.now(), shop.tz) + dt.timedelta(days=1)
    c, outcome = services.complaint_remedy(shop=shop, complaint_id=c.pk, kind="compensation", text="补偿 50",
                                           amount=Decimal("50"), revisit_on=tomorrow, actor=agent_person)
    assert outcome == "pending" and MoneyAction.objects.count() == 0
    req = ApprovalRequest.objects.get(shop=shop)
    assert c.remedy_approval == req and req.amount == Decimal("50.00") and c.revisit_on == tomorrow
    # An integration token (no person) cannot move money.
    c2 = new(shop, agent_person, customer)
    _to_solution(shop, c2, agent_person)
    with pytest.raises(KefuError) as e:
        services.complaint_remedy(shop=shop, complaint_id=c2.pk, kind="compensation", text="x", amount="5",
                                  actor=None)
    assert e.value.code == "person_required"
