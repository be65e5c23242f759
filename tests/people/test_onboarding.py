"""Onboarding (WF-7): the default 7-day plan, the state machine (exam → probation → mentor sign-off →
the supervisor's decision, once), 师徒制 one mentee per mentor, probation by day for the QA sampler
(issue 10 item 1, end to end through kefu.quality), pages and API by role, other shop → 404."""

import datetime as dt
import json
from collections import Counter
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import AuditLog
from kefu.core.services import person_create, token_create
from kefu.people import onboarding as ob
from kefu.people.models import Onboarding, OnboardingEvent
from kefu.people.selectors import agents_in_probation

from .conftest import login

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
START = dt.date(2026, 11, 2)


@pytest.fixture
def mentor(shop):
    return person_create(shop=shop, name="老王", username="laowang", password="pass-word-1", roles=["agent"])


@pytest.fixture
def newbie(shop, agent, mentor, supervisor):
    return ob.onboarding_start(shop=shop, agent=agent, mentor=mentor, start_date=START, by=supervisor, now=NOW)


def test_default_plan_is_seed_001s_seven_days_and_an_exam(shop):
    plan = ob.training_plan(shop)
    assert plan.days.count() == 7 and plan.pass_mark == Decimal("80")
    assert [d.topic for d in plan.days.all()][:2] == ["公司文化", "价值观"]
    assert sum(q.points for q in plan.questions.all()) == 100
    assert ob.training_plan(shop).pk == plan.pk  # created once


def test_the_whole_way_in(shop, newbie, agent, mentor, supervisor):
    o = newbie
    assert o.state == "training" and o.probation_end == START + dt.timedelta(days=29)
    ob.onboarding_day_done(shop=shop, onboarding=o, day_no=1, by=agent, note="学了品牌故事", now=NOW)
    with pytest.raises(KefuError) as e:
        ob.onboarding_day_done(shop=shop, onboarding=o, day_no=1, by=mentor, now=NOW)
    assert e.value.code == "already_done"
    with pytest.raises(KefuError):
        ob.onboarding_day_done(shop=shop, onboarding=o, day_no=8, by=agent, now=NOW)
    # the trainee cannot grade their own exam; a failed exam keeps training
    with pytest.raises(PermissionDenied):
        ob.onboarding_exam_record(shop=shop, onboarding=o, score="95", by=agent, now=NOW)
    a = ob.onboarding_exam_record(shop=shop, onboarding=o, score="79.5", by=supervisor, now=NOW)
    o.refresh_from_db()
    assert not a.passed and o.state == "training"
    # the mentor cannot sign off before probation; nobody confirms before the sign-off
    with pytest.raises(KefuError):
        ob.onboarding_signoff(shop=shop, onboarding=o, opinion="好", by=mentor, now=NOW)
    a = ob.onboarding_exam_record(shop=shop, onboarding=o, score="80", by=supervisor, now=NOW)
    o.refresh_from_db()
    assert a.passed and o.state == "probation"
    with pytest.raises(KefuError) as e:
        ob.onboarding_decide(shop=shop, onboarding=o, confirm=True, note="", by=supervisor, now=NOW)
    assert e.value.code == "invalid_state"
    with pytest.raises(PermissionDenied):
        ob.onboarding_signoff(shop=shop, onboarding=o, opinion="好", by=supervisor, now=NOW)
    ob.onboarding_note(shop=shop, onboarding=o, text="接待耐心，尺码推荐还要练", by=mentor, now=NOW)
    ob.onboarding_signoff(shop=shop, onboarding=o, opinion="可以转正", by=mentor, now=NOW)
    with pytest.raises(PermissionDenied):  # the trainee decides nothing
        ob.onboarding_decide(shop=shop, onboarding=o, confirm=True, note="", by=agent, now=NOW)
    ob.onboarding_decide(shop=shop, onboarding=o, confirm=True, note="", by=supervisor,
                         now=NOW + dt.timedelta(days=30))
    with pytest.raises(KefuError) as e:  # decided once
        ob.onboarding_decide(shop=shop, onboarding=o, confirm=False, note="再看看", by=supervisor, now=NOW)
    assert e.value.code == "already_decided"
    o.refresh_from_db()
    assert o.state == "confirmed" and o.decided_on == START + dt.timedelta(days=30)
    actions = list(OnboardingEvent.objects.filter(onboarding=o).values_list("action", flat=True))
    assert actions == ["start", "day", "exam", "exam", "note", "signoff", "decide"]
    assert AuditLog.objects.filter(action__startswith="onboarding.").count() == 5


