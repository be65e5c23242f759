"""Surprises (CRM-4, seed 001 授权): through the authority check and the approval queue, executed
once, shown on the buyer page; the monthly cost report recomputed from the money actions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kefu.approvals.models import ApprovalRequest, MoneyAction
from kefu.approvals.services import approval_decide
from kefu.care import surprises as S
from kefu.care.models import Surprise
from kefu.core.errors import KefuError
from kefu.core.models import AuditLog
from kefu.core.services import person_create, shop_create
from kefu.customers.models import Customer
from tests.concurrency import race, require_postgresql

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def bride(shop):
    return Customer.objects.create(shop=shop, buyer_id="tb_bride", nick="要结婚的买家")


def give(shop, who, buyer, cost, **more):
    return S.surprise_create(shop=shop, customer=buyer, actor=who, kind=more.pop("kind", "gift"),
                             description=more.pop("description", "包装好的小礼物"),
                             reason=more.pop("reason", "买家说下个月结婚"), cost=cost, **more)


def test_within_authority_executes_at_once(shop, team, bride):
    s = give(shop, team["mei"], bride, "15.00")
    assert s.state == "approved" and s.approved_by == team["mei"]
    action = MoneyAction.objects.get(shop=shop, kind="gift")
    assert s.money_action == action and action.amount == Decimal("15.00") and action.customer == bride
    assert AuditLog.objects.filter(shop=shop, action="money_action.execute").count() == 1
    gesture = give(shop, team["mei"], bride, "0", kind="handmade", description="手工小钱包")
    assert gesture.state == "approved" and gesture.money_action is None and gesture.approval is None


def test_above_authority_waits_for_an_approver(shop, team, bride, manager):
    s = give(shop, team["mei"], bride, "80.00")
    assert s.state == "pending" and s.approval.state == "pending" and not MoneyAction.objects.exists()
    with pytest.raises(KefuError) as e:  # a supervisor's limit (50) is below it
        approval_decide(shop=shop, approval_id=s.approval_id, approver=team["sup"], approve=True)
    assert e.value.code == "above_authority"
    approval_decide(shop=shop, approval_id=s.approval_id, approver=manager, approve=True)
    s.refresh_from_db()
    assert s.state == "approved" and s.approved_by == manager and s.money_action.amount == Decimal("80.00")
    assert s.money_action.approved_by == manager and s.money_action.requested_by == team["mei"]
    # Rejected and withdrawn ones follow their request.
    r = give(shop, team["mei"], bride, "60.00")
    approval_decide(shop=shop, approval_id=r.approval_id, approver=manager, approve=False, reason="预算不够")
    r.refresh_from_db()
    assert r.state == "rejected" and r.money_action is None
    w = give(shop, team["mei"], bride, "70.00")
    with pytest.raises(KefuError):
        S.surprise_cancel(shop=shop, surprise_id=w.pk, actor=team["qiang"])
    S.surprise_cancel(shop=shop, surprise_id=w.pk, actor=team["mei"])
    w.refresh_from_db()
    assert w.state == "cancelled"
    page = login(manager).get(f"/customers/{bride.pk}/").content.decode()
    assert "包装好的小礼物" in page and "¥80.00" in page


def test_a_resend_never_gives_twice(shop, team, bride):
    a = give(shop, team["mei"], bride, "10.00", request_id="k1")
    b = give(shop, team["mei"], bride, "10.00", request_id="k1")
    assert a.pk == b.pk and MoneyAction.objects.count() == 1
    with pytest.raises(KefuError) as e:
        give(shop, team["mei"], bride, "12.00", request_id="k1")
    assert e.value.code == "request_id_reused"
    for bad in ({"cost": "-1"}, {"cost": "1.234"}, {"kind": "car"}, {"reason": ""}):
        with pytest.raises(KefuError):
            give(shop, team["mei"], bride, **({"cost": "1"} | bad))
    with pytest.raises(KefuError):
        S.surprise_create(shop=shop, customer=bride, actor=None, kind="gift", description="x", reason="y", cost="1")


def test_monthly_cost_report_equals_the_money_actions(shop, team, bride, manager):
    now = timezone.now()
    give(shop, team["mei"], bride, "15.00")
    give(shop, team["qiang"], bride, "19.90", kind="card")
    give(shop, team["mei"], bride, "0", kind="handmade")
    big = give(shop, team["mei"], bride, "88.00")
    approval_decide(shop=shop, approval_id=big.approval_id, approver=manager, approve=True)
    give(shop, team["mei"], bride, "66.00")  # still pending: not a cost yet
    # One approved last month (moved back by hand: the month is the approval's, in shop time).
    old = give(shop, team["qiang"], bride, "5.00")
    last_month = (now.astimezone(shop.tz).replace(day=1) - dt.timedelta(days=3))
    Surprise.objects.filter(pk=old.pk).update(decided_at=last_month)
    report = S.surprise_costs(shop=shop, month_from=last_month.date(), month_to=now.astimezone(shop.tz).date())
    assert [m["month"] for m in report["months"]] == [last_month.date().replace(day=1),
                                                     now.astimezone(shop.tz).date().replace(day=1)]
    this = report["months"][1]
    actions = MoneyAction.objects.filter(shop=shop, kind="gift").exclude(pk=old.money_action_id)
    assert this["cost"] == sum(a.amount for a in actions) == Decimal("122.90")
    assert this["count"] == actions.count() + 1  # and the gesture without cost
    assert {k["kind"]: (k["count"], k["cost"]) for k in this["by_kind"]} == {
        "gift": (2, Decimal("103.00")), "card": (1, Decimal("19.90")), "handmade": (1, Decimal("0.00"))}
    assert report["months"][0]["cost"] == Decimal("5.00") and report["cost"] == Decimal("127.90")
    api = login(team["owner"]).get(f"/api/v1/surprises/costs?shop=s1&from={last_month.date()}&to={now.date()}")
    assert api.json()["cost"] == "127.90"
    assert login(team["mei"]).get(f"/api/v1/surprises/costs?shop=s1&from={now.date()}&to={now.date()}").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_execute_once():
    require_postgresql()
    shop = shop_create(code="racesurprise", name="并发惊喜")
    mei = person_create(shop=shop, name="小美", roles=["agent"])
    bosses = [person_create(shop=shop, name=f"经理{i}", roles=["manager"]) for i in range(2)]
    buyer = Customer.objects.create(shop=shop, buyer_id="b1")
    s = give(shop, mei, buyer, "90.00")
    results = race(lambda who: approval_decide(shop=shop, approval_id=s.approval_id, approver=who, approve=True),
                   [(b,) for b in bosses])
    ok = [r for r in results if isinstance(r, ApprovalRequest)]
    assert len(ok) == 1 and [r.code for r in results if isinstance(r, KefuError)] == ["already_decided"]
    s.refresh_from_db()
    assert s.state == "approved" and MoneyAction.objects.filter(shop=shop).count() == 1
