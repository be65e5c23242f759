"""QA-1 sampling: respects the weights (statistical, fixed seed), never draws a reception twice,
draws more of agents below the team's reply rate, with complaints or in probation."""

import datetime as dt
import random
from collections import Counter

import pytest

from kefu.core.services import person_create
from kefu.metrics.models import Reception
from kefu.quality import sampling
from kefu.quality.flags import qa_settings
from kefu.quality.models import ConversationFlag, QaSample
from kefu.quality.sampling import Candidate, sampling_plan, sampling_run, weighted_pick

from .conftest import chat

ROUND = dt.date(2026, 11, 4)


def test_weighted_pick_follows_the_weights():
    """One draw among weights 1, 1, 4, 10: frequencies match w/Σw (chi-square, 3 dof, p≈0.001 → 16.27)."""
    cands = [Candidate(1, i, dt.date(2026, 1, 1), w) for i, w in enumerate((1, 1, 4, 10))]
    rng = random.Random(20261104)
    n = 20000
    counts = Counter(weighted_pick(cands, 1, rng)[0].customer_id for _ in range(n))
    total = sum(c.weight for c in cands)
    chi2 = sum((counts[c.customer_id] - n * c.weight / total) ** 2 / (n * c.weight / total) for c in cands)
    assert chi2 < 16.27, (counts, chi2)


def test_weighted_pick_without_replacement_prefers_heavy():
    cands = [Candidate(1, i, dt.date(2026, 1, 1), 10 if i < 5 else 1) for i in range(50)]
    rng = random.Random(7)
    heavy = Counter()
    for _ in range(2000):
        picked = weighted_pick(cands, 3, rng)
        assert len({c.customer_id for c in picked}) == 3  # no repeat inside a draw
        heavy[sum(c.customer_id < 5 for c in picked)] += 1
    # With weights 10 (5 of them) vs 1 (45), the expected heavy count in 3 draws is ≈1.6; uniform would be 0.3.
    mean_heavy = sum(k * v for k, v in heavy.items()) / 2000
    assert 1.3 < mean_heavy < 1.9, mean_heavy


@pytest.fixture
def team(shop, supervisor):
    a = person_create(shop=shop, name="小美", roles=["agent"], platform_ids=["店铺:小美"])
    b = person_create(shop=shop, name="小刘", roles=["agent"], platform_ids=["店铺:小刘"])
    # 小美 answers everyone on 11-02 and 11-03; 小刘 leaves half unanswered.
    for day in (dt.date(2026, 11, 2), dt.date(2026, 11, 3)):
        for i in range(10):
            chat(shop, [(f"m{i}", "店铺:小美", "buyer", 0, "在吗"), (f"m{i}", "店铺:小美", "agent", 20, "在的亲")], day=day)
            rows = [(f"l{i}", "店铺:小刘", "buyer", 0, "在吗")]
            if i % 2 == 0:
                rows.append((f"l{i}", "店铺:小刘", "agent", 20, "在的亲"))
            chat(shop, rows, day=day)
    st = qa_settings(shop)
    st.every_days, st.per_agent, st.extra_below_reply_rate = 2, 2, 3
    st.save()
    return a, b


def test_round_draws_more_of_the_agent_below_team_reply_rate(shop, team):
    a, b = team
    plan = sampling_plan(shop=shop, round_day=ROUND)
    per = Counter(c.agent_id for c, _ in plan)
    assert per[a.pk] == 2 and per[b.pk] == 5
    assert all("below_reply_rate" in r for c, r in plan if c.agent_id == b.pk)


def test_rounds_never_repeat_a_reception(shop, team, supervisor):
    a, b = team
    seen = set()
    total = Reception.objects.filter(shop=shop).count()
    for i in range(20):
        got = sampling_run(shop=shop, round_day=ROUND, seed=i)
        keys = {(s.agent_id, s.customer_id, s.day) for s in got}
        assert not keys & seen
        seen |= keys
        if not got:
            break
    assert len(seen) == total == QaSample.objects.filter(shop=shop).count()
    assert set(QaSample.objects.values_list("reviewer_id", flat=True)) == {supervisor.pk}


def test_flags_weigh_and_complaints_and_probation_add(shop, team, monkeypatch):
    a, b = team
    st = qa_settings(shop)
    st.per_agent, st.extra_below_reply_rate, st.flag_weight = 1, 0, 50
    st.save()
    # one of 小美's receptions carries flags: with weight 51 against 19 × 1 it is drawn ~73 % of rounds
    rec = Reception.objects.filter(shop=shop, agent=a).order_by("customer_id", "day").first()
    from kefu.conversations.models import Message

    m = Message.objects.filter(shop=shop, customer=rec.customer).first()
    conv = m.customer.conversations.first()
    ConversationFlag.objects.create(shop=shop, customer=rec.customer, conversation=conv, message=m, agent=a,
                                    kind="anger", at=m.sent_at, day=rec.day)
    hits = sum(any(c.customer_id == rec.customer_id and c.day == rec.day and c.agent_id == a.pk
                   for c, _ in sampling_plan(shop=shop, round_day=ROUND, seed=s)) for s in range(300))
    expected = 51 / (51 + 19)
    assert abs(hits / 300 - expected) < 0.1, hits
    # complaints and probation add their extra receptions
    from kefu.complaints.models import AgentComplaint, Complaint

    c = Complaint.objects.create(shop=shop, source="buyer", category="attitude", owner=b, against=a, summary="x")
    AgentComplaint.objects.create(shop=shop, agent=a, complaint=c, day=dt.date(2026, 11, 3), category="attitude")
    monkeypatch.setattr(sampling, "probation_agent_ids", lambda *, shop, day: {b.pk})
    per = Counter(c.agent_id for c, _ in sampling_plan(shop=shop, round_day=ROUND))
    assert per[a.pk] == 1 + st.extra_complaints and per[b.pk] == 1 + st.extra_probation


def test_round_day_rule(shop):
    st = qa_settings(shop)
    st.every_days = 3
    st.save()
    days = [d for d in (ROUND + dt.timedelta(days=i) for i in range(9)) if sampling.is_round_day(shop, d)]
    assert len(days) == 3 and (days[1] - days[0]).days == 3