def test_a_failure_needs_a_reason(shop, newbie, supervisor):
    with pytest.raises(KefuError):
        ob.onboarding_decide(shop=shop, onboarding=newbie, confirm=False, note=" ", by=supervisor, now=NOW)
    ob.onboarding_decide(shop=shop, onboarding=newbie, confirm=False, note="价值观不合", by=supervisor, now=NOW)
    newbie.refresh_from_db()
    assert newbie.state == "failed"


def test_one_mentee_per_mentor(shop, newbie, mentor, colleague, supervisor):
    with pytest.raises(KefuError) as e:
        ob.onboarding_start(shop=shop, agent=colleague, mentor=mentor, start_date=START, by=supervisor, now=NOW)
    assert e.value.code == "mentor_taken"
    with pytest.raises(KefuError):  # a trainee mentors nobody
        ob.onboarding_start(shop=shop, agent=colleague, mentor=newbie.agent, start_date=START, by=supervisor, now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds the rule too (races)
        Onboarding.objects.create(shop=shop, agent=colleague, mentor=mentor, start_date=START, probation_end=START)
    # once the first mentee is decided, the mentor is free again
    ob.onboarding_decide(shop=shop, onboarding=newbie, confirm=False, note="离职", by=supervisor, now=NOW)
    ob.onboarding_start(shop=shop, agent=colleague, mentor=mentor, start_date=START, by=supervisor, now=NOW)


def test_only_the_agents_supervisor_starts_it(shop, agent, mentor, colleague):
    other_group = person_create(shop=shop, name="售后主管", roles=["supervisor"], group="aftersales")
    agent.group = "presales"
    agent.save()
    with pytest.raises(PermissionDenied):
        ob.onboarding_start(shop=shop, agent=agent, mentor=mentor, start_date=START, by=other_group, now=NOW)
    with pytest.raises(PermissionDenied):
        ob.onboarding_start(shop=shop, agent=agent, mentor=mentor, start_date=START, by=colleague, now=NOW)


def test_agents_in_probation_by_day(shop, newbie, supervisor, mentor):
    a = newbie.agent_id
    assert agents_in_probation(shop=shop, day=START - dt.timedelta(days=1)) == set()
    assert agents_in_probation(shop=shop, day=START) == {a}
    ob.onboarding_exam_record(shop=shop, onboarding=newbie, score="90", by=supervisor, now=NOW)
    ob.onboarding_signoff(shop=shop, onboarding=newbie, opinion="好", by=mentor, now=NOW)
    ob.onboarding_decide(shop=shop, onboarding=newbie, confirm=True, note="", by=supervisor,
                         now=NOW + dt.timedelta(days=20))
    decided = START + dt.timedelta(days=20)
    assert agents_in_probation(shop=shop, day=decided - dt.timedelta(days=1)) == {a}  # history kept
    assert agents_in_probation(shop=shop, day=decided) == set()


def test_sampler_draws_more_of_the_agent_in_probation(shop, supervisor):
    """Issue 10 item 1 end to end: kefu.quality's sampler reads agents_in_probation (no stub)."""
    from kefu.quality.flags import qa_settings
    from kefu.quality.sampling import probation_agent_ids, sampling_plan, sampling_run
    from tests.quality.conftest import chat

    a = person_create(shop=shop, name="小美", roles=["agent"], platform_ids=["店铺:小美"])
    b = person_create(shop=shop, name="小刘", roles=["agent"], platform_ids=["店铺:小刘"])
    for day in (dt.date(2026, 11, 2), dt.date(2026, 11, 3)):
        for i in range(10):
            for who, p in (("m", "店铺:小美"), ("l", "店铺:小刘")):
                chat(shop, [(f"{who}{i}", p, "buyer", 0, "在吗"), (f"{who}{i}", p, "agent", 20, "在的亲")], day=day)
    st = qa_settings(shop)
    st.every_days, st.per_agent, st.extra_below_reply_rate, st.extra_probation = 2, 2, 0, 3
    st.save()
    round_day = dt.date(2026, 11, 4)
    assert probation_agent_ids(shop=shop, day=round_day) == set()
    before = Counter(c.agent_id for c, _ in sampling_plan(shop=shop, round_day=round_day))
    assert before[a.pk] == before[b.pk] == 2
    ob.onboarding_start(shop=shop, agent=b, mentor=a, start_date=dt.date(2026, 11, 1), by=supervisor, now=NOW)
    assert probation_agent_ids(shop=shop, day=round_day) == {b.pk}
    samples = sampling_run(shop=shop, round_day=round_day, now=NOW)
    per = Counter(s.agent_id for s in samples)
    assert per[a.pk] == 2 and per[b.pk] == 2 + 3
    assert all("probation" in s.reasons for s in samples if s.agent_id == b.pk)
    assert not any("probation" in s.reasons for s in samples if s.agent_id == a.pk)


# ---------------------------------------------------------------- pages

def test_pages_by_role(shop, newbie, agent, mentor, supervisor, colleague, django_assert_max_num_queries):
    # the trainee lands on their own onboarding and sees no answers
    r = login(agent).get("/people/onboarding/", follow=True)
    html = r.content.decode()
    assert r.status_code == 200 and "老王" in html and "参考答案" not in html and 'id="study-cases"' in html
    # the mentor sees the mentee in the list and the answers on the page
    r = login(mentor).get("/people/onboarding/")
    assert "小美" in r.content.decode() and "我的徒弟" in r.content.decode()
    r = login(mentor).get(f"/people/onboarding/{newbie.pk}/")
    assert r.status_code == 200 and "参考答案" in r.content.decode() and 'id="signoff-form"' not in r.content.decode()
    # a colleague sees nothing of it
    assert login(colleague).get(f"/people/onboarding/{newbie.pk}/").status_code == 404
    assert "小美" not in login(colleague).get("/people/onboarding/").content.decode()
    # the supervisor records the exam from the page
    c = login(supervisor)
    with django_assert_max_num_queries(30):
        r = c.get(f"/people/onboarding/{newbie.pk}/")
    assert 'id="exam-form"' in r.content.decode()
    r = c.post(f"/people/onboarding/{newbie.pk}/exam/", {"score": "88", "note": "笔试"})
    assert r.status_code == 302
    newbie.refresh_from_db()
    assert newbie.state == "probation"
    r = c.post(f"/people/onboarding/{newbie.pk}/exam/", {"score": "88"})
    assert "error=" in r["Location"]
    assert login(agent).post(f"/people/onboarding/{newbie.pk}/signoff/", {"opinion": "x"}).status_code == 403
    assert c.post(f"/people/onboarding/{newbie.pk}/nonsense/").status_code == 404


def test_list_query_count_does_not_grow(shop, supervisor, django_assert_max_num_queries):
    c = login(supervisor)
    for i in range(4):
        m = person_create(shop=shop, name=f"师傅{i}", roles=["agent"])
        n = person_create(shop=shop, name=f"新人{i}", roles=["agent"])
        ob.onboarding_start(shop=shop, agent=n, mentor=m, start_date=START, by=supervisor, now=NOW)
        if i == 0:
            c.get("/people/onboarding/")
            with django_assert_max_num_queries(40) as first:
                c.get("/people/onboarding/")
            baseline = len(first.captured_queries)
    with django_assert_max_num_queries(baseline):
        r = c.get("/people/onboarding/")
    assert r.content.decode().count("/people/onboarding/") >= 4


def test_start_and_plan_from_the_pages(shop, agent, mentor, supervisor):
    manager = person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"])
    c = login(supervisor)
    r = c.post("/people/onboarding/start/", {"agent": agent.pk, "mentor": mentor.pk, "start_date": "2026-11-02"})
    assert r.status_code == 302 and Onboarding.objects.filter(agent=agent, mentor=mentor).exists()
    assert c.post("/people/onboarding/plan/save/", {"name": "x", "pass_mark": "60"}).status_code == 403
    m = login(manager)
    r = m.post("/people/onboarding/plan/save/", {
        "name": "五天计划", "pass_mark": "70", "probation_days": "14",
        "topic_0": "文化", "materials_0": "", "topic_1": "", "materials_1": "", "topic_2": "话术", "materials_2": "x",
        "question_0": "禁用词？", "answer_0": "最、第一", "points_0": "100"})
    assert r.status_code == 302 and "saved=1" in r["Location"], r["Location"]
    plan = ob.training_plan(shop)
    assert [d.topic for d in plan.days.all()] == ["文化", "话术"] and plan.pass_mark == 70
    r = m.post("/people/onboarding/plan/save/", {"name": "x", "pass_mark": "170", "probation_days": "14",
                                                  "topic_0": "文化"})
    assert "error=" in r["Location"] and ob.training_plan(shop).pass_mark == 70  # nothing changed
    assert "禁用词" in m.get("/people/onboarding/plan/").content.decode()
    assert "最、第一" not in login(agent).get("/people/onboarding/plan/").content.decode()


def test_other_shop_person_gets_404(other_shop, newbie):
    boss = person_create(shop=other_shop, name="别家老板", username="boss2", password="pass-word-1", roles=["manager"])
    assert login(boss).get(f"/people/onboarding/{newbie.pk}/").status_code == 404
    assert login(boss).post(f"/people/onboarding/{newbie.pk}/exam/", {"score": "90"}).status_code == 404


# ---------------------------------------------------------------- API

def _post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def test_api_flow(shop, agent, mentor, supervisor):
    from django.test import Client

    _, raw = token_create(shop=shop, name="hr")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    plan = api.get("/api/v1/training-plan").json()
    assert len(plan["days"]) == 7 and plan["questions"][0]["answer"]
    r = _post(api, "/api/v1/onboardings", {"agent_id": agent.pk, "mentor_id": mentor.pk, "start_date": "2026-11-02"})
    assert r.status_code == 201, r.content
    oid = r.json()["id"]
    assert _post(api, f"/api/v1/onboardings/{oid}/days", {"day_no": 1}).json()["days_done"] == [1]
    assert _post(api, f"/api/v1/onboardings/{oid}/exam", {"score": "90"}).json()["state"] == "probation"
    r = _post(login(mentor), f"/api/v1/onboardings/{oid}/signoff?shop=s1", {"opinion": "可以"})
    assert r.status_code == 200 and r.json()["mentor_opinion"] == "可以", r.content
    r = _post(api, f"/api/v1/onboardings/{oid}/decision", {"confirm": True})
    assert r.status_code == 200 and r.json()["state"] == "confirmed"
    r = _post(api, f"/api/v1/onboardings/{oid}/decision", {"confirm": False, "note": "x"})
    assert r.status_code == 409 and r.json()["code"] == "already_decided"
    # the trainee reads their own record but not the answers
    me = login(agent)
    assert me.get(f"/api/v1/onboardings/{oid}?shop=s1").status_code == 200
    assert me.get("/api/v1/training-plan?shop=s1").json()["questions"] == []
    assert [o["id"] for o in me.get("/api/v1/onboardings?state=all&shop=s1").json()] == [oid]
    assert _post(me, "/api/v1/training-plan?shop=s1", {"pass_mark": "10"}).status_code == 403
    r = _post(api, "/api/v1/training-plan", {"days": [], "pass_mark": "101"})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"days", "pass_mark"}


