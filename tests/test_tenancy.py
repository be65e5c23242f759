"""Every API route, called as another shop's integration or person, answers 404 for this shop's data."""

import json
import re

import pytest
from django.test import Client

from kefu.api import api
from kefu.conversations.models import Conversation
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import person_create, token_create

BODIES = {
    "/api/v1/messages": {"message_id": "x1", "buyer_id": "b9", "agent_id": "a9", "sender": "buyer",
                         "sent_at": "2026-11-01T10:00:00"},
    "/api/v1/orders": {"order_id": "o9", "buyer_id": "b9", "created_at": "2026-11-01T10:00:00"},
    "/api/v1/customers/{buyer_id}/spam": {"spam": True},
    "/api/v1/shop/settings": {"slow_turn_seconds": 120},
    "/api/v1/tokens": {"name": "erp"},
    "/api/v1/tokens/{token_id}/revoke": {},
    # workforce
    "/api/v1/shifts": {"name": "白班", "start": "08:00", "end": "17:00"},
    "/api/v1/shifts/{shift_id}": {"name": "x"},
    "/api/v1/roster/week": {"week": "2026-11-02", "pattern": {"1": [None] * 7}},
    "/api/v1/roster/entries": {"agent_id": 1, "date": "2026-11-02", "shift_id": 1},
    "/api/v1/roster/entries/{entry_id}/delete": {},
    "/api/v1/agents/me/status": {"status": "online"},
    "/api/v1/agents/{agent_id}/status": {"status": "online"},
    "/api/v1/swaps": {"date": "2026-11-02", "agent_a_id": 1, "agent_b_id": 2, "shift_a_id": 1},
    "/api/v1/swaps/{swap_id}/approve": {},
    "/api/v1/swaps/{swap_id}/reject": {},
    "/api/v1/swaps/{swap_id}/cancel": {},
    # approvals
    "/api/v1/money-actions": {"kind": "discount", "amount": "5", "reason": "r", "order_id": "o1"},
    "/api/v1/approvals/{approval_id}/approve": {"reason": "ok"},
    "/api/v1/approvals/{approval_id}/reject": {"reason": "no"},
    "/api/v1/approvals/{approval_id}/cancel": {},
    # replies
    "/api/v1/scripts": {"category": "opening", "title": "t", "body": "b"},
    "/api/v1/scripts/{script_id}": {"title": "t"},
    "/api/v1/scripts/{script_id}/render": {},
    # crm
    "/api/v1/customers/{buyer_id}/grade": {"grade": "VIP", "reason": "r"},
    "/api/v1/grade-rules": {"rules": [{"grade": "VIP", "min_orders": 1}]},
    "/api/v1/grades/recompute": {},
    "/api/v1/promotions": {"name": "p", "discount_text": "d"},
    "/api/v1/promotions/{promotion_id}": {"name": "p"},
    "/api/v1/product-pairs": {"product_id": 1, "related_id": 2},
    # followups
    "/api/v1/followups": {"kind": "lead", "buyer_id": "b1"},
    "/api/v1/followups/{followup_id}/transition": {"action": "contact"},
    # orders
    "/api/v1/orders/{order_id}/requests": {"kind": "cancel", "reason": "不想要了"},
    "/api/v1/order-requests/{request_id}/transition": {"action": "cancel"},
    "/api/v1/orders/{order_id}/remarks": {"type": "refundable", "reason": "缺货"},
    "/api/v1/warehouse-tasks/{task_id}/complete": {"outcome": "stopped"},
    # shipping
    "/api/v1/shipping/issues/{issue_id}/resolve": {"action": "shipped"},
    "/api/v1/shipping/audit": {},
    "/api/v1/shipping/settings": {"promise_hours": 24},
    "/api/v1/skus/{code}/stock": {"quantity": 5},
    "/api/v1/skus/{code}/delist": {},
    "/api/v1/skus/{code}/relist": {},
    "/api/v1/sku-ratings": {"sku": "A", "rating": "4.5"},
    # aftersales
    "/api/v1/cases": {"type": "return_refund", "reason": "quality", "order_id": "o1"},
    "/api/v1/cases/{case_id}/transition": {"to": "closed", "expected_version": 1},
    # sla
    "/api/v1/sla/policies": {"name": "x", "first_reply_minutes": 5},
    "/api/v1/sla/policies/{policy_id}": {"first_reply_minutes": 5},
    "/api/v1/sla/scan": {},
    "/api/v1/cases/{case_id}/refund": {"to": "refunded", "expected_version": 1},
    "/api/v1/cases/{case_id}/early-refund": {"expected_version": 1},
    "/api/v1/cases/{case_id}/return-shipped": {"expected_version": 1, "tracking_no": "SF1"},
    "/api/v1/cases/{case_id}/return-arrived": {"expected_version": 1},
    "/api/v1/cases/{case_id}/lines": {"expected_version": 1, "kind": "goods", "direction": "shop_to_buyer",
                                      "amount": "5"},
    "/api/v1/cases/{case_id}/lines/{line_id}": {"expected_version": 1, "amount": "6"},
    "/api/v1/cases/{case_id}/lines/{line_id}/delete": {"expected_version": 1},
    "/api/v1/cases/{case_id}/items": {"expected_version": 1, "sku": "A", "qty": 1},
    "/api/v1/cases/{case_id}/items/{item_id}": {"expected_version": 1, "qty": 1},
    "/api/v1/cases/{case_id}/items/{item_id}/delete": {"expected_version": 1},
    "/api/v1/cases/{case_id}/override": {"expected_version": 1, "reason": "r"},
    "/api/v1/cases/{case_id}/claims": {"expected_version": 1, "amount_claimed": "10"},
    "/api/v1/claims/{claim_id}/transition": {"to": "accepted", "expected_version": 1},
    "/api/v1/cases/{case_id}/retention": {"expected_version": 1, "offer": "o"},
    "/api/v1/cases/{case_id}/retention/{attempt_id}": {"expected_version": 1, "accepted": True},
    "/api/v1/cases/{case_id}/second-service": {"note": "n"},
    "/api/v1/cases/{case_id}/evidence": {},
    "/api/v1/aftersales/category-policies": {"category": "女装", "return_days": 7},
    "/api/v1/aftersales/category-policies/{policy_id}/delete": {},
    "/api/v1/aftersales/holidays": {"name": "国庆", "date_from": "2026-10-01", "date_to": "2026-10-07"},
    "/api/v1/aftersales/holidays/{holiday_id}/delete": {},
    # complaints
    "/api/v1/complaints": {"source": "buyer", "category": "attitude", "summary": "态度差", "buyer_id": "b1"},
    "/api/v1/complaints/{complaint_id}/transition": {"action": "advance"},
    "/api/v1/complaints/{complaint_id}/check": {"step": "calm"},
    "/api/v1/complaints/{complaint_id}/remedy": {"kind": "apology", "text": "道歉"},
    "/api/v1/complaints/{complaint_id}/revisit": {"revisit_on": None},
    "/api/v1/complaints/{complaint_id}/verdict": {"verdict": "upheld"},
    "/api/v1/reviews": {"review_id": "r1", "buyer_id": "b1", "rating": 1, "created_at": "2026-11-01T10:00:00"},
    "/api/v1/review-tasks/{task_id}/transition": {"action": "contact"},
    "/api/v1/review-tasks/{task_id}/assign": {"owner_id": 1},
    "/api/v1/disputes": {"kind": "other", "description": "x"},
    "/api/v1/disputes/{dispute_id}/transition": {"action": "submit"},
    "/api/v1/disputes/{dispute_id}/evidence": {},
    "/api/v1/rating-invitations": {"agent_id": 1, "buyer_id": "b1", "day": "2026-11-01"},
    "/api/v1/service-ratings": {"invitation_id": 1, "score": 5},
    # conversations
    "/api/v1/conversations/{conversation_id}/transfer": {"to_agent_id": 1, "reason": "r"},
    "/api/v1/conversations/{conversation_id}/close": {},
    "/api/v1/conversations/{conversation_id}/reopen": {},
    "/api/v1/conversations/{conversation_id}/notes": {"text": "n"},
    "/api/v1/conversations/{conversation_id}/merge": {"target_id": 1},
    "/api/v1/conversations/{conversation_id}/reply": {"text": "hi"},
    "/api/v1/conversation-views": {"name": "v", "params": {"view": "mine"}},
    "/api/v1/conversation-views/{view_id}/delete": {},
    "/api/v1/routing/settings": {"default_cap": 3},
    "/api/v1/agents/{agent_id}/cap": {"cap": 2},
    # outbound
    "/api/v1/outbox/{outbound_id}/sent": {},
    "/api/v1/outbox/{outbound_id}/failed": {"error": "x"},
    "/api/v1/outbox/{outbound_id}/requeue": {},
    # defects
    "/api/v1/defects/scan": {},
    "/api/v1/defects/alerts/{alert_id}/acknowledge": {"note": "已通知工厂"},
    "/api/v1/defects/alerts/{alert_id}/close": {},
    "/api/v1/defects/rule": {"threshold": 3},
    "/api/v1/defects/batches": {"case_id": 1, "sku": "A", "batch": "B1"},
    # quality
    "/api/v1/qa/rubric": {"name": "x", "weight": 1},
    "/api/v1/qa/rubric/{category_id}": {"name": "x", "weight": 1},
    "/api/v1/qa/settings": {"per_agent": 2},
    "/api/v1/qa/sampling/run": {},
    "/api/v1/qa/reviews": {"conversation_id": 1},
    "/api/v1/qa/reviews/{review_id}": {"scores": []},
    "/api/v1/qa/reviews/{review_id}/acknowledge": {},
    "/api/v1/qa/reviews/{review_id}/appeal": {"reason": "r"},
    "/api/v1/qa/appeals/{appeal_id}/decide": {"accept": False, "note": "n"},
    "/api/v1/qa/cases": {"kind": "good", "title": "t", "note": "n", "conversation_id": 1},
    "/api/v1/qa/cases/{case_id}/script": {"category": "opening", "title": "t", "body": "b"},
    "/api/v1/products/{product_id}/knowledge": {"fabric": "棉"},
    "/api/v1/complaints/{complaint_id}/knowledge-fault": {"note": "n"},
    # integrations
    "/api/v1/webhooks": {"name": "x", "url": "http://127.0.0.1:9/", "event_types": ["*"]},
    "/api/v1/webhooks/{webhook_id}": {"name": "x", "url": "http://127.0.0.1:9/", "event_types": ["*"]},
    "/api/v1/webhooks/{webhook_id}/delete": {},
    "/api/v1/webhooks/deliveries/{delivery_id}/redeliver": {},
    "/api/v1/automation-rules": {"name": "x", "event_type": "message.created", "actions": [{"type": "escalate"}]},
    "/api/v1/automation-rules/dry-run": {"event_type": "message.created", "conditions": []},
    "/api/v1/automation-rules/{rule_id}": {"name": "x", "event_type": "message.created",
                                           "actions": [{"type": "escalate"}]},
    "/api/v1/automation-rules/{rule_id}/delete": {},
    "/api/v1/automation-rules/{rule_id}/dry-run": {},
    "/api/v1/tracking/push": {"events": [{"number": "n1", "state": "3", "time": "2026-11-01T10:00:00"}]},
    "/api/v1/catalog/import": {"product_id": "p1", "product_title": "t", "sku": "A"},
    # buyers (CRM-1)
    "/api/v1/customers/{buyer_id}/contacts/reveal": {"reason": "r"},
    "/api/v1/customers/{buyer_id}/tags": {"tag": "VIP"},
    "/api/v1/customers/{buyer_id}/tags/remove": {"tag": "VIP"},
    "/api/v1/customers/{buyer_id}/notes": {"text": "n"},
    "/api/v1/customers/{buyer_id}/merge": {"into": "b1"},
    "/api/v1/customer-merges/{merge_id}/undo": {},
    "/api/v1/customer-tags": {"name": "VIP"},
    "/api/v1/customer-tags/{tag_id}/delete": {},
    "/api/v1/customer-tags/bulk": {"tag": "VIP", "buyer_ids": ["b1"]},
    # care (CRM-2 … CRM-5)
    "/api/v1/care/settings": {"cap_count": 3},
    "/api/v1/revisit-plans": {"name": "p", "assignee_ids": [1]},
    "/api/v1/revisit-plans/{plan_id}": {"name": "p"},
    "/api/v1/revisit-plans/{plan_id}/generate": {},
    "/api/v1/revisits/{revisit_id}/record": {"outcome": "satisfied"},
    "/api/v1/revisits/{revisit_id}/cancel": {},
    "/api/v1/revisits/reassign": {"from_agent_id": 1, "to_agent_id": 2},
    "/api/v1/care-campaigns": {"name": "c", "text": "t"},
    "/api/v1/care-campaigns/{campaign_id}": {"name": "c"},
    "/api/v1/care-campaigns/{campaign_id}/schedule": {},
    "/api/v1/care-campaigns/{campaign_id}/cancel": {},
    "/api/v1/care-content-check": {"text": "t"},
    "/api/v1/care/replies": {"reply_id": "r1", "buyer_id": "b1", "text": "TD"},
    "/api/v1/customers/{buyer_id}/opt-out": {},
    "/api/v1/surprises": {"buyer_id": "b1", "kind": "gift", "description": "d", "reason": "r", "cost": "5"},
    "/api/v1/surprises/{surprise_id}/cancel": {},
    "/api/v1/churn/scan": {},
    # people: attendance and the penalty ledger
    "/api/v1/attendance/clock": {"kind": "in", "agent_id": 1},
    "/api/v1/attendance/corrections": {"agent_id": 1, "date": "2026-11-02", "reason": "r"},
    "/api/v1/attendance/recompute": {"month": "2026-11"},
    "/api/v1/leave-requests": {"kind": "leave", "date_from": "2026-11-02", "reason": "r"},
    "/api/v1/leave-requests/{leave_id}/approve": {"note": ""},
    "/api/v1/leave-requests/{leave_id}/reject": {"note": ""},
    "/api/v1/leave-requests/{leave_id}/cancel": {"note": ""},
    "/api/v1/deductions": {"agent_id": 1, "rule_code": "unfinished_work", "points": "0.5", "day": "2026-11-02",
                           "reason": "r"},
    "/api/v1/deductions/{deduction_id}/reverse": {"reason": "r"},
    "/api/v1/deductions/{deduction_id}/appeal": {"reason": "r"},
    "/api/v1/appeals/{appeal_id}/grant": {"note": ""},
    "/api/v1/appeals/{appeal_id}/reject": {"note": "n"},
    "/api/v1/penalty-rules": {"rules": [{"code": "late", "points_each": "1"}]},
    "/api/v1/people/settings": {"start_points": "10"},
    "/api/v1/people/months/{month}/close": {},
    "/api/v1/people/months/{month}/lock": {},
    "/api/v1/commission-plans": {"tiers": [["0", "1"]]},
    "/api/v1/commissions/recompute": {"month": "2026-11"},
    # live chat
    "/api/v1/live/chats/{conversation_id}/read": {"message_pk": 1},
    "/api/v1/live/chats/{conversation_id}/typing": {"typing": True},
    "/api/v1/live/chats/{conversation_id}/images": {},
    "/api/v1/live/chats/{conversation_id}/script": {"script_id": 1},
    "/api/v1/live/chats/{conversation_id}/close": {},
    "/api/v1/live/chats/{conversation_id}/spam": {},
    "/api/v1/live/spam-reports/{report_id}/confirm": {},
    "/api/v1/live/spam-reports/{report_id}/reject": {},
    "/api/v1/live/widget": {"greeting": "hi"},
    "/api/v1/live/widget/rotate-secret": {},
    # people: onboarding
    "/api/v1/training-plan": {"pass_mark": "80"},
    "/api/v1/qa/knowledge-faults/{fault_id}/withdraw": {"reason": "r"},
    "/api/v1/onboardings": {"agent_id": 1, "mentor_id": 2, "start_date": "2026-11-02"},
    "/api/v1/onboardings/{onboarding_id}/days": {"day_no": 1},
    "/api/v1/onboardings/{onboarding_id}/exam": {"score": "90"},
    "/api/v1/onboardings/{onboarding_id}/notes": {"text": "t"},
    "/api/v1/onboardings/{onboarding_id}/signoff": {"opinion": "o"},
    "/api/v1/onboardings/{onboarding_id}/decision": {"confirm": True},
    "/api/v1/onboardings/{onboarding_id}/mentor": {"mentor_id": 1, "reason": "r"},
    # reports: daily sales reports, reports up
    "/api/v1/daily-reports/{report_id}/sign": {"note": "n"},
    "/api/v1/daily-reports/generate": {"day": "2026-11-01"},
    "/api/v1/dept-reports/{report_id}/notes": {"problems": "p", "measures": "m"},
    "/api/v1/dept-reports/generate": {"period": "day", "start": "2026-11-01"},
    "/api/v1/agent-month-reports/{report_id}/submit": {"analysis": "a"},
    "/api/v1/agent-month-reports/{report_id}/answer": {"reply": "r"},
    "/api/v1/agent-month-reports/prepare": {"month": "2026-10"},
    # people: account handover
    "/api/v1/handovers": {"from_agent_id": 1, "to_agent_id": 2, "reason": "r"},
    "/api/v1/handovers/{handover_id}/greeted": {"item_ids": [1]},
    # people: typing (WF-9)
    "/api/v1/typing-results": {"agent_id": 1, "kind": "test", "speed": 90, "accuracy": "98"},
    "/api/v1/typing-results/{result_id}/void": {"reason": "r"},
    # people: rewards (WF-5)
    "/api/v1/bonuses": {"agent_id": 1, "kind": "outstanding", "amount": "10", "reason": "r"},
    "/api/v1/bonuses/{bonus_id}/decision": {"approve": True},
    "/api/v1/ranking-rules": {"name": "n", "metric": "sales", "amounts": ["1"]},
    "/api/v1/ranking-rules/{rule_id}/award": {"month": "2026-10"},
    "/api/v1/wishes": {"text": "t", "agent_id": 1},
    "/api/v1/wishes/{wish_id}/grant": {"granted_for": "g"},
    "/api/v1/wishes/{wish_id}/withdraw": {},
}


