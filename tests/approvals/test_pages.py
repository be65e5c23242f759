"""Pages for an agent, a supervisor and a manager; htmx decisions; header badge; query counts."""

import pytest

from kefu.approvals.models import ApprovalRequest, MoneyAction, Notification
from kefu.approvals.services import money_action_request
from kefu.core.services import person_create

from .conftest import login

pytestmark = pytest.mark.django_db


def ask(shop, agent, amount, kind="discount", reason="老客户"):
    return money_action_request(shop=shop, agent=agent, kind=kind, amount=amount, reason=reason)


def test_pages_need_login(client):
    for url in ("/approvals/", "/approvals/new/", "/approvals/history/", "/approvals/limits/",
                "/approvals/notifications/"):
        r = client.get(url)
        assert r.status_code == 302 and r.url.startswith("/login/"), url


def test_agent_request_form_within_and_above_the_limit(shop, agent_person, supervisor, order):
    c = login(agent_person)
    html = c.get("/approvals/new/?order=T1001").content.decode()
    assert "申请改价/补偿/免单" in html and "T1001" in html and "¥20.00" in html and 'name="request_id"' in html
    assert "权限额度设置" not in html  # role-aware: agents do not set limits
    check = c.get("/approvals/check/?kind=discount&amount=25", HTTP_HX_REQUEST="true").content.decode()
    assert "超出你的权限" in check and "<html" not in check
    assert "在你的权限内" in c.get("/approvals/check/?kind=discount&amount=5").content.decode()

    r = c.post("/approvals/new/", {"order_id": "T1001", "kind": "discount", "amount": "12", "reason": "老客户",
                                   "request_id": "form-1"})
    assert r.status_code == 200 and r.context["result"].outcome == "executed"
    # The browser resends the same form (double click, back + resubmit): still one action.
    c.post("/approvals/new/", {"order_id": "T1001", "kind": "discount", "amount": "12", "reason": "老客户",
                               "request_id": "form-1"})
    assert MoneyAction.objects.count() == 1
    r = c.post("/approvals/new/", {"order_id": "T1001", "kind": "compensation", "amount": "45", "reason": "发错货",
                                   "request_id": "form-2"})
    assert r.context["result"].outcome == "pending" and "已提交审批" in r.content.decode()
    assert Notification.objects.filter(recipient=supervisor).count() == 1


def test_request_form_errors_are_shown_by_field(shop, agent_person, order):
    c = login(agent_person)
    r = c.post("/approvals/new/", {"order_id": "NOPE", "kind": "discount", "amount": "5", "reason": "r"})
    assert r.status_code == 200 and "本店没有这个订单" in r.content.decode()
    r = c.post("/approvals/new/", {"order_id": "T1001", "kind": "discount", "amount": "-5", "reason": ""})
    assert set(r.context["form"].errors) == {"amount", "reason"}
    r = c.post("/approvals/new/", {"order_id": "T1001", "kind": "discount", "amount": "999", "reason": "r"})
    assert "amount" in r.context["form"].errors
    assert MoneyAction.objects.count() == 0 and ApprovalRequest.objects.count() == 0


