"""Bonuses and incentives (WF-5): special bonuses as statement lines (recomputed from the raw rows),
decided once, a locked month unchanged; ranking places against a plain loop (hypothesis), awarded once;
the wish list private and granted once; API by role, tenancy, pages; the race on PostgreSQL."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.aftersales.models import Case
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.models import AuditLog
from kefu.core.services import person_create
from kefu.people import bonus as bo
from kefu.people.close import month_close, month_lock
from kefu.people.models import CommissionStatement, RankingAward, SpecialBonus, StatementLine, Wish
from kefu.people.pay import commission_plan_set, commission_recompute

from .conftest import at, login
from .test_pay import TIERS, marginal, sell

pytestmark = pytest.mark.django_db
MAR, APR = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
NOW = dt.datetime(2026, 4, 10, 4, tzinfo=dt.UTC)


@pytest.fixture
def boss(shop):
    return person_create(shop=shop, name="王经理", username="wang", password="pass-word-1", roles=["manager"])


def propose(shop, agent, by, amount, month=MAR, **kw):
    return bo.bonus_propose(shop=shop, agent=agent, kind=kw.pop("kind", "outstanding"), amount=amount,
                            reason=kw.pop("reason", "双十一业绩第一"), month=month, by=by, now=NOW, **kw)[0]


def plain_total(shop, agent, month) -> Decimal:
    """What the statement should pay, from raw rows: the commission by rate steps on the credited
    orders' net sales plus every approved bonus and award paid in that month (a plain loop)."""
    from kefu.metrics.models import OrderCredit

    net = Decimal(0)
    for c in OrderCredit.objects.filter(shop=shop, agent=agent, pay_day__gte=month,
                                        pay_day__lt=(month + dt.timedelta(days=32)).replace(day=1)):
        net += Decimal(0) if c.taken_back else c.paid_amount - c.refund_amount
    extra = Decimal(0)
    for b in SpecialBonus.objects.filter(shop=shop, agent=agent).values("month", "state", "amount"):
        if b["month"] == month and b["state"] == "approved":
            extra += b["amount"]
    for a in RankingAward.objects.filter(shop=shop, agent=agent).values("pay_month", "amount"):
        if a["pay_month"] == month:
            extra += a["amount"]
    return marginal(net, TIERS) + extra


def test_bonus_proposed_approved_and_paid_as_a_statement_line(shop, agent, colleague, supervisor, manager, boss):
    commission_plan_set(shop=shop, by=manager, tiers=TIERS)
    sell(shop, "店铺:小美", "b1", "o1", at(shop, dt.date(2026, 3, 3), 10), "1500.00")
    case = Case.objects.create(shop=shop, type="return_refund", reason="quality", owner=agent)
    b = propose(shop, agent, supervisor, "200.00", kind="loss_recovered", reason="追回快递赔偿", case_id=case.pk)
    assert b.state == "proposed" and b.case_id == case.pk
    commission_recompute(shop=shop, month=MAR)
    st = CommissionStatement.objects.get(agent=agent, month=MAR)
    assert st.bonus == 0 and st.total == plain_total(shop, agent, MAR)  # proposed: not paid yet
    with pytest.raises(PermissionDenied):  # a supervisor does not approve money
        bo.bonus_decide(shop=shop, bonus=b, approve=True, by=supervisor)
    bo.bonus_decide(shop=shop, bonus=b, approve=True, note="同意", by=manager)
    st.refresh_from_db()
    assert st.bonus == Decimal("200.00") and st.total == st.commission + Decimal("200.00")
    assert st.total == plain_total(shop, agent, MAR)
    line = StatementLine.objects.get(statement=st, kind="bonus")
    assert line.amount == Decimal("200.00") and line.note == "追回快递赔偿"
    with pytest.raises(KefuError) as e:  # decided once
        bo.bonus_decide(shop=shop, bonus=b, approve=False, note="no", by=boss)
    assert e.value.code == "already_decided"
    assert AuditLog.objects.filter(action="people.bonus.approve", entity_id=str(b.pk)).count() == 1
    # a rejected one is never paid; a rejection needs a reason
    r = propose(shop, agent, supervisor, "50")
    with pytest.raises(KefuError):
        bo.bonus_decide(shop=shop, bonus=r, approve=False, note="", by=manager)
    bo.bonus_decide(shop=shop, bonus=r, approve=False, note="理由不足", by=manager)
    commission_recompute(shop=shop, month=MAR)
    st.refresh_from_db()
    assert st.total == plain_total(shop, agent, MAR) and st.bonus == Decimal("200.00")


