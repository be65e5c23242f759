"""Early refunds (AFT-6), courier claims and their money outcome (AFT-7), retention and second service (AFT-10)."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from kefu.aftersales import logistics, money
from kefu.aftersales.models import Case, CaseMoneyLine, SecondService
from kefu.aftersales.selectors import early_refunds_overdue, second_services_due
from kefu.aftersales.services import case_transition
from kefu.core.errors import KefuError
from kefu.orders.models import Order

from .conftest import login, make_case

pytestmark = pytest.mark.django_db


def post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def waiting_return(shop, actor, order, amount):
    case = make_case(shop, actor, order=order, amount=amount)
    case_transition(shop=shop, case=case, to="waiting_return", actor_agent=actor, expected_version=1)
    return case


# ---------------------------------------------------------------- early refund

def test_early_refund_needs_the_tracking_number_and_a_small_amount_or_trust(shop, manager, order, settings):
    settings.KEFU_AFTERSALES_EARLY_REFUND_MAX = "50.00"
    case = waiting_return(shop, manager, order, "80")
    with pytest.raises(KefuError) as e:
        money.case_early_refund(shop=shop, case=case, actor_agent=manager, expected_version=2)
    assert e.value.code == "not_eligible" and "运单号" in e.value.message
    money.case_return_shipped(shop=shop, case=case, actor_agent=manager, expected_version=2, courier="顺丰",
                              tracking_no="SF123")
    with pytest.raises(KefuError) as e:  # ¥80 above ¥50 and the buyer has one order only
        money.case_early_refund(shop=shop, case=case, actor_agent=manager, expected_version=3)
    assert e.value.code == "not_eligible" and e.value.message == "¥80.00 超过该买家的提前退款上限 ¥50.00"
    with translation.override("en"):
        assert money.early_refund_eligibility(Case.objects.get(pk=case.pk), trusted=False)[1] == "¥80.00 is above this buyer's early-refund limit of ¥50.00"
    # A trusted buyer: three signed orders with the shop.
    for i in range(2):
        Order.objects.create(shop=shop, order_id=f"T20{i}", customer=order.customer, created_at=order.created_at,
                             signed_at=order.signed_at)
    out, link = money.case_early_refund(shop=shop, case=case, actor_agent=manager, expected_version=3)
    assert link is None and out.state == "refunded"
    line = CaseMoneyLine.objects.get(case=case)
    assert line.early and line.state == "done"
    assert out.return_due_at > timezone.now() + dt.timedelta(days=6)
    # The reason inside the Chinese note is Chinese too (it read "提前退款（trusted buyer）"), also when
    # the person works in English.
    assert case.events.filter(to_state="refunded", note="提前退款（可信买家）").exists()


def test_early_refund_overdue_follow_up_and_arrival(api, shop, manager, order):
    case = waiting_return(shop, manager, order, "30")
    money.case_return_shipped(shop=shop, case=case, actor_agent=manager, expected_version=2, courier="",
                              tracking_no="YT9")
    r = post(api, f"/api/v1/cases/{case.pk}/early-refund", {"expected_version": 3})
    assert r.status_code == 400 and r.json()["code"] == "person_required"
    out, _link = money.case_early_refund(shop=shop, case=case, actor_agent=manager, expected_version=3)
    assert not early_refunds_overdue(shop=shop, member=None).exists()
    Case.objects.filter(pk=case.pk).update(return_due_at=timezone.now() - dt.timedelta(hours=1))
    assert [c.pk for c in early_refunds_overdue(shop=shop, member=None)] == [case.pk]
    assert [c["id"] for c in api.get("/api/v1/aftersales/early-refunds/overdue").json()] == [case.pk]
    assert f'/aftersales/{case.pk}/' in login(manager).get("/aftersales/follow-ups/").content.decode()
    # An overdue early refund makes the buyer untrusted.
    from kefu.aftersales.selectors import buyer_trusted
    assert buyer_trusted(shop=shop, case=out) is False
    case.refresh_from_db()
    r = post(api, f"/api/v1/cases/{case.pk}/return-arrived", {"expected_version": case.version})
    assert r.status_code == 200 and r.json()["return_received_at"]
    assert not early_refunds_overdue(shop=shop, member=None).exists()
    r = post(api, f"/api/v1/cases/{case.pk}/return-arrived", {"expected_version": case.version + 1})
    assert r.status_code == 400


def test_early_refund_above_authority_goes_to_approval(shop, agent_person, supervisor, order):
    from kefu.approvals.services import approval_decide

    case = waiting_return(shop, agent_person, order, "45")
    money.case_return_shipped(shop=shop, case=case, actor_agent=agent_person, expected_version=2, courier="顺丰",
                              tracking_no="SF1")
    out, link = money.case_early_refund(shop=shop, case=case, actor_agent=agent_person, expected_version=3)
    assert link is not None and out.state == "waiting_return"
    approval_decide(shop=shop, approval_id=link.request_id, approver=supervisor, approve=False, reason="等到货")
    case.refresh_from_db()
    line = CaseMoneyLine.objects.get(case=case)
    assert not line.early and case.return_due_at is None and case.state == "waiting_return"


# ---------------------------------------------------------------- courier claims

def test_lost_parcel_claim_and_money_outcome(api, shop, manager, order):
    Order.objects.filter(pk=order.pk).update(courier="中通", tracking_no="ZT100")
    order.refresh_from_db()
    case = make_case(shop, manager, order=order, amount="84", type="refund_only", reason="lost_parcel")
    case_transition(shop=shop, case=case, to="refunded", actor_agent=manager, expected_version=1)
    r = post(api, f"/api/v1/cases/{case.pk}/claims", {"expected_version": 2, "amount_claimed": "84"})
    assert r.status_code == 200, r.content
    claim = r.json()["claims"][0]
    assert (claim["courier"], claim["tracking_no"], claim["state"]) == ("中通", "ZT100", "filed")
    assert r.json()["money_outcome"] == {"paid_to_buyer": "84.00", "received_from_buyer": "0.00",
                                         "recovered_from_courier": "0.00", "claims_open": "84.00",
                                         "net_cost": "84.00"}
    cid = claim["id"]
    r = post(api, f"/api/v1/claims/{cid}/transition", {"to": "paid", "expected_version": 1})
    assert r.status_code == 400 and r.json()["field"] == "amount_recovered"
    r = post(api, f"/api/v1/claims/{cid}/transition", {"to": "paid", "expected_version": 1, "amount_recovered": "90"})
    assert r.status_code == 400 and r.json()["field"] == "amount_recovered"
    r = post(api, f"/api/v1/claims/{cid}/transition", {"to": "accepted", "expected_version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = post(api, f"/api/v1/claims/{cid}/transition", {"to": "rejected", "expected_version": 1})
    assert r.status_code == 409 and r.json()["code"] == "stale_version"
    r = post(api, f"/api/v1/claims/{cid}/transition", {"to": "paid", "expected_version": 2, "amount_recovered": "60"})
    assert r.status_code == 200 and r.json()["state"] == "paid"
    r = post(api, f"/api/v1/claims/{cid}/transition", {"to": "rejected", "expected_version": 3})
    assert r.status_code == 400 and r.json()["code"] == "invalid_claim_transition"
    out = api.get(f"/api/v1/cases/{case.pk}").json()["money_outcome"]
    assert out["recovered_from_courier"] == "60.00" and out["net_cost"] == "24.00" and out["claims_open"] == "0.00"
    html = login(manager).get(f"/aftersales/{case.pk}/").content.decode()
    assert "快递索赔" in html and "¥60.00" in html and "店铺净损失" in html and "¥24.00" in html
    assert case.events.filter(action="claim").count() == 3


def test_claims_only_for_courier_problems_and_bad_input(api, shop, manager, order):
    case = make_case(shop, manager, order=order, reason="changed_mind")
    r = post(api, f"/api/v1/cases/{case.pk}/claims", {"expected_version": 1, "amount_claimed": "10"})
    assert r.status_code == 400 and r.json()["field"] == "case_id"
    lost = make_case(shop, manager, reason="lost_parcel")  # no order: courier and tracking must be given
    r = post(api, f"/api/v1/cases/{lost.pk}/claims", {"expected_version": 1, "amount_claimed": "10"})
    assert r.status_code == 400 and r.json()["field"] == "courier"
    r = post(api, f"/api/v1/cases/{lost.pk}/claims", {"expected_version": 1, "amount_claimed": "0"})
    assert r.status_code == 422
    assert post(api, "/api/v1/claims/99999/transition", {"to": "paid", "expected_version": 1}).status_code == 404


def test_claim_on_the_page(shop, manager, order):
    case = make_case(shop, manager, order=order, reason="damaged_parcel")
    c = login(manager)
    r = c.post(f"/aftersales/{case.pk}/do/claim_file/", {"version": "1", "courier": "圆通", "tracking_no": "YT1",
                                                         "amount_claimed": "30"}, HTTP_HX_REQUEST="true")
    assert "圆通" in r.content.decode() and "已提交" in r.content.decode()
    claim = case.claims.get()
    r = c.post(f"/aftersales/{case.pk}/do/claim_move/", {"claim_id": str(claim.pk), "claim_version": "1",
                                                         "to": "paid", "amount_recovered": "30"},
               HTTP_HX_REQUEST="true")
    claim.refresh_from_db()
    assert claim.state == "paid" and claim.amount_recovered == Decimal("30")


# ---------------------------------------------------------------- retention and second service

def test_retention_offer_accepted_adds_a_compensation_line(api, shop, manager, order):
    case = make_case(shop, manager, order=order, amount="84", reason="quality", responsible="supplier")
    html = login(manager).get(f"/aftersales/{case.pk}/").content.decode()
    assert "请先尝试挽留" in html
    r = post(api, f"/api/v1/cases/{case.pk}/retention", {"expected_version": 1, "offer": "换一件新的并补偿",
                                                          "offer_amount": "10"})
    assert r.status_code == 200 and r.json()["retentions"][0]["outcome"] == "offered"
    att = r.json()["retentions"][0]["id"]
    r = post(api, f"/api/v1/cases/{case.pk}/retention", {"expected_version": 2, "offer": "again"})
    assert r.status_code == 400 and r.json()["field"] == "offer"
    r = post(api, f"/api/v1/cases/{case.pk}/retention/{att}", {"expected_version": 2, "accepted": True})
    assert r.status_code == 200
    body = r.json()
    assert body["retentions"][0]["outcome"] == "accepted"
    assert any(m["kind"] == "compensation" and m["amount"] == "10.00" for m in body["money_lines"])
    r = post(api, f"/api/v1/cases/{case.pk}/retention/{att}", {"expected_version": 3, "accepted": False})
    assert r.status_code == 400
    assert case.events.filter(action="retention").count() == 2


def test_declined_retention_then_refund_then_second_service(shop, manager, order):
    case = make_case(shop, manager, order=order, amount="30", reason="wrong_item")
    att = logistics.retention_offer(shop=shop, case=case, actor_agent=manager, expected_version=1, offer="换货")
    logistics.retention_decide(shop=shop, case=case, actor_agent=manager, expected_version=2, attempt_id=att.pk,
                               accepted=False)
    with pytest.raises(KefuError):  # no refund yet: no follow-up to record
        logistics.second_service_done(shop=shop, case=case, actor_agent=manager, note="x")
    case_transition(shop=shop, case=case, to="refunded", actor_agent=manager, expected_version=3)
    ss = SecondService.objects.get(case=case)
    assert ss.due_on > timezone.localdate() and ss.done_at is None
    assert not second_services_due(shop=shop, member=None).exists()
    assert second_services_due(shop=shop, member=None, day=ss.due_on).get() == ss
    c = login(manager)
    r = c.post(f"/aftersales/{case.pk}/do/second_service/", {"note": "买家已收到退款，满意", "satisfied": "1"},
               HTTP_HX_REQUEST="true")
    assert "买家已收到退款" in r.content.decode()
    ss.refresh_from_db()
    assert ss.done_at and ss.satisfied is True
    with pytest.raises(KefuError):
        logistics.second_service_done(shop=shop, case=case, actor_agent=manager, note="again")


def test_list_api_query_count(api, shop, manager, order):
    def fill(n):
        for _ in range(n):
            case = make_case(shop, manager, order=order, amount="9", reason="lost_parcel")
            logistics.claim_file(shop=shop, case=case, actor_agent=manager, expected_version=1, amount_claimed="9",
                                 courier="中通", tracking_no="Z1")
            logistics.retention_offer(shop=shop, case=case, actor_agent=manager, expected_version=2, offer="补发")

    fill(2)
    api.get("/api/v1/cases")
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/api/v1/cases").json()) == 2
    fill(4)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/v1/cases").json()) == 6
    assert len(many) == len(few)
