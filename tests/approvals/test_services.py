"""Money action requests, decisions, exactly-once execution, idempotent resends, notifications, audit."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from kefu.approvals.models import ApprovalEvent, ApprovalRequest, MoneyAction, Notification
from kefu.approvals.services import approval_cancel, approval_decide, money_action_request
from kefu.core.errors import KefuError
from kefu.core.models import AuditLog
from kefu.core.services import person_create

pytestmark = pytest.mark.django_db
D = Decimal


def ask(shop, agent, amount, kind="discount", **kw):
    return money_action_request(shop=shop, agent=agent, kind=kind, amount=amount, reason=kw.pop("reason", "老客户"),
                                **kw)


def test_within_authority_is_executed_at_once(shop, agent_person, order):
    r = ask(shop, agent_person, "20", order=order)
    assert r.outcome == "executed" and r.approval is None
    a = r.money_action
    assert (a.kind, a.amount, a.requested_by, a.approved_by, a.order, a.customer) == (
        "discount", D("20.00"), agent_person, None, order, order.customer)
    assert ApprovalRequest.objects.count() == 0
    audit = AuditLog.objects.get(action="money_action.execute")
    assert audit.entity_id == str(a.pk) and audit.after["amount"] == "20.00" and audit.actor == agent_person.user


def test_above_authority_waits_for_approvers_who_are_notified(shop, agent_person, supervisor, manager, admin_person):
    r = ask(shop, agent_person, "30", kind="compensation", reason="发错颜色")
    assert r.outcome == "pending" and r.money_action is None
    req = r.approval
    assert req.state == "pending" and MoneyAction.objects.count() == 0
    assert set(Notification.objects.values_list("recipient__name", flat=True)) == {"主管阿琳", "经理", "店长"}
    n = Notification.objects.filter(recipient=supervisor).get()
    assert "小美" in n.text and "30" in n.text and n.link.endswith(f"#request-{req.pk}") and n.read_at is None
    assert list(req.events.values_list("action", "to_state")) == [("create", "pending")]
    assert AuditLog.objects.filter(action="approval.create", entity_id=str(req.pk)).count() == 1


def test_supervisor_cannot_approve_above_own_limit_it_goes_to_a_manager(shop, agent_person, supervisor, manager):
    req = ask(shop, agent_person, "80").approval
    # The supervisor is not even notified of an 80 yuan request.
    assert list(Notification.objects.values_list("recipient__name", flat=True)) == ["经理"]
    with pytest.raises(KefuError) as exc:
        approval_decide(shop=shop, approval_id=req.pk, approver=supervisor, approve=True)
    assert exc.value.code == "above_authority" and "manager" in exc.value.message
    req.refresh_from_db()
    assert req.state == "pending"
    approval_decide(shop=shop, approval_id=req.pk, approver=manager, approve=True, reason="可以")
    req.refresh_from_db()
    assert req.state == "executed" and req.decided_by == manager and req.decision_reason == "可以"
    a = MoneyAction.objects.get()
    assert (a.request, a.approved_by, a.requested_by, a.amount) == (req, manager, agent_person, D("80.00"))
    assert list(req.events.values_list("action", "from_state", "to_state")) == [
        ("create", "", "pending"), ("approve", "pending", "approved"), ("execute", "approved", "executed")]
    actions = list(AuditLog.objects.filter(shop=shop).order_by("id").values_list("action", flat=True))
    assert actions[-4:] == ["approval.create", "approval.approve", "money_action.execute", "approval.execute"]
    # The requester hears of the decision.
    assert Notification.objects.filter(recipient=agent_person, text__contains="批准").count() == 1


def test_reject_needs_a_reason_and_executes_nothing(shop, agent_person, supervisor):
    req = ask(shop, agent_person, "30").approval
    for reason in ("", "   ", None):
        with pytest.raises(KefuError) as exc:
            approval_decide(shop=shop, approval_id=req.pk, approver=supervisor, approve=False, reason=reason)
        assert exc.value.field == "reason"
    approval_decide(shop=shop, approval_id=req.pk, approver=supervisor, approve=False, reason="已给过优惠")
    req.refresh_from_db()
    assert req.state == "rejected" and req.decision_reason == "已给过优惠" and MoneyAction.objects.count() == 0
    assert Notification.objects.filter(recipient=agent_person, text__contains="已给过优惠").exists()
    assert AuditLog.objects.filter(action="approval.reject", entity_id=str(req.pk)).get().after["reason"] == "已给过优惠"


def test_agents_and_requesters_cannot_decide(shop, agent_person, supervisor, manager):
    colleague = person_create(shop=shop, name="阿强", username="aq", password="pass-word-1", roles=["agent"])
    req = ask(shop, agent_person, "30").approval
    with pytest.raises(KefuError) as exc:
        approval_decide(shop=shop, approval_id=req.pk, approver=colleague, approve=True)
    assert exc.value.code == "not_approver"
    mine = ask(shop, supervisor, "60").approval
    with pytest.raises(KefuError) as exc:
        approval_decide(shop=shop, approval_id=mine.pk, approver=supervisor, approve=True)
    assert exc.value.code in ("own_request", "above_authority")
    own = ask(shop, manager, "150").approval
    with pytest.raises(KefuError) as exc:
        approval_decide(shop=shop, approval_id=own.pk, approver=manager, approve=True)
    assert exc.value.code == "own_request"
    with pytest.raises(KefuError):
        approval_decide(shop=shop, approval_id=req.pk, approver=None, approve=True)


def test_approving_twice_executes_once(shop, agent_person, supervisor, supervisor2):
    req = ask(shop, agent_person, "30").approval
    approval_decide(shop=shop, approval_id=req.pk, approver=supervisor, approve=True)
    for who, approve in ((supervisor, True), (supervisor2, True), (supervisor2, False)):
        with pytest.raises(KefuError) as exc:
            approval_decide(shop=shop, approval_id=req.pk, approver=who, approve=approve, reason="x")
        assert exc.value.code == "already_decided"
    assert MoneyAction.objects.filter(request=req).count() == 1
    assert ApprovalEvent.objects.filter(request=req, action="execute").count() == 1


def test_the_database_refuses_a_second_action_for_one_request(shop, agent_person, supervisor):
    req = ask(shop, agent_person, "30").approval
    approval_decide(shop=shop, approval_id=req.pk, approver=supervisor, approve=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        MoneyAction.objects.create(shop=shop, kind="discount", amount=D("30"), reason="x", requested_by=agent_person,
                                   request=req)


def test_money_actions_are_append_only(shop, agent_person):
    a = ask(shop, agent_person, "5").money_action
    a.amount = D("1")
    with pytest.raises(ValueError):
        a.save()
    with pytest.raises(ValueError):
        a.delete()


def test_cancel_by_the_requester_only(shop, agent_person, supervisor):
    colleague = person_create(shop=shop, name="阿强", roles=["agent"])
    req = ask(shop, agent_person, "30").approval
    with pytest.raises(KefuError) as exc:
        approval_cancel(shop=shop, approval_id=req.pk, agent=colleague)
    assert exc.value.code == "not_requester"
    approval_cancel(shop=shop, approval_id=req.pk, agent=agent_person, reason="买家不要了")
    req.refresh_from_db()
    assert req.state == "cancelled"
    with pytest.raises(KefuError) as exc:
        approval_decide(shop=shop, approval_id=req.pk, approver=supervisor, approve=True)
    assert exc.value.code == "already_decided"


# ---------------------------------------------------------------- idempotent resends

def test_resend_of_an_executed_action_returns_the_first(shop, agent_person, order):
    first = ask(shop, agent_person, "10", order=order, request_id="k-1")
    again = ask(shop, agent_person, "10.00", order=order, request_id="k-1")
    assert again.replayed and not first.replayed
    assert again.money_action.pk == first.money_action.pk and MoneyAction.objects.count() == 1


def test_resend_of_a_pending_request_returns_it(shop, agent_person, supervisor):
    first = ask(shop, agent_person, "30", request_id="k-2")
    again = ask(shop, agent_person, "30", request_id="k-2")
    assert again.replayed and again.approval.pk == first.approval.pk and ApprovalRequest.objects.count() == 1
    assert Notification.objects.count() == 1
    approval_decide(shop=shop, approval_id=first.approval.pk, approver=supervisor, approve=True)
    third = ask(shop, agent_person, "30", request_id="k-2")
    assert third.outcome == "executed" and third.money_action.request_id == first.approval.pk
    assert MoneyAction.objects.count() == 1


def test_a_request_id_cannot_be_reused_for_another_request(shop, agent_person, other_shop):
    ask(shop, agent_person, "10", request_id="k-3")
    with pytest.raises(KefuError) as exc:
        ask(shop, agent_person, "11", request_id="k-3")
    assert exc.value.code == "request_id_reused" and exc.value.field == "request_id"
    # Unique per shop: another shop may use the same key.
    p = person_create(shop=other_shop, name="别人", roles=["agent"])
    assert ask(other_shop, p, "10", request_id="k-3").outcome == "executed"


# ---------------------------------------------------------------- input

def test_free_order_defaults_to_the_paid_amount(shop, agent_person, order, supervisor, manager):
    r = money_action_request(shop=shop, agent=agent_person, kind="free_order", reason="001: 丢件免单", order=order)
    assert r.outcome == "pending" and r.approval.amount == D("168.00")
    assert r.decision.approver_roles == ("admin",)


@pytest.mark.parametrize("kw,field", [
    ({"amount": "300"}, "amount"),  # more than the order
    ({"amount": "abc"}, "amount"),
    ({"amount": None}, "amount"),
    ({"amount": "1", "reason": ""}, "reason"),
    ({"amount": "1", "reason": "x" * 501}, "reason"),
    ({"amount": "1", "kind": "bribe"}, "kind"),
    ({"amount": "1", "request_id": "k" * 65}, "request_id"),
])
def test_bad_input_names_the_field(shop, agent_person, order, kw, field):
    kw = {"kind": "discount", "reason": "r", **kw}
    with pytest.raises(KefuError) as exc:
        money_action_request(shop=shop, agent=agent_person, order=order, **kw)
    assert exc.value.field == field
    assert MoneyAction.objects.count() == 0 and ApprovalRequest.objects.count() == 0


def test_another_shops_order_or_person_is_refused(shop, other_shop, agent_person, order):
    p = person_create(shop=other_shop, name="别人", roles=["admin"])
    with pytest.raises(KefuError) as exc:
        ask(other_shop, p, "1", order=order)
    assert exc.value.code == "not_found"
    with pytest.raises(KefuError):
        ask(shop, p, "1")
    req = ask(shop, agent_person, "30").approval
    with pytest.raises(KefuError):
        approval_decide(shop=other_shop, approval_id=req.pk, approver=p, approve=True)
    with pytest.raises(KefuError):
        approval_decide(shop=shop, approval_id=req.pk, approver=p, approve=True)
    req.refresh_from_db()
    assert req.state == "pending"