def test_decided_once_and_mentor_bound_once_under_concurrency(transactional_db, shop, agent, mentor, supervisor,
                                                              colleague):
    from tests.concurrency import race, require_postgresql

    require_postgresql()
    other = person_create(shop=shop, name="第二主管", username="zhou2", password="pass-word-1", roles=["supervisor"],
                          group="")
    o = ob.onboarding_start(shop=shop, agent=agent, mentor=mentor, start_date=START, by=supervisor, now=NOW)
    results = race(lambda who, confirm: ob.onboarding_decide(shop=shop, onboarding=o, confirm=confirm,
                                                             note="决定", by=who, now=NOW),
                   [(supervisor, False), (other, False)])
    ok = [r for r in results if isinstance(r, Onboarding)]
    errors = [r for r in results if not isinstance(r, Onboarding)]
    assert len(ok) == 1 and getattr(errors[0], "code", None) == "already_decided", results
    assert OnboardingEvent.objects.filter(onboarding=o, action="decide").count() == 1
    # two supervisors give one free mentor two new agents at once: one wins (师徒制 one to one)
    third = person_create(shop=shop, name="小新", roles=["agent"])
    results = race(lambda a: ob.onboarding_start(shop=shop, agent=a, mentor=mentor, start_date=START, by=supervisor,
                                                 now=NOW), [(colleague,), (third,)])
    ok = [r for r in results if isinstance(r, Onboarding)]
    assert len(ok) == 1 and getattr([r for r in results if r not in ok][0], "code", None) == "mentor_taken", results
