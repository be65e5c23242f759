"""PRE-9 grading: the rules against an independent plain-loop recomputation, manual grades win and
are audited, the nightly rule, the API and the supervisors' page."""

import datetime as dt
import json
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.models import AuditLog, SchedulerRun
from kefu.core.scheduler import tick
from kefu.crm.models import CustomerGrade, GradeRule
from kefu.crm.services import grade_override_set, grade_rules_set, grades_recompute
from kefu.customers.models import Customer
from kefu.orders.models import Order

from .conftest import login

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
STATUSES = ["unpaid", "paid", "shipped", "completed", "closed", "refunding", "refunded"]


def make_orders(shop, n_buyers=25, seed=7):
    rng = random.Random(seed)
    buyers = [Customer.objects.create(shop=shop, buyer_id=f"b{i:02d}", nick=f"买家{i}") for i in range(n_buyers)]
    rows = []
    k = 0
    for b in buyers:
        for _ in range(rng.randint(0, 8)):
            k += 1
            status = rng.choice(STATUSES)
            created = NOW - dt.timedelta(days=rng.randint(0, 500), hours=rng.randint(0, 23))
            paid = None if status in ("unpaid", "closed") else created + dt.timedelta(minutes=5)
            amount = Decimal(rng.choice(["39.90", "199.00", "459.00", "899.00", "1299.00"]))
            refund = amount if status == "refunded" else (Decimal("50.00") if rng.random() < 0.2 and paid else Decimal("0"))
            rows.append(Order(shop=shop, order_id=f"o{k}", customer=b, status=status, total_amount=amount,
                              paid_amount=amount if paid else 0, refund_amount=refund, created_at=created,
                              paid_at=paid))
    # Edge: exactly on the window border, and a paid order in the future of NOW (not counted yet).
    rows.append(Order(shop=shop, order_id="edge1", customer=buyers[0], status="paid", total_amount=Decimal("2000"),
                      paid_amount=Decimal("2000"), created_at=NOW - dt.timedelta(days=365),
                      paid_at=NOW - dt.timedelta(days=365)))
    rows.append(Order(shop=shop, order_id="future", customer=buyers[1], status="paid", total_amount=Decimal("5000"),
                      paid_amount=Decimal("5000"), created_at=NOW + dt.timedelta(hours=1),
                      paid_at=NOW + dt.timedelta(hours=1)))
    Order.objects.bulk_create(rows)
    return buyers


def oracle(shop, rules: list[dict], now):
    """Plain loops over every order: the first rule whose conditions hold gives the grade."""
    out = {}
    orders = list(Order.objects.filter(shop=shop).values())
    for c in Customer.objects.filter(shop=shop):
        grade = ""
        for r in rules:
            spend, n = Decimal("0"), 0
            for o in orders:
                if o["customer_id"] != c.pk or o["paid_at"] is None or o["status"] == "refunded":
                    continue
                if now - dt.timedelta(days=r["window_days"]) < o["paid_at"] <= now:
                    spend += o["paid_amount"] - o["refund_amount"]
                    n += 1
            conds = []
            if r["min_spend"] is not None:
                conds.append(spend >= Decimal(str(r["min_spend"])))
            if r["min_orders"] is not None:
                conds.append(n >= r["min_orders"])
            ok = True if not conds else (any(conds) if r["match"] == "any" else all(conds))
            if ok:
                grade = r["grade"]
                break
        out[c.buyer_id] = grade
    return out


DEFAULTS = [
    {"grade": "VIP", "min_spend": "2000", "min_orders": 5, "match": "any", "window_days": 365},
    {"grade": "A", "min_spend": "500", "min_orders": 2, "match": "any", "window_days": 365},
    {"grade": "B", "min_spend": None, "min_orders": 1, "match": "any", "window_days": 365},
    {"grade": "C", "min_spend": None, "min_orders": None, "match": "any", "window_days": 365},
]
CUSTOM = [
    {"grade": "钻石", "min_spend": "3000", "min_orders": 3, "match": "all", "window_days": 180},
    {"grade": "金", "min_spend": "1000", "min_orders": None, "match": "any", "window_days": 365},
    {"grade": "银", "min_spend": None, "min_orders": 2, "match": "any", "window_days": 90},
]


def grades_now(shop):
    return dict(CustomerGrade.objects.filter(shop=shop).values_list("customer__buyer_id", "grade"))


def test_default_rules_match_the_oracle(shop):
    make_orders(shop)
    grades_recompute(shop=shop, now=NOW)
    assert grades_now(shop) == oracle(shop, DEFAULTS, NOW)
    assert set(grades_now(shop).values()) >= {"VIP", "C"}
    g = CustomerGrade.objects.get(shop=shop, customer__buyer_id="b00")
    assert g.spend == sum((o.paid_amount - o.refund_amount for o in Order.objects.filter(
        customer__buyer_id="b00", paid_at__gt=NOW - dt.timedelta(days=365), paid_at__lte=NOW).exclude(
        status="refunded")), Decimal("0"))