def test_the_proposer_does_not_approve_and_bad_input(shop, agent, supervisor, manager, boss, other_shop):
    b = propose(shop, agent, manager, "10")
    with pytest.raises(PermissionDenied):
        bo.bonus_decide(shop=shop, bonus=b, approve=True, by=manager)
    bo.bonus_decide(shop=shop, bonus=b, approve=True, by=boss)
    for field, kw in [("amount", {"amount": "0"}), ("amount", {"amount": "1.001"}), ("amount", {"amount": "x"}),
                      ("reason", {"reason": " "}), ("kind", {"kind": "gift"}), ("month", {"month": dt.date(2026, 5, 1)})]:
        args = {"amount": "10", "reason": "r", "kind": "outstanding", "month": MAR} | kw
        with pytest.raises(KefuError) as e:
            bo.bonus_propose(shop=shop, agent=agent, by=supervisor, now=NOW, **args)
        assert e.value.field == field, field
    other_case = Case.objects.create(shop=other_shop, type="return_refund", reason="quality")
    with pytest.raises(NotFound):
        propose(shop, agent, supervisor, "10", case_id=other_case.pk)
    with pytest.raises(PermissionDenied):
        propose(shop, agent, agent, "10")
    assert SpecialBonus.objects.count() == 1


def test_a_locked_month_is_unchanged_and_the_bonus_goes_to_the_next_open_month(shop, agent, supervisor, manager,
                                                                               boss):
    commission_plan_set(shop=shop, by=manager, tiers=TIERS)
    sell(shop, "店铺:小美", "b1", "o1", at(shop, dt.date(2026, 3, 3), 10), "1500.00")
    b = propose(shop, agent, supervisor, "88.00")  # proposed for March while it is open
    month_close(shop=shop, month=MAR, by=supervisor, now=NOW)
    month_lock(shop=shop, month=MAR, by=manager, now=NOW)
    march = CommissionStatement.objects.get(agent=agent, month=MAR)
    frozen = (march.total, march.bonus, list(march.lines.values_list("kind", "amount")))
    bo.bonus_decide(shop=shop, bonus=b, approve=True, by=boss, now=NOW)
    b.refresh_from_db()
    assert b.month == APR
    march.refresh_from_db()
    assert (march.total, march.bonus, list(march.lines.values_list("kind", "amount"))) == frozen
    april = CommissionStatement.objects.get(agent=agent, month=APR)
    assert april.bonus == Decimal("88.00") and april.total == plain_total(shop, agent, APR)
    # proposed for a locked month: booked to the next open one at once
    assert propose(shop, agent, supervisor, "5").month == APR


def test_request_id(shop, agent, supervisor):
    a, c1 = bo.bonus_propose(shop=shop, agent=agent, kind="outstanding", amount="10", reason="r", by=supervisor,
                             request_id="k", now=NOW)
    b, c2 = bo.bonus_propose(shop=shop, agent=agent, kind="outstanding", amount="10.00", reason="r", by=supervisor,
                             request_id="k", now=NOW)
    assert (c1, c2) == (True, False) and a.pk == b.pk
    with pytest.raises(KefuError) as e:
        bo.bonus_propose(shop=shop, agent=agent, kind="outstanding", amount="11", reason="r", by=supervisor,
                         request_id="k", now=NOW)
    assert e.value.code == "request_id_reused"