def test_supervisor_queue_and_htmx_decisions(shop, agent_person, supervisor, manager):
    small = ask(shop, agent_person, "30").approval
    big = ask(shop, agent_person, "80").approval
    c = login(supervisor)
    r = c.get("/approvals/")
    assert [x.pk for x in r.context["pending"]] == [small.pk]
    assert [x.pk for x in r.context["above"]] == [big.pk]
    html = r.content.decode()
    assert f'id="request-{small.pk}"' in html and "超出我的权限" in html and "权限额度设置" not in html
    assert 'id="unread-count">1<' in html  # the header badge: one request to decide
    # Reject without a reason: the row says why, nothing changes.
    r = c.post(f"/approvals/{small.pk}/decide/", {"action": "reject", "reason": ""}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "请填写驳回原因" in r.content.decode() and "<html" not in r.content.decode()
    r = c.post(f"/approvals/{small.pk}/decide/", {"action": "approve", "reason": "同意"}, HTTP_HX_REQUEST="true")
    row = r.content.decode()
    assert "已执行" in row and "主管阿琳" in row and f'id="request-{small.pk}"' in row
    r = c.post(f"/approvals/{small.pk}/decide/", {"action": "approve"}, HTTP_HX_REQUEST="true")
    assert "已被他人处理" in r.content.decode()
    r = c.post(f"/approvals/{big.pk}/decide/", {"action": "approve"}, HTTP_HX_REQUEST="true")
    assert "超出你的审批权限" in r.content.decode()
    assert MoneyAction.objects.count() == 1
    # The manager decides the big one (no htmx: back to the queue).
    r = login(manager).post(f"/approvals/{big.pk}/decide/", {"action": "approve"})
    assert r.status_code == 302 and MoneyAction.objects.count() == 2


def test_agent_sees_own_requests_and_cannot_decide(shop, agent_person, supervisor):
    req = ask(shop, agent_person, "30").approval
    colleague = person_create(shop=shop, name="阿强", username="aq", password="pass-word-1", roles=["agent"])
    c = login(agent_person)
    r = c.get("/approvals/")
    assert r.context["is_approver"] is False and [x.pk for x in r.context["mine"]] == [req.pk]
    assert "待我审批" not in r.content.decode()
    assert c.post(f"/approvals/{req.pk}/decide/", {"action": "approve"}).status_code == 404
    assert login(colleague).post(f"/approvals/{req.pk}/cancel/").status_code == 404
    assert c.post(f"/approvals/{req.pk}/cancel/").status_code == 302
    req.refresh_from_db()
    assert req.state == "cancelled"


def test_history_shows_who_why_and_who_approved(shop, agent_person, supervisor, order):
    ask(shop, agent_person, "5", reason="凑单优惠")
    req = ask(shop, agent_person, "30", kind="compensation", reason="发错颜色").approval
    from kefu.approvals.services import approval_decide
    approval_decide(shop=shop, approval_id=req.pk, approver=supervisor, approve=True, reason="按政策")
    html = login(supervisor).get("/approvals/history/").content.decode()
    for text in ("凑单优惠", "发错颜色", "主管阿琳", "按政策", "权限内，无需审批", "小美", "补偿"):
        assert text in html, text
    other = person_create(shop=shop, name="阿强", username="aq", password="pass-word-1", roles=["agent"])
    assert "发错颜色" not in login(other).get("/approvals/history/").content.decode()
    assert len(login(supervisor).get("/approvals/history/?kind=discount").context["page"]) == 1


def test_limits_page_for_managers_only(shop, agent_person, supervisor, manager):
    assert login(agent_person).get("/approvals/limits/").status_code == 404
    assert login(supervisor).get("/approvals/limits/").status_code == 404
    c = login(manager)
    html = c.get("/approvals/limits/").content.decode()
    assert "权限额度设置" in html and 'name="role-agent-discount"' in html
    r = c.post("/approvals/limits/", {"role-agent-discount": "30", "role-agent-compensation": "",
                                      "person": str(agent_person.pk), "person_kind": "free_order",
                                      "person_limit": "80"})
    assert r.status_code == 200 and r.context["saved"]
    from kefu.approvals.authority import authority_check
    assert authority_check(shop=shop, agent=agent_person, kind="discount", amount="30").allowed
    assert authority_check(shop=shop, agent=agent_person, kind="free_order", amount="80").allowed
    # Unlimited is above a manager's own authority: refused with the reason.
    r = c.post("/approvals/limits/", {"role-agent-discount": "不限"})
    assert r.status_code == 400 and r.context["errors"]
    assert authority_check(shop=shop, agent=agent_person, kind="discount", amount="30.01").limit == 30


def test_notifications_page_and_badge(shop, agent_person, supervisor):
    ask(shop, agent_person, "30")
    c = login(supervisor)
    html = c.get("/approvals/notifications/").content.decode()
    assert "小美" in html and "未读" in html
    c.post("/approvals/notifications/")
    assert Notification.objects.filter(recipient=supervisor, read_at__isnull=True).count() == 0
    assert 'id="unread-count"' not in c.get("/approvals/").content.decode()


def test_pages_in_english(shop, agent_person, supervisor):
    ask(shop, agent_person, "30")
    c = login(supervisor)
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = c.get("/approvals/").content.decode()
    assert "Approvals" in html and "To decide" in html and "Approve" in html and "审批" not in html
    assert "Request a price change" in c.get("/approvals/new/").content.decode()
    assert "Money actions" in c.get("/approvals/history/").content.decode()


def _queue_queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/approvals/").status_code == 200
    return len(ctx.captured_queries)


def test_queue_queries_do_not_grow_with_requests(shop, agent_person, supervisor, order,
                                                 django_assert_max_num_queries):
    def make(n, offset):
        for i in range(n):
            req = ask(shop, agent_person, str(21 + (i + offset) % 60), kind=("discount", "compensation")[i % 2])
            if i % 3 == 0:
                ApprovalRequest.objects.filter(pk=req.approval.pk).update(order=order, customer=order.customer)

    make(3, 0)
    c = login(supervisor)
    small = _queue_queries(c)
    make(17, 3)
    with django_assert_max_num_queries(small):
        r = c.get("/approvals/")
    assert len(r.context["pending"]) + len(r.context["above"]) == 20
