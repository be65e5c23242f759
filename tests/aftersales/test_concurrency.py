"""Two people refund the same case at the same moment (PostgreSQL): exactly one succeeds."""

import time

import pytest

from kefu.aftersales import services
from kefu.aftersales.models import Case, CaseEvent, CaseMoneyLine
from kefu.aftersales.services import MoneyLineIn, case_open, case_transition
from kefu.core.errors import KefuError
from kefu.core.services import person_create, shop_create
from tests.concurrency import race, require_postgresql

pytestmark = pytest.mark.django_db(transaction=True)


def _setup():
    require_postgresql()
    shop = shop_create(code="conc", name="并发店")
    a = person_create(shop=shop, name="主管甲", roles=["supervisor"])
    b = person_create(shop=shop, name="经理乙", roles=["manager"])
    return shop, a, b


@pytest.mark.parametrize("rounds", [5])
def test_two_people_refund_at_once_exactly_one_succeeds(rounds, monkeypatch):
    shop, a, b = _setup()
    # The winner holds the row lock a little longer, so the other surely waits on it.
    slow = services.planned_payout

    def payout_slowly(case):
        time.sleep(0.2)
        return slow(case)

    monkeypatch.setattr(services, "planned_payout", payout_slowly)
    for i in range(rounds):
        case = case_open(shop=shop, actor_agent=a, type="refund_only", reason="lost_parcel", note=f"r{i}",
                         money_lines=[MoneyLineIn("goods", "shop_to_buyer", "30")])
        # Both read version 1 (each from its own copy) and press 退款 together.
        results = race(lambda who, pk=case.pk: case_transition(
            shop=shop, case=Case.objects.get(pk=pk), to="refunded", actor_agent=who, expected_version=1),
            [(a,), (b,)])
        wins = [r for r in results if not isinstance(r, Exception)]
        losses = [r for r in results if isinstance(r, Exception)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert isinstance(losses[0], KefuError) and losses[0].code == "stale_version", losses[0]
        case.refresh_from_db()
        assert case.state == "refunded" and case.version == 2
        assert CaseEvent.objects.filter(case=case, to_state="refunded").count() == 1
        assert CaseMoneyLine.objects.get(case=case).state == "done"


def test_refund_and_reject_at_once_one_wins():
    shop, a, b = _setup()
    case = case_open(shop=shop, actor_agent=a, type="refund_only", reason="lost_parcel",
                     money_lines=[MoneyLineIn("goods", "shop_to_buyer", "30")])
    results = race(lambda who, to: case_transition(shop=shop, case=Case.objects.get(pk=case.pk), to=to,
                                                    actor_agent=who, expected_version=1),
                    [(a, "refunded"), (b, "rejected")])
    assert sum(not isinstance(r, Exception) for r in results) == 1
    case.refresh_from_db()
    assert CaseEvent.objects.filter(case=case).count() == 2
    assert CaseMoneyLine.objects.get(case=case).state == ("done" if case.state == "refunded" else "planned")


def test_two_approvers_approve_the_same_case_refund_at_once():
    """Above-limit refund → two approvers press 批准 together: paid once, the case moves once."""
    from kefu.aftersales import money
    from kefu.aftersales.models import CaseApproval
    from kefu.approvals.models import MoneyAction
    from kefu.approvals.services import approval_decide

    shop, a, b = _setup()
    agent = person_create(shop=shop, name="客服丙", roles=["agent"])
    for i in range(3):
        case = case_open(shop=shop, actor_agent=agent, type="refund_only", reason="lost_parcel", note=f"a{i}",
                         money_lines=[MoneyLineIn("goods", "shop_to_buyer", "45")])
        _case, link = money.case_refund(shop=shop, case=case, actor_agent=agent, expected_version=1)
        results = race(lambda who, rid=link.request_id: approval_decide(shop=shop, approval_id=rid, approver=who,
                                                                         approve=True), [(a,), (b,)])
        wins = [r for r in results if not isinstance(r, Exception)]
        losses = [r for r in results if isinstance(r, Exception)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert isinstance(losses[0], KefuError) and losses[0].code == "already_decided"
        case.refresh_from_db()
        assert case.state == "refunded" and case.version == 3
        assert MoneyAction.objects.filter(request_id=link.request_id).count() == 1
        assert CaseEvent.objects.filter(case=case, to_state="refunded").count() == 1
        assert CaseMoneyLine.objects.get(case=case).state == "done"
        assert CaseApproval.objects.get(pk=link.pk).state == "approved"


def test_two_people_edit_the_same_line_at_once():
    from kefu.aftersales import money

    shop, a, b = _setup()
    case = case_open(shop=shop, actor_agent=a, type="refund_only", reason="lost_parcel",
                     money_lines=[MoneyLineIn("goods", "shop_to_buyer", "30")])
    line = CaseMoneyLine.objects.get(case=case)
    results = race(lambda who, amount: money.case_line_change(
        shop=shop, case=Case.objects.get(pk=case.pk), actor_agent=who, expected_version=1, line_id=line.pk,
        amount=amount), [(a, "31"), (b, "32")])
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert [r.code for r in results if isinstance(r, Exception)] == ["stale_version"]
    case.refresh_from_db()
    assert case.version == 2
