"""The pages: the daily list grouped by kind (role-aware, flat query count), htmx resolve, SKU stock page."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.catalog.models import Sku
from kefu.core.services import person_create
from kefu.shipping.models import ShippingIssue, ShippingSettings
from kefu.shipping.services import shipping_audit_run

from .conftest import login, order, sku

H = dt.timedelta(hours=1)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def listed(shop, customer, now):
    sku(shop, "A", stock=0)
    order(shop, customer, "late1", paid_at=now - 30 * H)
    order(shop, customer, "hard1", paid_at=now - 50 * H)
    order(shop, customer, "oos1", paid_at=now - H, items=[("A", 1)])
    shipping_audit_run(shop=shop, now=now)
    return {i.kind: i for i in ShippingIssue.objects.filter(shop=shop)}


def _get(client, url):
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200
    return r, len(ctx.captured_queries)


@pytest.mark.django_db
def test_list_grouped_with_hard_limit_highlighted_and_flat_queries(shop, customer, listed, agent_person, now):
    c = login(agent_person)
    r, n = _get(c, "/shipping/")
    html = r.content.decode()
    for kind in ("overdue_hard", "late", "out_of_stock", "oversold", "after_care"):
        assert f'id="kind-{kind}"' in html
    assert f'id="issue-{listed["overdue_hard"].pk}" data-state="open" data-kind="overdue_hard" class="hard"' in html
    assert 'class="hard"' not in html.split(f'id="issue-{listed["late"].pk}"')[1].split(">")[0]
    assert "138****5678" in html and "13812345678" not in html  # agents see the phone masked
    assert 'id="shipping-settings"' not in html
    for i in range(10):
        order(shop, customer, f"more{i}", paid_at=now - 31 * H, items=[("A", 1)])
    shipping_audit_run(shop=shop, now=now)
    r, n2 = _get(c, "/shipping/")
    assert r.content.decode().count('data-kind="late"') == 11
    assert n2 == n


@pytest.mark.django_db
def test_filters_by_kind_and_day(shop, listed, manager_client):
    html = manager_client.get("/shipping/?kind=late").content.decode()
    assert 'id="kind-late"' in html and 'id="kind-oversold"' not in html
    html = manager_client.get("/shipping/?day=2001-01-01").content.decode()
    assert 'data-kind=' not in html
    assert manager_client.get("/shipping/?day=nonsense").status_code == 400
    html = manager_client.get("/shipping/").content.decode()
    assert 'id="shipping-settings"' in html and "13812345678" in html


@pytest.mark.django_db
def test_warehouse_sees_late_ones(shop, listed, warehouse):
    html = login(warehouse).get("/shipping/").content.decode()
    assert 'id="kind-late"' in html and 'id="kind-overdue_hard"' in html
    assert 'id="kind-out_of_stock"' not in html and "oos1" not in html
    assert 'value="shipped"' in html and 'value="buyer_refund"' not in html


@pytest.mark.django_db
def test_people_of_other_roles_have_no_list(shop, listed):
    admin_only = person_create(shop=shop, name="外包", username="x", password="pass-word-1", roles=["admin"], group="")
    assert login(admin_only).get("/shipping/").status_code == 200


@pytest.mark.django_db
def test_htmx_resolve_requires_an_action(shop, listed, agent_person):
    c = login(agent_person)
    url = f"/shipping/issues/{listed['late'].pk}/resolve/"
    r = c.post(url, {"action": "", "note": ""}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'role="alert"' in r.content.decode()
    assert ShippingIssue.objects.get(pk=listed["late"].pk).state == "open"
    r = c.post(url, {"action": "buyer_wait", "note": "买家同意等两天"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert 'data-state="resolved"' in html and "小美" in html and "买家同意等两天" in html
    issue = ShippingIssue.objects.get(pk=listed["late"].pk)
    assert issue.resolution == "buyer_wait" and issue.resolved_by == agent_person


@pytest.mark.django_db
def test_other_shop_issue_page_404(shop, other_shop, listed):
    stranger = person_create(shop=other_shop, name="别人", username="o", password="pass-word-1", roles=["manager"],
                             group="")
    r = login(stranger).post(f"/shipping/issues/{listed['late'].pk}/resolve/", {"action": "shipped"})
    assert r.status_code == 404


@pytest.mark.django_db
def test_recompute_and_settings_form(shop, customer, manager_client, now):
    order(shop, customer, "x", paid_at=now - 25 * H)
    r = manager_client.post("/shipping/recompute/")
    assert r.status_code == 302 and ShippingIssue.objects.filter(kind="late").count() == 1
    manager_client.post("/shipping/recompute/")
    assert ShippingIssue.objects.count() == 1
    manager_client.post("/shipping/settings/", {"promise_hours": "12", "hard_limit_hours": "30", "audit_hour": "8",
                                                "auto_delist": "1"})
    s = ShippingSettings.objects.get(shop=shop)
    assert (s.promise_hours, s.hard_limit_hours, s.audit_hour, s.auto_delist) == (12, 30, 8, True)
    manager_client.post("/shipping/settings/", {"promise_hours": "40", "hard_limit_hours": "30"})
    assert ShippingSettings.objects.get(shop=shop).promise_hours == 12


@pytest.mark.django_db
def test_sku_page_delist_stock_and_flat_queries(shop, customer, manager_client, now):
    for i in range(3):
        sku(shop, f"S{i}", stock=1, rating="4.0")
    order(shop, customer, "o", paid_at=now - H, items=[("S0", 2)])
    r, n = _get(manager_client, "/shipping/skus/")
    html = r.content.decode()
    assert 'class="oversold"' in html
    for i in range(3, 13):
        sku(shop, f"S{i}", stock=5, category="被子", rating="3.0")
    _, n2 = _get(manager_client, "/shipping/skus/")
    assert n2 == n
    r = manager_client.post("/shipping/skus/S0/", {"op": "delist"}, HTTP_HX_REQUEST="true")
    assert "已下架" in r.content.decode() and not Sku.objects.get(code="S0").listed
    r = manager_client.post("/shipping/skus/S1/", {"op": "stock", "quantity": "-3"}, HTTP_HX_REQUEST="true")
    assert 'role="alert"' in r.content.decode() and Sku.objects.get(code="S1").stock == 1
    manager_client.post("/shipping/skus/S1/", {"op": "stock", "quantity": "7"}, HTTP_HX_REQUEST="true")
    assert Sku.objects.get(code="S1").stock == 7
    html = manager_client.get("/shipping/skus/?only=listed_short").content.decode()
    assert "S0" not in html  # delisted already
    assert manager_client.post("/shipping/skus/NOPE/", {"op": "delist"}).status_code == 404


@pytest.mark.django_db
def test_agent_cannot_set_stock(shop, agent_person):
    sku(shop, "A", stock=1)
    c = login(agent_person)
    html = c.get("/shipping/skus/").content.decode()
    assert 'name="quantity"' not in html and "下架" in html
    c.post("/shipping/skus/A/", {"op": "stock", "quantity": "9"})
    assert Sku.objects.get(code="A").stock == 1


@pytest.mark.django_db
def test_ratings_upload(shop, manager_client):
    sku(shop, "A")
    sku(shop, "B")
    bad = SimpleUploadedFile("r.csv", b"sku,rating\nA,4.5\nB,7\n", content_type="text/csv")
    r = manager_client.post("/shipping/skus/ratings/", {"file": bad}, follow=True)
    assert "第 3 行" in r.content.decode() and Sku.objects.get(code="A").rating is None
    good = SimpleUploadedFile("r.csv", b"sku,rating\nA,4.5\nB,4.7\n", content_type="text/csv")
    manager_client.post("/shipping/skus/ratings/", {"file": good})
    assert str(Sku.objects.get(code="B").rating) == "4.70"
