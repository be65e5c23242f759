"""Issue 10 item 6 / seed 000 遇一罚一: a complaint QA traced to wrong product knowledge
(kefu.quality KnowledgeFault) is a deduction of the people ledger — a default rule row of the shop's
table, linked to the complaint, following its source (traced, withdrawn, the complaint's verdict
rejected or upheld again), checked against an independent recount from the raw rows."""

import random
from decimal import Decimal

import pytest

from kefu.complaints.models import AgentComplaint
from kefu.complaints.services import complaint_create, complaint_verdict
from kefu.core.services import person_create
from kefu.people.models import LedgerMonth, PenaltyDeduction, PenaltyRule
from kefu.people.months import month_start, shop_today
from kefu.people.rules import rules_list
from kefu.quality.models import KnowledgeFault
from kefu.quality.services import knowledge_fault_record, knowledge_fault_withdraw

pytestmark = pytest.mark.django_db


def _complaint(shop, supervisor, agent, n):
    from kefu.customers.models import Customer

    buyer, _ = Customer.objects.get_or_create(shop=shop, buyer_id=f"kb{n}")
    return complaint_create(shop=shop, source="buyer", category="product", summary=f"尺码说错了 {n}",
                            actor=supervisor, customer=buyer, against=agent, owner=supervisor)


def _active(agent):
    return list(PenaltyDeduction.objects.filter(agent=agent, rule_code="knowledge_fault", status="active"))


def test_default_rule_row_reaches_existing_tables(shop):
    rules_list(shop)
    PenaltyRule.objects.filter(shop=shop, code="knowledge_fault").delete()  # a table from before this rule
    assert "knowledge_fault" not in set(PenaltyRule.objects.filter(shop=shop).values_list("code", flat=True))
    rule = next(r for r in rules_list(shop) if r.code == "knowledge_fault")
    assert rule.source == "knowledge" and rule.points_each == Decimal("1") and rule.tiers == []
    assert PenaltyRule.objects.filter(shop=shop).count() == 8  # nothing else doubled


def test_fault_deducts_once_each_and_follows_its_source(shop, supervisor, agent):
    c1, c2 = _complaint(shop, supervisor, agent, 1), _complaint(shop, supervisor, agent, 2)
    f1 = knowledge_fault_record(shop=shop, actor=supervisor, complaint=c1, note="面料说成纯棉")
    (d,) = _active(agent)
    assert d.points == 1 and d.source_type == "complaint" and d.source_id == str(c1.pk) and d.detail["fault"] == f1.pk
    knowledge_fault_record(shop=shop, actor=supervisor, complaint=c2)
    assert sorted(x.source_id for x in _active(agent)) == sorted([str(c1.pk), str(c2.pk)])  # 遇一罚一: no tiers
    month = month_start(shop_today(shop))
    assert LedgerMonth.objects.get(agent=agent, month=month).points_left == Decimal("8")
    # the complaint against the agent judged unfounded: its deduction is voided; upheld again: back
    complaint_verdict(shop=shop, complaint_id=c1.pk, verdict="rejected", actor=supervisor)
    assert [x.source_id for x in _active(agent)] == [str(c2.pk)]
    assert PenaltyDeduction.objects.get(agent=agent, source_id=str(c1.pk), status="voided")
    complaint_verdict(shop=shop, complaint_id=c1.pk, verdict="upheld", actor=supervisor)
    assert len(_active(agent)) == 2
    # a trace withdrawn (recorded in error) takes its deduction with it, audited
    knowledge_fault_withdraw(shop=shop, actor=supervisor, fault=f1, reason="其实是仓库发错货")
    assert [x.source_id for x in _active(agent)] == [str(c2.pk)]
    assert LedgerMonth.objects.get(agent=agent, month=month).points_left == Decimal("9")
    from kefu.core.models import AuditLog

    assert AuditLog.objects.filter(action="qa.knowledge_fault.withdraw").count() == 1
    # the manager switches the rule off: no knowledge deductions at the next recompute
    from kefu.people.ledger import ledger_source_changed
    from kefu.people.rules import penalty_rules_update

    penalty_rules_update(shop=shop, by=None, changes=[{"code": "knowledge_fault", "active": False}])
    ledger_source_changed(shop=shop, agent_id=agent.pk, day=shop_today(shop))
    assert _active(agent) == []


def test_agent_cannot_withdraw(shop, supervisor, agent):
    from kefu.core.errors import PermissionDenied

    f = knowledge_fault_record(shop=shop, actor=supervisor, complaint=_complaint(shop, supervisor, agent, 1))
    with pytest.raises(PermissionDenied):
        knowledge_fault_withdraw(shop=shop, actor=agent, fault=f, reason="不是我")
    assert len(_active(agent)) == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_points_equal_an_independent_recount(shop, supervisor, seed):
    """Random traces, verdicts and withdrawals for three agents; the ledger's points equal a plain
    count over the raw rows (KnowledgeFault joined to the complaint's verdict by hand) × the rule."""
    rnd = random.Random(seed)
    agents = [person_create(shop=shop, name=f"客服{i}", roles=["agent"]) for i in range(3)]
    faults = []
    for n in range(12):
        agent = rnd.choice(agents)
        c = _complaint(shop, supervisor, agent, n)
        if rnd.random() < 0.8:
            faults.append(knowledge_fault_record(shop=shop, actor=supervisor, complaint=c))
        if rnd.random() < 0.4:
            complaint_verdict(shop=shop, complaint_id=c.pk, verdict=rnd.choice(["upheld", "rejected", "pending"]),
                              actor=supervisor)
    for f in faults:
        if rnd.random() < 0.25:
            knowledge_fault_withdraw(shop=shop, actor=supervisor, fault=f, reason="录错")
    each = PenaltyRule.objects.get(shop=shop, code="knowledge_fault").points_each
    verdicts = dict(AgentComplaint.objects.filter(shop=shop).values_list("complaint_id", "verdict"))
    expected = {a.pk: Decimal("0") for a in agents}
    for agent_id, complaint_id in KnowledgeFault.objects.filter(shop=shop).values_list("agent_id", "complaint_id"):
        if verdicts[complaint_id] != "rejected":
            expected[agent_id] += each
    month = month_start(shop_today(shop))
    for a in agents:
        got = sum((d.points for d in _active(a)), Decimal("0"))
        assert got == expected[a.pk], (seed, a.name)
        lm = LedgerMonth.objects.filter(agent=a, month=month).first()
        assert (lm.points_left if lm else Decimal("10")) == Decimal("10") - expected[a.pk]
    assert sum(expected.values()) > 0


def test_withdraw_through_the_api(shop, supervisor, agent):
    import json

    from django.test import Client

    from kefu.core.services import token_create

    f = knowledge_fault_record(shop=shop, actor=supervisor, complaint=_complaint(shop, supervisor, agent, 1))
    _, raw = token_create(shop=shop, name="qa")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/v1/qa/knowledge-faults/{f.pk}/withdraw"
    # an integration is not a reviewer: refused, nothing changes
    assert api.post(url, json.dumps({"reason": "录错"}), content_type="application/json").status_code == 403
    c = Client()
    c.force_login(supervisor.user)
    r = c.post(url + "?shop=s1", json.dumps({"reason": "录错"}), content_type="application/json")
    assert r.status_code == 204 and _active(agent) == []
    assert c.post(url + "?shop=s1", json.dumps({"reason": "x"}), content_type="application/json").status_code == 404