def plain_places(values: dict, n: int) -> list:
    """Competition ranking by a plain loop: rank = 1 + how many have a strictly better value."""
    out = []
    for a, v in values.items():
        if v is None or v <= 0:
            continue
        rank = 1 + sum(1 for w in values.values() if w is not None and w > v)
        if rank <= n:
            out.append((a, rank, v))
    return sorted(out, key=lambda t: (t[1], t[0]))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(1, 30), st.one_of(st.none(), st.integers(-3, 6).map(Decimal)), max_size=12),
       st.integers(1, 5))
def test_ranking_places_match_a_plain_loop(values, n):
    assert bo.ranking_places(values, n) == plain_places(values, n)


def test_ranking_award_once_ties_and_statement(shop, agent, colleague, supervisor, manager, boss):
    commission_plan_set(shop=shop, by=manager, tiers=TIERS)
    third = person_create(shop=shop, name="阿珍", username="azhen", password="pass-word-1", roles=["agent"],
                          platform_ids=["店铺:阿珍"])
    d = lambda day: at(shop, dt.date(2026, 3, day), 10)  # noqa: E731
    sell(shop, "店铺:小美", "b1", "o1", d(3), "900.00")
    sell(shop, "店铺:阿强", "b2", "o2", d(4), "900.00")  # tie with 小美
    sell(shop, "店铺:阿珍", "b3", "o3", d(5), "300.00")
    rule = bo.ranking_rule_set(shop=shop, by=manager, name="月度销售前二", metric="sales", amounts=["300", "100"])
    with pytest.raises(PermissionDenied):
        bo.ranking_rule_set(shop=shop, by=supervisor, name="x", metric="sales", amounts=["1"])
    with pytest.raises(KefuError):  # the month is not over
        bo.ranking_award(shop=shop, rule=rule, month=APR, by=manager, now=NOW)
    rows = bo.ranking_award(shop=shop, rule=rule, month=MAR, by=manager, now=NOW)
    assert sorted((r.agent.name, r.rank, r.amount) for r in rows) == [("小美", 1, Decimal("300")),
                                                                      ("阿强", 1, Decimal("300"))]
    with pytest.raises(KefuError) as e:
        bo.ranking_award(shop=shop, rule=rule, month=MAR, by=boss, now=NOW)
    assert e.value.code == "already_done"
    for a in (agent, colleague, third):
        st = CommissionStatement.objects.get(agent=a, month=MAR)
        assert st.total == plain_total(shop, a, MAR), a.name
    assert StatementLine.objects.filter(kind="ranking").count() == 2


def test_wishes_private_and_granted_once(shop, agent, colleague, supervisor):
    w = bo.wish_add(shop=shop, agent=agent, text="一天调休", by=agent)
    with pytest.raises(PermissionDenied):
        bo.wish_add(shop=shop, agent=agent, text="x", by=colleague)
    assert list(bo.wishes_for(shop=shop, member=colleague)) == []
    assert list(bo.wishes_for(shop=shop, member=supervisor)) == [w]
    with pytest.raises(PermissionDenied):
        bo.wish_grant(shop=shop, wish=w, granted_for="x", by=agent)
    bo.wish_grant(shop=shop, wish=w, granted_for="3月销售第一", by=supervisor)
    with pytest.raises(KefuError) as e:
        bo.wish_grant(shop=shop, wish=w, granted_for="again", by=supervisor)
    assert e.value.code == "already_decided"
    assert Wish.objects.get(pk=w.pk).state == "granted"
    from kefu.approvals.models import Notification
    assert Notification.objects.filter(recipient=agent, text__contains="一天调休").count() == 1


