"""Refunds above authority go to the approvals queue; approved → paid exactly once; rejected → stays (AFT-6)."""

import json

import pytest

from kefu.aftersales import money
from kefu.aftersales.models import Case, CaseApproval, CaseEvent, CaseMoneyLine, SecondService
from kefu.aftersales.services import case_transition
from kefu.approvals.models import ApprovalRequest, MoneyAction
from kefu.approvals.services import approval_cancel, approval_decide
from kefu.core.errors import KefuError
from kefu.core.models import AuditLog

from .conftest import login, make_case

pytestmark = pytest.mark.django_db


def post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def ask(shop, agent, order, amount="45"):
    case = make_case(shop, agent, order=order, amount=amount, type="refund_only")
    out, link = money.case_refund(shop=shop, case=case, actor_agent=agent, expected_version=1, note="破损")
    return out, link


def test_above_authority_files_an_approval_and_waits(shop, agent_person, supervisor, order):
    case, link = ask(shop, agent_person, order)
    assert link is not None and link.state == "pending" and link.amount == 45
    req = link.request
    assert (req.kind, req.amount, req.state, req.requested_by, req.order) == ("compensation", 45, "pending",
                                                                            agent_person, order)
    case.refresh_from_db()
    assert case.state == "open" and case.version == 2
    line = CaseMoneyLine.objects.get(case=case)
    assert line.state == "planned" and line.approval == link
    assert CaseEvent.objects.filter(case=case, action="approval_asked").count() == 1
    # While it waits: no second ask, no direct refund, no edit of the bound line.
    with pytest.raises(KefuError) as e:
        money.case_refund(shop=shop, case=case, actor_agent=supervisor, expected_version=2)
    assert e.value.code == "approval_pending"
    with pytest.raises(KefuError) as e:
        case_transition(shop=shop, case=case, to="refunded", actor_agent=supervisor, expected_version=2)
    assert e.value.code == "approval_pending"
    with pytest.raises(KefuError) as e:
        money.case_line_change(shop=shop, case=case, actor_agent=agent_person, expected_version=2, line_id=line.pk,
                               amount="10")
    assert e.value.code == "approval_pending"


def test_approve_pays_the_line_once_and_moves_the_case(shop, agent_person, supervisor, order):
    case, link = ask(shop, agent_person, order)
    approval_decide(shop=shop, approval_id=link.request_id, approver=supervisor, approve=True, reason="同意")
    case.refresh_from_db()
    assert case.state == "refunded" and case.version == 3
    line = CaseMoneyLine.objects.get(case=case)
    assert line.state == "done" and line.done_at is not None and line.approval is None
    assert MoneyAction.objects.filter(request=link.request).count() == 1
    link.refresh_from_db()
    assert link.state == "approved"
    ev = CaseEvent.objects.filter(case=case, to_state="refunded").get()
    assert ev.actor == supervisor and f"#{link.request_id}" in ev.note
    assert AuditLog.objects.filter(action="case.refunded", entity_id=str(case.pk)).count() == 1
    assert SecondService.objects.filter(case=case).count() == 1  # every refund gets a second-service call
    # Approving again: the approvals app refuses, nothing is paid twice.
    with pytest.raises(KefuError) as e:
        approval_decide(shop=shop, approval_id=link.request_id, approver=supervisor, approve=True)
    assert e.value.code == "already_decided"
    assert MoneyAction.objects.filter(request=link.request).count() == 1
    assert CaseEvent.objects.filter(case=case, to_state="refunded").count() == 1


def test_reject_keeps_the_case_with_the_reason(shop, agent_person, supervisor, order):
    case, link = ask(shop, agent_person, order)
    approval_decide(shop=shop, approval_id=link.request_id, approver=supervisor, approve=False,
                    reason="先让买家寄回")
    case.refresh_from_db()
    assert case.state == "open" and case.version == 3
    ev = CaseEvent.objects.filter(case=case, action="approval_rejected").get()
    assert "先让买家寄回" in ev.note and ev.actor == supervisor
    line = CaseMoneyLine.objects.get(case=case)
    assert line.state == "planned" and line.approval is None
    assert not MoneyAction.objects.exists()
    # Released: the line can be edited and asked for again.
    money.case_line_change(shop=shop, case=case, actor_agent=agent_person, expected_version=3, line_id=line.pk,
                           amount="15")
    case.refresh_from_db()
    out, link2 = money.case_refund(shop=shop, case=case, actor_agent=agent_person, expected_version=4)
    assert link2 is None and out.state == "refunded"  # ¥15 is within the agent's ¥20


