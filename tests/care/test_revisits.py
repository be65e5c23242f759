"""Revisit plans (CRM-2): the morning lists by segment, cadence and daily cap, the buyer's own agent
first; the outcome recorded once as a phone note; a handover moves the open revisits."""

import datetime as dt

import pytest

from kefu.approvals.models import Notification
from kefu.care import services
from kefu.care.models import Revisit
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.scheduler import JOB_MODULES, jobs, tick
from kefu.customers.models import Customer, CustomerNote
from kefu.customers.services import customer_tag_add, tag_create
from tests.web.data import DAY, chat, order

from .conftest import login

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 11, 20, 9, 0, tzinfo=dt.UTC)  # 17:00 in Shanghai


@pytest.fixture
def buyers(shop, team):
    """Five buyers of mei and qiang who bought in November; one who never bought; a tag."""
    vip = tag_create(shop=shop, name="VIP", actor=None)
    for i, who in enumerate(["mei", "mei", "mei", "qiang", "qiang"]):
        chat(shop, agent=team[who], buyer=f"b{i}", day=DAY, hour=8 + i)
        order(shop, order_id=f"o{i}", buyer=f"b{i}", day=DAY, hour=9 + i)
        customer_tag_add(shop=shop, customer=Customer.objects.get(shop=shop, buyer_id=f"b{i}"), tag=vip, actor=None)
    chat(shop, agent=team["mei"], buyer="never", day=DAY)
    return vip


def plan_for(shop, team, vip, **more):
    data = {"name": "VIP 月度回访", "segment": {"tag_ids": [vip.pk], "paid_within_days": 60}, "cadence_days": 30,
            "questions": ["最近肌肤状况怎么样？", "产品用得习惯吗？"],
            "assignee_ids": [team["mei"].pk, team["qiang"].pk], "per_owner_daily": 2} | more
    return services.revisit_plan_save(shop=shop, actor=team["owner"], **data)


def test_lists_follow_segment_cap_cadence_and_the_buyers_own_agent(shop, team, buyers):
    plan = plan_for(shop, team, buyers)
    assert services.revisits_generate(shop=shop, now=NOW) == 4
    rows = list(Revisit.objects.filter(plan=plan).select_related("customer", "owner"))
    assert {r.customer.buyer_id for r in rows} <= {f"b{i}" for i in range(5)}
    per_owner = {}
    for r in rows:
        per_owner.setdefault(r.owner.name, []).append(r.customer.buyer_id)
    assert {k: len(v) for k, v in per_owner.items()} == {"小美": 2, "阿强": 2}
    assert set(per_owner["阿强"]) == {"b3", "b4"}  # their own buyers
    # The same day again: the caps are full, nothing more.
    assert services.revisits_generate(shop=shop, now=NOW + dt.timedelta(hours=1)) == 0
    # The next day: the fifth buyer (the open revisits stay open, nobody twice).
    assert services.revisits_generate(shop=shop, now=NOW + dt.timedelta(days=1)) == 1
    assert Revisit.objects.filter(plan=plan).values("customer").distinct().count() == 5
    # Once called, a buyer is due again only after the cadence.
    first = Revisit.objects.filter(plan=plan).order_by("id").first()
    services.revisit_record(shop=shop, revisit_id=first.pk, actor=first.owner, outcome="satisfied",
                            now=NOW + dt.timedelta(days=2))
    assert services.revisits_generate(shop=shop, now=NOW + dt.timedelta(days=29)) == 0
    assert services.revisits_generate(shop=shop, now=NOW + dt.timedelta(days=31)) == 1
    assert Notification.objects.filter(recipient=team["mei"], text__contains="待回访").exists()


def test_a_segment_by_product_and_an_inactive_plan(shop, team, buyers):
    from kefu.catalog.models import Product, Sku

    oil = Product.objects.create(shop=shop, title="玫瑰精油 10ml", category="精油")
    Sku.objects.filter(shop=shop, code="SKU-1").update(product=oil)  # every test order is SKU-1
    other = Product.objects.create(shop=shop, title="面膜", category="面膜")
    plan = plan_for(shop, team, buyers, segment={"product_ids": [other.pk]})
    assert services.revisits_generate(shop=shop, now=NOW) == 0
    services.revisit_plan_save(shop=shop, actor=team["owner"], plan_id=plan.pk, segment={"product_ids": [oil.pk]},
                               active=False)
    assert services.revisits_generate(shop=shop, now=NOW) == 0
    services.revisit_plan_save(shop=shop, actor=team["owner"], plan_id=plan.pk, active=True)
    assert services.revisits_generate(shop=shop, now=NOW) == 4