def test_api_roles_and_tenancy(shop, other_shop, api, agent, colleague, supervisor, manager):
    s = login(supervisor)
    body = {"agent_id": agent.pk, "kind": "exemplary", "amount": "66.6", "reason": "带新人", "month": "2026-03"}
    r = s.post("/api/v1/bonuses?shop=s1", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    bid = r.json()["id"]
    assert login(agent).post("/api/v1/bonuses?shop=s1", json.dumps(body),
                             content_type="application/json").status_code == 403
    url = f"/api/v1/bonuses/{bid}/decision?shop=s1"
    assert s.post(url, json.dumps({"approve": True}), content_type="application/json").status_code == 403
    m = login(manager)
    assert m.post(url, json.dumps({"approve": True}), content_type="application/json").status_code == 200
    assert m.post(url, json.dumps({"approve": True}), content_type="application/json").status_code == 409
    assert [b["id"] for b in login(agent).get("/api/v1/bonuses?shop=s1").json()] == [bid]
    assert login(colleague).get("/api/v1/bonuses?shop=s1").json() == []
    assert login(colleague).post(url, json.dumps({"approve": True}),
                                 content_type="application/json").status_code == 404
    stranger = person_create(shop=other_shop, name="外人", username="wai", password="pass-word-1", roles=["agent"])
    assert api.post("/api/v1/bonuses", json.dumps(body | {"agent_id": stranger.pk}),
                    content_type="application/json").status_code == 404
    r = m.post("/api/v1/ranking-rules?shop=s1", json.dumps({"name": "前三", "metric": "sales",
                                                            "amounts": ["300", "200", "100"]}),
               content_type="application/json")
    assert r.status_code == 200 and r.json()["amounts"] == ["300", "200", "100"]
    w = login(agent).post("/api/v1/wishes?shop=s1", json.dumps({"text": "一本书"}), content_type="application/json")
    assert w.status_code == 201
    wid = w.json()["id"]
    assert login(colleague).post(f"/api/v1/wishes/{wid}/grant?shop=s1", json.dumps({"granted_for": "x"}),
                                 content_type="application/json").status_code == 404
    assert s.post(f"/api/v1/wishes/{wid}/grant?shop=s1", json.dumps({"granted_for": "带新人"}),
                  content_type="application/json").json()["state"] == "granted"


def test_rewards_page(shop, agent, supervisor, manager, django_assert_max_num_queries):
    s = login(supervisor)
    r = s.post("/people/rewards/bonuses/", {"agent": agent.pk, "kind": "outstanding", "amount": "30",
                                            "reason": "好评率第一", "month": "2026-03", "request_id": "f1"})
    assert r.status_code == 302 and SpecialBonus.objects.count() == 1
    s.post("/people/rewards/bonuses/", {"agent": agent.pk, "kind": "outstanding", "amount": "30",
                                        "reason": "好评率第一", "month": "2026-03", "request_id": "f1"})
    assert SpecialBonus.objects.count() == 1  # a double submit is one bonus
    b = SpecialBonus.objects.get()
    m = login(manager)
    for i in range(3):
        bo.wish_add(shop=shop, agent=agent, text=f"心愿{i}", by=agent)
    with django_assert_max_num_queries(20):
        page = m.get("/people/rewards/?month=2026-03").content.decode()
    assert "好评率第一" in page and f"/people/rewards/bonuses/{b.pk}/approve/" in page
    m.post(f"/people/rewards/bonuses/{b.pk}/approve/", {"note": "同意"})
    assert SpecialBonus.objects.get().state == "approved"
    page = login(agent).get("/people/rewards/?month=2026-03").content.decode()
    assert "好评率第一" in page and "approve/" not in page and "心愿0" in page


@pytest.mark.django_db(transaction=True)
def test_two_managers_approve_one_bonus_at_once(shop, agent, supervisor, manager, boss):
    from tests.concurrency import race, require_postgresql

    require_postgresql()
    b = propose(shop, agent, supervisor, "99")
    results = race(lambda by: bo.bonus_decide(shop=shop, bonus=b, approve=True, by=by), [(manager,), (boss,)])
    ok = [r for r in results if isinstance(r, SpecialBonus)]
    errors = [r for r in results if isinstance(r, KefuError)]
    assert len(ok) == 1 and len(errors) == 1 and errors[0].code == "already_decided", results
    assert AuditLog.objects.filter(action="people.bonus.approve").count() == 1
    st = CommissionStatement.objects.get(agent=agent, month=b.month)
    assert st.bonus == Decimal("99") and StatementLine.objects.filter(kind="bonus").count() == 1