def test_custom_rules_with_windows_and_all_match_the_oracle(shop, supervisor):
    make_orders(shop, seed=11)
    grade_rules_set(shop=shop, rules=CUSTOM, actor=supervisor)
    grades_recompute(shop=shop, now=NOW)
    expected = oracle(shop, CUSTOM, NOW)
    assert grades_now(shop) == expected
    assert "" in expected.values()  # no catch-all: some buyers stay ungraded
    assert AuditLog.objects.filter(action="grade.rules").count() == 1


def test_recompute_after_new_orders_changes_only_what_changed(shop):
    buyers = make_orders(shop, n_buyers=5)
    grades_recompute(shop=shop, now=NOW)
    assert grades_recompute(shop=shop, now=NOW) == 0
    Order.objects.create(shop=shop, order_id="big", customer=buyers[4], status="paid", total_amount=Decimal("9999"),
                         paid_amount=Decimal("9999"), created_at=NOW - dt.timedelta(hours=2),
                         paid_at=NOW - dt.timedelta(hours=1))
    assert grades_recompute(shop=shop, now=NOW) == 1
    assert grades_now(shop)["b04"] == "VIP"


def test_override_wins_over_rules_and_is_audited(shop, supervisor, agent_person):
    make_orders(shop, n_buyers=4)
    grades_recompute(shop=shop, now=NOW)
    c = Customer.objects.get(shop=shop, buyer_id="b03")
    computed = CustomerGrade.objects.get(customer=c).computed
    g = grade_override_set(shop=shop, customer=c, grade="VIP", reason="老客户介绍朋友", actor=agent_person)
    assert g.grade == "VIP" and g.override == "VIP" and g.computed == computed
    grades_recompute(shop=shop, now=NOW)
    assert CustomerGrade.objects.get(customer=c).grade == "VIP"  # recomputation keeps the manual grade
    log = AuditLog.objects.get(action="customer.grade")
    assert log.after == {"grade": "VIP", "override": "VIP", "reason": "老客户介绍朋友"}
    assert log.actor == agent_person.user and log.before["override"] == ""
    g = grade_override_set(shop=shop, customer=c, grade="", reason="", actor=supervisor)
    assert g.grade == computed and g.override == ""
    assert AuditLog.objects.filter(action="customer.grade").count() == 2


def test_override_bad_input(shop, agent_person):
    c = Customer.objects.create(shop=shop, buyer_id="x1")
    from kefu.core.errors import KefuError

    with pytest.raises(KefuError) as e:
        grade_override_set(shop=shop, customer=c, grade="SVIP", reason="r", actor=agent_person)
    assert e.value.code == "unknown_grade" and e.value.field == "grade"
    with pytest.raises(KefuError) as e:
        grade_override_set(shop=shop, customer=c, grade="A", reason="  ", actor=agent_person)
    assert e.value.code == "reason_required" and e.value.field == "reason"


@pytest.mark.parametrize("rules,field", [
    ([], "rules"),
    ([{"grade": ""}], "rules.0.grade"),
    ([{"grade": "A"}, {"grade": "A"}], "rules.1.grade"),
    ([{"grade": "A", "min_spend": "abc"}], "rules.0.min_spend"),
    ([{"grade": "A", "min_orders": -1}], "rules.0.min_orders"),
    ([{"grade": "A", "window_days": 0}], "rules.0.window_days"),
    ([{"grade": "A", "match": "some"}], "rules.0.match"),
])
def test_bad_rules_are_refused(shop, supervisor, rules, field):
    from kefu.core.errors import KefuError

    with pytest.raises(KefuError) as e:
        grade_rules_set(shop=shop, rules=rules, actor=supervisor)
    assert e.value.field == field


def test_agent_cannot_change_rules(shop, agent_person):
    from kefu.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        grade_rules_set(shop=shop, rules=DEFAULTS, actor=agent_person)


def test_nightly_rule_fires_once_per_shop_day(shop, monkeypatch):
    from kefu.crm import jobs

    early = dt.datetime(2026, 11, 20, 18, 30, tzinfo=dt.UTC)  # 02:30 in Shanghai
    assert jobs._nightly(shop, early) is None
    late = dt.datetime(2026, 11, 20, 19, 5, tzinfo=dt.UTC)  # 03:05 in Shanghai
    assert jobs._nightly(shop, late) == "2026-11-21"
    with_ticks = [r for r in tick(now=late) if r[0] == "crm.grades_nightly"]
    assert [r[2] for r in with_ticks if r[1] == shop.code] == ["2026-11-21"]
    assert not [r for r in tick(now=late + dt.timedelta(hours=2)) if r[0] == "crm.grades_nightly"]
    assert SchedulerRun.objects.filter(job="crm.grades_nightly", shop=shop).count() == 1