def routes():
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method in methods:
            yield path, method


@pytest.fixture
def s1_conversation(shop):
    rows = messages_clean([{"message_id": "m1", "buyer_id": "b1", "agent_id": "a1", "sender": "buyer",
                            "sent_at": "2026-11-01T10:00:00"}], tz=shop.tz)
    messages_ingest(shop=shop, rows=rows)
    return Conversation.objects.get(shop=shop)


def _call(client, method, path, conv_id):
    url = path.replace("{conversation_id}", str(conv_id)).replace("{buyer_id}", "b1") + "?shop=s1&from=2026-11-01&to=2026-11-02"
    url = re.sub(r"\{\w+_id\}", "1", url)  # any other id: the shop is refused first
    if method == "post":
        return client.post(url, json.dumps(BODIES[path]), content_type="application/json")
    return client.get(url)


@pytest.mark.django_db
def test_every_route_is_covered():
    assert {p for p, m in routes() if m == "post"} <= set(BODIES)


@pytest.mark.django_db
@pytest.mark.parametrize("path,method", list(routes()))
def test_other_shops_token_gets_404(path, method, shop, other_shop, s1_conversation):
    _, raw = token_create(shop=other_shop, name="other")
    r = _call(Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), method, path, s1_conversation.id)
    assert r.status_code == 404, (path, r.content)


@pytest.mark.django_db
@pytest.mark.parametrize("path,method", list(routes()))
def test_other_shops_person_gets_404(path, method, shop, other_shop, s1_conversation):
    person = person_create(shop=other_shop, name="老板", username="boss2", password="pass-word-1", roles=["manager"])
    c = Client(enforce_csrf_checks=False)
    c.force_login(person.user)
    r = _call(c, method, path, s1_conversation.id)
    assert r.status_code == 404, (path, r.content)


@pytest.mark.django_db
def test_own_token_cannot_reach_other_shops_conversation(api, shop, other_shop):
    rows = messages_clean([{"message_id": "m1", "buyer_id": "b1", "agent_id": "a1", "sender": "buyer",
                            "sent_at": "2026-11-01T10:00:00"}], tz=other_shop.tz)
    messages_ingest(shop=other_shop, rows=rows)
    conv = Conversation.objects.get(shop=other_shop)
    assert api.get(f"/api/v1/conversations/{conv.id}").status_code == 404
    assert api.get(f"/api/v1/conversations/{conv.id}?shop=s2").status_code == 404
