"""Churn watch (CRM-5): each cause raises a flag with its reason and clearing the cause clears it."""

import datetime as dt

import pytest
from django.utils import timezone

from kefu.aftersales.services import case_open, case_transition
from kefu.care.churn import churn_scan
from kefu.care.models import ChurnFlag
from kefu.complaints.reviews import reviews_clean, reviews_ingest
from kefu.complaints.services import complaint_act, complaint_create
from kefu.customers.models import Customer
from kefu.orders.models import Order
from tests.web.data import DAY, chat, order

from .conftest import login

pytestmark = pytest.mark.django_db


def open_reasons(shop, buyer_id) -> set[str]:
    return set(ChurnFlag.objects.filter(shop=shop, customer__buyer_id=buyer_id, cleared_at__isnull=True)
               .values_list("reason", flat=True))


def test_an_unresolved_complaint(shop, team):
    buyer = Customer.objects.create(shop=shop, buyer_id="c1")
    c = complaint_create(shop=shop, source="buyer", category="product", summary="瓶子漏了", actor=team["mei"],
                         customer=buyer)
    assert churn_scan(shop=shop) == (1, 0) and open_reasons(shop, "c1") == {"complaint"}
    assert churn_scan(shop=shop) == (0, 0)  # nothing new
    complaint_act(shop=shop, complaint_id=c.pk, action="dismiss", actor=team["mei"], note="买家撤回")
    assert churn_scan(shop=shop) == (0, 1) and open_reasons(shop, "c1") == set()
    assert ChurnFlag.objects.get(customer=buyer).cleared_at is not None


def test_an_unresolved_case(shop, team):
    chat(shop, agent=team["mei"], buyer="c2", day=DAY)
    order(shop, order_id="o2", buyer="c2", day=DAY)
    case = case_open(shop=shop, actor_agent=team["mei"], type="return_refund", reason="quality",
                     order=Order.objects.get(order_id="o2"))
    churn_scan(shop=shop)
    assert open_reasons(shop, "c2") == {"case"}
    case_transition(shop=shop, case=case, to="waiting_buyer", actor_agent=team["mei"], expected_version=case.version)
    churn_scan(shop=shop)
    assert open_reasons(shop, "c2") == {"case"}  # waiting for the buyer is still unresolved
    case.refresh_from_db()
    case_transition(shop=shop, case=case, to="closed", actor_agent=team["mei"], expected_version=case.version)
    churn_scan(shop=shop)
    assert open_reasons(shop, "c2") == set()


def test_a_bad_review_until_revised_or_old(shop, team):
    now = timezone.now()
    rows = [{"review_id": "r1", "buyer_id": "c3", "rating": 1, "text": "质量差", "created_at": now.isoformat()},
            {"review_id": "r2", "buyer_id": "c4", "rating": 3, "text": "一般",
             "created_at": (now - dt.timedelta(days=10)).isoformat()},
            {"review_id": "r3", "buyer_id": "c5", "rating": 5, "created_at": now.isoformat()}]
    reviews_ingest(shop=shop, rows=reviews_clean(rows, tz=shop.tz))
    churn_scan(shop=shop)
    assert open_reasons(shop, "c3") == {"review"} and open_reasons(shop, "c4") == {"review"}
    assert open_reasons(shop, "c5") == set()
    # c3 revises to good (the re-import closes the task as revised); c4's falls out of the watch window.
    reviews_ingest(shop=shop, rows=reviews_clean([{**rows[0], "rating": 5}], tz=shop.tz))
    from kefu.care.services import care_settings_update

    care_settings_update(shop=shop, actor=None, review_watch_days=7)
    assert churn_scan(shop=shop) == (0, 2)
    assert open_reasons(shop, "c3") == open_reasons(shop, "c4") == set()


def test_a_repeat_buyer_silent_past_their_interval(shop, team):
    today = timezone.now().astimezone(shop.tz).date()
    for i, days_ago in enumerate((100, 90, 80)):  # every 10 days, then 80 days of silence
        order(shop, order_id=f"s{i}", buyer="c6", day=today - dt.timedelta(days=days_ago))
    order(shop, order_id="one", buyer="c7", day=today - dt.timedelta(days=200))  # bought once: not a repeat buyer
    churn_scan(shop=shop)
    flag = ChurnFlag.objects.get(customer__buyer_id="c6", cleared_at__isnull=True)
    assert flag.reason == "silent" and "通常 10 天复购" in flag.detail and open_reasons(shop, "c7") == set()
    order(shop, order_id="back", buyer="c6", day=today)
    churn_scan(shop=shop)
    assert open_reasons(shop, "c6") == set()
    # Silence shorter than the minimum (30 days) is not a risk even for a frequent buyer.
    for i, days_ago in enumerate((25, 23, 21)):
        order(shop, order_id=f"f{i}", buyer="c8", day=today - dt.timedelta(days=days_ago))
    churn_scan(shop=shop)
    assert open_reasons(shop, "c8") == set()


def test_the_list_for_the_care_owner(shop, team, manager):
    buyer = Customer.objects.create(shop=shop, buyer_id="c9", nick="九号")
    complaint_create(shop=shop, source="buyer", category="product", summary="包装破了", actor=team["mei"],
                     customer=buyer)
    c = login(team["owner"])
    assert c.post("/care/at-risk/").status_code == 302
    page = c.get("/care/at-risk/").content.decode()
    assert "九号" in page and "投诉未解决" in page
    data = c.get("/api/v1/churn/at-risk?shop=s1").json()
    assert data[0]["buyer_id"] == "c9" and data[0]["flags"][0]["reason"] == "complaint"
    assert login(team["mei"]).get("/care/at-risk/").status_code == 404
    assert login(team["mei"]).get("/api/v1/churn/at-risk?shop=s1").status_code == 403
    # The buyer list filter and the 360 show it too.
    assert [x["buyer_id"] for x in login(manager).get("/api/v1/customers?shop=s1&at_risk=true").json()] == ["c9"]
    assert "投诉未解决" in login(manager).get(f"/customers/{buyer.pk}/").content.decode()
