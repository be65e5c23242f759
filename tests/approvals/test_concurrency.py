"""Exactly once under real concurrency (PostgreSQL): two approvers press 批准 at the same moment."""

import time

import pytest

from kefu.approvals import services
from kefu.approvals.models import ApprovalEvent, MoneyAction
from kefu.approvals.services import approval_decide, money_action_request
from kefu.core.errors import KefuError
from kefu.core.services import person_create, shop_create
from tests.concurrency import race, require_postgresql

pytestmark = pytest.mark.django_db(transaction=True)


def _setup():
    require_postgresql()
    shop = shop_create(code="conc", name="并发店")
    agent = person_create(shop=shop, name="小美", roles=["agent"])
    sup1 = person_create(shop=shop, name="主管甲", roles=["supervisor"])
    sup2 = person_create(shop=shop, name="经理乙", roles=["manager"])
    return shop, agent, sup1, sup2


@pytest.mark.parametrize("rounds", [5])
def test_two_approvers_at_once_execute_exactly_once(rounds, monkeypatch):
    shop, agent, sup1, sup2 = _setup()
    # The winner holds the row lock a little longer, so the other approver surely waits on it.
    slow = services._execute

    def execute_slowly(**kw):
        time.sleep(0.2)
        return slow(**kw)

    monkeypatch.setattr(services, "_execute", execute_slowly)
    for i in range(rounds):
        req = money_action_request(shop=shop, agent=agent, kind="compensation", amount="30", reason=f"r{i}").approval
        results = race(lambda who, pk=req.pk: approval_decide(shop=shop, approval_id=pk, approver=who, approve=True),
                        [(sup1,), (sup2,)])
        wins = [r for r in results if not isinstance(r, Exception)]
        losses = [r for r in results if isinstance(r, Exception)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert isinstance(losses[0], KefuError) and losses[0].code == "already_decided", losses[0]
        assert MoneyAction.objects.filter(request=req).count() == 1
        assert ApprovalEvent.objects.filter(request=req, action="execute").count() == 1
        action = MoneyAction.objects.get(request=req)
        assert action.approved_by_id == wins[0].decided_by_id
    assert MoneyAction.objects.filter(shop=shop).count() == rounds


def test_approve_and_reject_at_once_one_wins():
    shop, agent, sup1, sup2 = _setup()
    req = money_action_request(shop=shop, agent=agent, kind="discount", amount="40", reason="r").approval
    results = race(lambda who, ok: approval_decide(shop=shop, approval_id=req.pk, approver=who, approve=ok,
                                                    reason="理由"), [(sup1, True), (sup2, False)])
    assert sum(not isinstance(r, Exception) for r in results) == 1
    req.refresh_from_db()
    assert MoneyAction.objects.filter(request=req).count() == (1 if req.state == "executed" else 0)


def test_the_same_request_sent_twice_at_once_is_one_action():
    shop, agent, _s1, _s2 = _setup()
    for amount in ("10", "30"):  # executed at once / pending
        results = race(lambda amount=amount: money_action_request(
            shop=shop, agent=agent, kind="discount", amount=amount, reason="r", request_id=f"dup-{amount}"),
            [(), (), ()])
        assert not [r for r in results if isinstance(r, Exception)], results
        ids = {(r.money_action.pk if r.money_action else None, r.approval.pk if r.approval else None) for r in results}
        assert len(ids) == 1
    assert MoneyAction.objects.filter(shop=shop).count() == 1