def test_record_is_a_phone_note_once(shop, team, buyers):
    plan_for(shop, team, buyers)
    services.revisits_generate(shop=shop, now=NOW)
    r = Revisit.objects.filter(owner=team["mei"]).first()
    with pytest.raises(PermissionDenied):
        services.revisit_record(shop=shop, revisit_id=r.pk, actor=team["qiang"], outcome="satisfied")
    with pytest.raises(KefuError) as e:
        services.revisit_record(shop=shop, revisit_id=r.pk, actor=team["mei"], outcome="satisfied",
                                answers={"你是谁": "x"})
    assert e.value.field == "answers"
    services.revisit_record(shop=shop, revisit_id=r.pk, actor=team["mei"], outcome="issue",
                            answers={"最近肌肤状况怎么样？": "换季有点干"}, note="建议加一瓶保湿")
    r.refresh_from_db()
    note = CustomerNote.objects.get(customer=r.customer, kind="phone")
    assert r.note == note and r.state == "done" and r.outcome == "issue"
    assert "换季有点干" in note.text and "建议加一瓶保湿" in note.text and note.author == team["mei"]
    with pytest.raises(KefuError) as e:
        services.revisit_record(shop=shop, revisit_id=r.pk, actor=team["mei"], outcome="satisfied")
    assert e.value.code == "already_done"
    # The API answers 409 for a second record, and 404 for another agent's revisit.
    c = login(team["mei"])
    r2 = c.post(f"/api/v1/revisits/{r.pk}/record?shop=s1", {"outcome": "satisfied"}, content_type="application/json")
    assert r2.status_code == 409
    mine = Revisit.objects.filter(owner=team["qiang"]).first()
    assert c.post(f"/api/v1/revisits/{mine.pk}/record?shop=s1", {"outcome": "satisfied"},
                  content_type="application/json").status_code == 404


def test_handover_moves_open_revisits_and_plan_places(shop, team, buyers):
    plan = plan_for(shop, team, buyers)
    services.revisits_generate(shop=shop, now=NOW)
    done = Revisit.objects.filter(owner=team["mei"]).first()
    services.revisit_record(shop=shop, revisit_id=done.pk, actor=team["mei"], outcome="satisfied")
    with pytest.raises(PermissionDenied):
        services.revisits_reassign(shop=shop, from_agent=team["mei"], to_agent=team["owner"], actor=team["qiang"])
    n = services.revisits_reassign(shop=shop, from_agent=team["mei"], to_agent=team["owner"], actor=team["sup"])
    assert n == 1
    assert Revisit.objects.get(pk=done.pk).owner == team["mei"]  # history stays
    assert set(plan.assignees.all()) == {team["qiang"], team["owner"]}


def test_the_morning_rule(shop, team, buyers):
    assert "kefu.care.jobs" in JOB_MODULES
    assert {"care.revisits_daily", "care.campaigns", "care.churn_scan"} <= {j.name for j in jobs()}
    plan_for(shop, team, buyers)
    morning = dt.datetime(2025, 11, 21, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai
    early = morning - dt.timedelta(hours=1)
    assert not [t for t in tick(early) if t[0] == "care.revisits_daily"]
    assert [t for t in tick(morning) if t[0] == "care.revisits_daily"] == [("care.revisits_daily", "s1", "2025-11-21")]
    assert not [t for t in tick(morning + dt.timedelta(hours=2)) if t[0] == "care.revisits_daily"]


def test_plan_validation(shop, team, buyers):
    with pytest.raises(PermissionDenied):
        services.revisit_plan_save(shop=shop, actor=team["mei"], name="x", assignee_ids=[team["mei"].pk])
    for bad, field in (({"segment": {"grades": ["黑钻"]}}, "segment.grades"), ({"segment": {"x": 1}}, "segment.x"),
                       ({"segment": {"tag_ids": [999999]}}, "segment.tag_ids"), ({"cadence_days": 0}, "cadence_days"),
                       ({"assignee_ids": []}, "assignee_ids"), ({"questions": ["a"] * 11}, "questions"),
                       ({"segment": {"paid_within_days": 10, "silent_days": 20}}, "segment.silent_days")):
        with pytest.raises(KefuError) as e:
            plan_for(shop, team, buyers, **bad)
        assert e.value.field == field, bad