def test_task_recomputes(shop):
    from kefu.crm.tasks import grades_recompute_task

    make_orders(shop, n_buyers=3)
    grades_recompute_task.call(shop.pk)
    assert CustomerGrade.objects.filter(shop=shop).count() == 3


# ---------------------------------------------------------------- API and page

def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_grades_api(api, shop, agent_person):
    make_orders(shop, n_buyers=6)
    assert post(api, "/api/v1/grades/recompute", {}).status_code == 200
    r = api.get("/api/v1/customers/grades?grade=VIP")
    assert r.status_code == 200 and all(g["grade"] == "VIP" for g in r.json())
    rows = api.get("/api/v1/customers/grades").json()
    assert [g["spend"] for g in rows] == sorted([g["spend"] for g in rows], key=Decimal, reverse=True)
    r = post(api, "/api/v1/customers/b02/grade", {"grade": "A", "reason": "主管确认"})
    assert r.status_code == 200 and r.json()["grade"] == "A" and r.json()["override"] == "A"
    assert post(api, "/api/v1/customers/b02/grade", {"grade": "Z", "reason": "x"}).status_code == 400
    assert post(api, "/api/v1/customers/nobody/grade", {"grade": "A", "reason": "x"}).status_code == 404
    # agents may grade a buyer but not read the whole graded list
    c = login(agent_person)
    assert c.get("/api/v1/customers/grades?shop=s1").status_code == 403
    assert post(c, "/api/v1/customers/b03/grade?shop=s1", {"grade": "B", "reason": "聊天中确认"}).status_code == 200
    assert post(c, "/api/v1/grades/recompute?shop=s1", {}).status_code == 403
    assert post(c, "/api/v1/grade-rules?shop=s1", {"rules": DEFAULTS}).status_code == 403
    r = post(api, "/api/v1/grade-rules", {"rules": [{"grade": "VIP", "min_orders": 1}, {"grade": "C"}]})
    assert r.status_code == 200 and [x["grade"] for x in r.json()] == ["VIP", "C"]
    assert post(api, "/api/v1/grade-rules", {"rules": [{"grade": "A", "window_days": 0}]}).status_code == 422


def test_graded_list_page_and_query_counts(shop, supervisor, agent_person):
    make_orders(shop, n_buyers=5)
    grades_recompute(shop=shop)
    c = login(supervisor)
    with CaptureQueriesContext(connection) as few:
        r = c.get("/crm/grades/")
    assert r.status_code == 200 and 'id="graded"' in r.content.decode()
    for i in range(30):
        Customer.objects.create(shop=shop, buyer_id=f"z{i}")
    grades_recompute(shop=shop)
    with CaptureQueriesContext(connection) as many:
        r = c.get("/crm/grades/")
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as api_few:
        c.get("/api/v1/customers/grades?shop=s1&limit=5")
    with CaptureQueriesContext(connection) as api_many:
        c.get("/api/v1/customers/grades?shop=s1&limit=500")
    assert len(api_few) == len(api_many)
    r = c.get("/crm/grades/?grade=C")
    assert all(g.grade == "C" for g in r.context["rows"])
    r = c.post("/crm/grades/rules/", {"grade": ["VIP", "B", ""], "min_spend": ["100", "", ""],
                                       "min_orders": ["", "1", ""], "match": ["any", "any", "any"],
                                       "window_days": ["365", "365", "365"]})
    assert r.status_code == 302 and list(GradeRule.objects.filter(shop=shop).values_list("grade", flat=True)) == ["VIP", "B"]
    r = c.post("/crm/grades/rules/", {"grade": ["VIP"], "min_spend": ["abc"], "min_orders": [""], "match": ["any"],
                                       "window_days": ["365"]})
    assert "min_spend" in c.get("/crm/grades/").content.decode()
    # agents: no graded list
    assert login(agent_person).get("/crm/grades/").status_code == 404


def test_grade_set_page_htmx(shop, agent_person):
    cust = Customer.objects.create(shop=shop, buyer_id="p1")
    grades_recompute(shop=shop)
    c = login(agent_person)
    r = c.post(f"/crm/grades/{cust.pk}/set/", {"grade": "VIP", "reason": ""}, HTTP_HX_REQUEST="true")
    assert "请填写调整原因" in r.content.decode()
    r = c.post(f"/crm/grades/{cust.pk}/set/", {"grade": "VIP", "reason": "大客户"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'data-grade="VIP"' in r.content.decode()
    assert c.post("/crm/grades/999999/set/", {"grade": "A", "reason": "x"}).status_code == 404


def test_other_shops_buyer_is_404_on_the_page(shop, other_shop):
    from kefu.core.services import person_create

    cust = Customer.objects.create(shop=other_shop, buyer_id="o1")
    p = person_create(shop=shop, name="主管", username="sup9", password="pass-word-1", roles=["supervisor"])
    assert login(p).post(f"/crm/grades/{cust.pk}/set/", {"grade": "A", "reason": "x"}).status_code == 404
