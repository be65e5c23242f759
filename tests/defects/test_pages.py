"""Pages: alert list (rule, scan), alert detail with opinions and actions, the report page; roles."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.defects import services
from kefu.defects.models import AlertRule, ProductionAlert

from .conftest import SH, login, open_case


def burst(shop, sku="DRESS-M", n=3):
    start = dt.datetime.now(SH) - dt.timedelta(days=1)
    for i in range(n):
        open_case(shop, start + dt.timedelta(hours=i), buyer=f"{sku}{i}", sku=sku, note="掉色，色差严重")
    return services.alerts_scan(shop=shop).raised


@pytest.mark.django_db
def test_list_and_nav_for_manager_supervisor_and_agent(shop, manager, supervisor, agent_person):
    burst(shop)
    r = login(manager).get("/defects/")
    html = r.content.decode()
    assert r.status_code == 200 and "DRESS-M" in html and 'id="rule-form"' in html and 'href="/defects/"' in html
    r = login(supervisor).get("/defects/")
    html = r.content.decode()
    assert r.status_code == 200 and "DRESS-M" in html and 'id="rule-form"' not in html
    ac = login(agent_person)
    assert ac.get("/defects/").status_code == 404
    assert ac.get("/defects/report/").status_code == 404
    assert 'href="/defects/"' not in ac.get("/followups/").content.decode()
    alert = ProductionAlert.objects.get()
    assert ac.get(f"/defects/{alert.pk}/").status_code == 404


@pytest.mark.django_db
def test_detail_shows_cases_opinions_and_acts_with_htmx(shop, manager, supervisor):
    [alert] = burst(shop)
    mc = login(manager)
    html = mc.get(f"/defects/{alert.pk}/").content.decode()
    assert 'data-aspect="colour"' in html and "掉色" in html and 'id="act-form"' in html
    assert 'id="act-form"' not in login(supervisor).get(f"/defects/{alert.pk}/").content.decode()
    r = mc.post(f"/defects/{alert.pk}/act/", {"action": "acknowledge", "note": ""}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'role="alert"' in r.content.decode()
    r = mc.post(f"/defects/{alert.pk}/act/", {"action": "acknowledge", "note": "已通知工厂"}, HTTP_HX_REQUEST="true")
    assert 'data-state="acknowledged"' in r.content.decode() and "已通知工厂" in r.content.decode()
    r = login(supervisor).post(f"/defects/{alert.pk}/act/", {"action": "close"}, HTTP_HX_REQUEST="true")
    assert "role=\"alert\"" in r.content.decode()
    alert.refresh_from_db()
    assert alert.state == "acknowledged"
    r = mc.post(f"/defects/{alert.pk}/act/", {"action": "close"})
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.state == "closed"


@pytest.mark.django_db
def test_rule_form_and_scan_button(shop, manager, supervisor):
    mc = login(manager)
    r = mc.post("/defects/rule/", {"reasons": ["quality"], "threshold": "2", "window_days": "3"})
    assert r.status_code == 302
    rule = AlertRule.objects.get(shop=shop)
    assert (rule.reasons, rule.threshold, rule.window_days) == (["quality"], 2, 3)
    r = mc.post("/defects/rule/", {"reasons": ["quality"], "threshold": "x", "window_days": "3"}, follow=True)
    assert "阈值须为" in r.content.decode()
    assert login(supervisor).post("/defects/rule/", {"reasons": ["quality"], "threshold": "5",
                                                     "window_days": "3"}, follow=True).status_code == 200
    assert AlertRule.objects.get(shop=shop).threshold == 2
    now = dt.datetime.now(SH)
    open_case(shop, now - dt.timedelta(hours=2), buyer="b1")
    open_case(shop, now - dt.timedelta(hours=1), buyer="b2")
    assert login(supervisor).post("/defects/scan/").status_code == 404
    r = mc.post("/defects/scan/")
    assert r.status_code == 302 and "scanned=1" in r["Location"]
    assert ProductionAlert.objects.count() == 1


@pytest.mark.django_db
def test_report_page_filters_charts_and_bad_input(shop, manager):
    now = dt.datetime.now(SH)
    open_case(shop, now - dt.timedelta(hours=2), buyer="b1", sku="SKU-Q", responsible="supplier")
    open_case(shop, now - dt.timedelta(hours=1), buyer="b2", sku="SKU-W", reason="wrong_item",
              responsible="warehouse")
    mc = login(manager)
    html = mc.get("/defects/report/").content.decode()
    assert "SKU-Q" in html and "SKU-W" in html and 'id="report-chart"' in html and "plotly-" in html
    html = mc.get("/defects/report/?responsible=warehouse").content.decode()
    assert "SKU-W" in html and "SKU-Q" not in html
    r = mc.get("/defects/report/?from=2026-13-01")
    assert r.status_code == 400 and "from" in r.content.decode()
    r = mc.get("/defects/report/?group_by=year&export=xlsx")
    assert r.status_code == 400  # no export of a bad query


@pytest.mark.django_db
def test_list_page_query_count_is_flat(shop, manager):
    mc = login(manager)
    burst(shop, sku="A")
    mc.get("/defects/")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert mc.get("/defects/").status_code == 200
        return len(ctx.captured_queries)

    one = count()
    burst(shop, sku="B")
    burst(shop, sku="C")
    assert count() == one
