"""The follow-up state machine: every allowed transition, every refused one, events and audit."""

import datetime as dt

import pytest
from django.utils import timezone

from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import AuditLog
from kefu.followups.enums import FollowUpAction, FollowUpState
from kefu.followups.models import FollowUp, FollowUpEvent
from kefu.followups.services import TRANSITIONS, followup_act, followup_create, followup_transition

pytestmark = pytest.mark.django_db
S, A = FollowUpState, FollowUpAction


def lead(shop, customer, owner, **kw):
    return followup_create(shop=shop, kind="lead", customer=customer, owner=owner, actor=owner, **kw)


def test_the_table():
    assert TRANSITIONS[(S.OPEN, A.CONTACT)] == S.CONTACTED
    assert TRANSITIONS[(S.CONTACTED, A.CONTACT)] == S.CONTACTED
    for state in (S.OPEN, S.CONTACTED):
        assert TRANSITIONS[(state, A.WIN)] == S.CLOSED_WON
        assert TRANSITIONS[(state, A.LOSE)] == S.CLOSED_LOST
        assert TRANSITIONS[(state, A.CANCEL)] == S.CANCELLED
        assert TRANSITIONS[(state, A.AUTO_WIN)] == S.CLOSED_WON
        assert TRANSITIONS[(state, A.AUTO_LOSE)] == S.CLOSED_LOST
    # Nothing leaves a closed state.
    assert not [k for k in TRANSITIONS if k[0] in (S.CLOSED_WON, S.CLOSED_LOST, S.CANCELLED)]


def test_contact_then_win_writes_events_and_audit(shop, customer, agent_person):
    fu = lead(shop, customer, agent_person, reason="size_unsure", note="问 M 还是 L")
    now = timezone.now()
    later = now + dt.timedelta(hours=3)
    fu = followup_act(shop=shop, followup_id=fu.pk, action="contact", actor=agent_person, reason="price",
                      note="发了尺码表", next_contact_at=later, now=now)
    assert fu.state == S.CONTACTED and fu.contact_count == 1 and fu.next_contact_at == later and fu.reason == "price"
    fu = followup_act(shop=shop, followup_id=fu.pk, action="contact", actor=agent_person, now=now)
    assert fu.state == S.CONTACTED and fu.contact_count == 2 and fu.next_contact_at is None
    fu = followup_act(shop=shop, followup_id=fu.pk, action="win", actor=agent_person, outcome="已拍下")
    assert fu.state == S.CLOSED_WON and fu.closed_at is not None and fu.outcome == "已拍下"
    events = list(FollowUpEvent.objects.filter(followup=fu).values_list("action", "from_state", "to_state"))
    assert events == [("create", "", "open"), ("contact", "open", "contacted"),
                      ("contact", "contacted", "contacted"), ("win", "contacted", "closed_won")]
    actions = set(AuditLog.objects.filter(entity_type="FollowUp", entity_id=str(fu.pk)).values_list("action", flat=True))
    assert actions == {"followup.create", "followup.contact", "followup.win"}


@pytest.mark.parametrize("final", ["win", "lose", "cancel"])
def test_closed_follow_ups_refuse_everything(shop, customer, agent_person, final):
    fu = lead(shop, customer, agent_person)
    followup_act(shop=shop, followup_id=fu.pk, action=final, actor=agent_person)
    for action in ("contact", "win", "lose", "cancel"):
        with pytest.raises(KefuError) as exc:
            followup_act(shop=shop, followup_id=fu.pk, action=action, actor=agent_person)
        assert exc.value.code == "invalid_transition" and exc.value.field == "action"
    fu.refresh_from_db()
    with pytest.raises(KefuError):
        followup_transition(fu=fu, action="auto_win")
    assert FollowUpEvent.objects.filter(followup=fu).count() == 2


def test_people_cannot_use_system_actions_or_unknown_ones(shop, customer, agent_person):
    fu = lead(shop, customer, agent_person)
    for action in ("auto_win", "auto_lose", "create", "reopen", ""):
        with pytest.raises(KefuError) as exc:
            followup_act(shop=shop, followup_id=fu.pk, action=action, actor=agent_person)
        assert exc.value.field == "action"
    assert FollowUp.objects.get(pk=fu.pk).state == S.OPEN


def test_only_owner_or_supervisor_acts(shop, customer, agent_person, colleague, supervisor):
    fu = lead(shop, customer, agent_person)
    with pytest.raises(PermissionDenied):
        followup_act(shop=shop, followup_id=fu.pk, action="contact", actor=colleague)
    assert followup_act(shop=shop, followup_id=fu.pk, action="cancel", actor=supervisor,
                        note="重复").state == S.CANCELLED


def test_bad_input_names_the_field(shop, customer, agent_person):
    now = timezone.now()
    fu = lead(shop, customer, agent_person)
    cases = [
        ({"action": "contact", "reason": "cannot_pay"}, "reason"),  # a 催付 reason on a lead
        ({"action": "contact", "next_contact_at": now - dt.timedelta(minutes=1)}, "next_contact_at"),
        ({"action": "contact", "next_contact_at": dt.datetime(2030, 1, 1)}, "next_contact_at"),  # naive
        ({"action": "win", "next_contact_at": now + dt.timedelta(hours=1)}, "next_contact_at"),
        ({"action": "win", "outcome": "x" * 501}, "outcome"),
        ({"action": "contact", "note": 5}, "note"),
    ]
    for kw, field in cases:
        with pytest.raises(KefuError) as exc:
            followup_act(shop=shop, followup_id=fu.pk, actor=agent_person, now=now, **kw)
        assert exc.value.field == field, kw
    assert FollowUp.objects.get(pk=fu.pk).state == S.OPEN


def test_promised_answer_deadline_at_most_24_hours(shop, customer, agent_person):
    now = timezone.now()
    make = lambda **kw: followup_create(shop=shop, kind="promised_answer", customer=customer,  # noqa: E731
                                        owner=agent_person, actor=agent_person, now=now, reason="check_stock", **kw)
    for due, field in ((None, "due_at"), (now + dt.timedelta(hours=24, seconds=1), "due_at"),
                       (now - dt.timedelta(minutes=5), "due_at")):
        with pytest.raises(KefuError) as exc:
            make(due_at=due)
        assert exc.value.field == field
    fu = make(due_at=now + dt.timedelta(hours=24))
    assert fu.due_at == now + dt.timedelta(hours=24) and fu.state == S.OPEN


def test_create_rules(shop, other_shop, customer, agent_person, colleague, supervisor):
    with pytest.raises(KefuError) as exc:
        followup_create(shop=shop, kind="payment_reminder", customer=customer, owner=None, actor=agent_person)
    assert exc.value.field == "kind"
    with pytest.raises(PermissionDenied):
        followup_create(shop=shop, kind="lead", customer=customer, owner=colleague, actor=agent_person)
    fu = followup_create(shop=shop, kind="lead", customer=customer, owner=colleague, actor=supervisor,
                         reason="waiting_promotion")
    assert fu.owner == colleague
    with pytest.raises(KefuError) as exc:
        followup_create(shop=shop, kind="lead", customer=customer, owner=None, actor=None)
    assert exc.value.field == "owner_id"