def test_requester_cancels(shop, agent_person, supervisor, order):
    case, link = ask(shop, agent_person, order)
    approval_cancel(shop=shop, approval_id=link.request_id, agent=agent_person)
    link.refresh_from_db()
    assert link.state == "rejected"
    assert CaseEvent.objects.filter(case=case, action="approval_rejected", note__contains="撤回").exists()


def test_approval_refused_when_the_case_moved_on(shop, agent_person, supervisor, order):
    case, link = ask(shop, agent_person, order)
    case_transition(shop=shop, case=case, to="closed", actor_agent=supervisor, expected_version=2)
    with pytest.raises(KefuError) as e:
        approval_decide(shop=shop, approval_id=link.request_id, approver=supervisor, approve=True)
    assert e.value.code == "invalid_transition"
    assert ApprovalRequest.objects.get(pk=link.request_id).state == "pending"  # all rolled back
    assert not MoneyAction.objects.exists()
    approval_decide(shop=shop, approval_id=link.request_id, approver=supervisor, approve=False, reason="已关闭")
    assert CaseApproval.objects.get(pk=link.pk).state == "rejected"


def test_within_authority_refunds_at_once_with_a_money_action(shop, supervisor, order):
    case = make_case(shop, supervisor, order=order, amount="45", type="refund_only")
    out, link = money.case_refund(shop=shop, case=case, actor_agent=supervisor, expected_version=1)
    assert link is None and out.state == "refunded"
    assert MoneyAction.objects.get().amount == 45
    assert CaseMoneyLine.objects.get(case=case).state == "done"


def test_refund_needs_a_person_and_a_money_state(shop, api, agent_person, order):
    case = make_case(shop, agent_person, order=order, amount="45")
    r = post(api, f"/api/v1/cases/{case.pk}/refund", {"to": "refunded", "expected_version": 1})
    assert r.status_code == 400 and r.json()["code"] == "person_required"
    r = post(api, f"/api/v1/cases/{case.pk}/refund", {"to": "closed", "expected_version": 1})
    assert r.status_code == 400 and r.json()["field"] == "to"
    r = post(api, f"/api/v1/cases/{case.pk}/refund", {"to": "refunded", "expected_version": 7})
    assert r.status_code == 409 and r.json()["code"] == "stale_version"


def test_refund_over_the_api_then_approve_over_the_api(shop, agent_person, supervisor, order):
    case = make_case(shop, agent_person, order=order, amount="45")
    c = login(agent_person)
    r = post(c, f"/api/v1/cases/{case.pk}/refund?shop=s1", {"to": "refunded", "expected_version": 1})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["outcome"] == "pending" and body["case"]["pending_approval_id"] == body["approval_id"]
    assert body["case"]["money_lines"][0]["pending_approval"] is True
    r = post(login(supervisor), f"/api/v1/approvals/{body['approval_id']}/approve?shop=s1", {"reason": "ok"})
    assert r.status_code == 200, r.content
    got = c.get(f"/api/v1/cases/{case.pk}?shop=s1").json()
    assert got["state"] == "refunded" and got["money_lines"][0]["state"] == "done"
    assert got["money_outcome"]["paid_to_buyer"] == "45.00" and got["second_service"]["done_at"] is None


def test_page_approval_flow(shop, agent_person, supervisor, order):
    case, link = ask(shop, agent_person, order)
    html = login(agent_person).get(f"/aftersales/{case.pk}/").content.decode()
    assert "退款审批中" in html and "审批中" in html
    approval_decide(shop=shop, approval_id=link.request_id, approver=supervisor, approve=True)
    html = login(agent_person).get(f"/aftersales/{case.pk}/").content.decode()
    assert "已退款" in html and "二次服务回访" in html
    assert Case.objects.get(pk=case.pk).state == "refunded"
