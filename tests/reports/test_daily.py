"""Daily sales reports (WF-6): figures are the KPI report's and the orders the credited ones, checked
against the raw order rows by a separate route; a signed report keeps its signed copy and shows what
changed (a late refund, a late order); role access and tenancy; query count of the list pinned."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.services import person_create
from kefu.metrics.kpi import kpi_report
from kefu.orders.models import Order
from kefu.reports.daily import (
    FIGURES,
    daily_report_changes,
    daily_report_sign,
    daily_reports_generate,
    daily_reports_refresh,
)
from kefu.reports.enums import DailyState
from kefu.reports.models import DailyReport

from ..people.conftest import at, login
from ..people.test_pay import order, sell

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 9)


def after(shop, day=DAY, hours=2):
    """A moment after `day` has ended in the shop's time zone."""
    return at(shop, day + dt.timedelta(days=1), hours)


@pytest.fixture
def day_sales(shop, agent, colleague):
    return {
        "小美": [sell(shop, "店铺:小美", "b1", "o1", at(shop, DAY, 10), "120.00"),
                 sell(shop, "店铺:小美", "b2", "o2", at(shop, DAY, 23, 50), "80.50")],
        "阿强": [sell(shop, "店铺:阿强", "b3", "o3", at(shop, DAY, 0, 10), "300.00")],
        # the next shop day (00:05) and a silent order are nobody's report of DAY
        "next": [sell(shop, "店铺:小美", "b4", "o4", at(shop, DAY + dt.timedelta(days=1), 0, 5), "55.00")],
        "silent": [order(shop, "b5", "o5", at(shop, DAY, 11), "999.00")],
    }


def test_reports_carry_the_kpi_row_and_the_credited_orders(shop, agent, colleague, day_sales):
    assert daily_reports_generate(shop=shop, day=DAY, now=after(shop)) == 2
    reports = {r.agent.name: r for r in DailyReport.objects.filter(shop=shop, day=DAY).select_related("agent")}
    assert set(reports) == {"小美", "阿强"}
    kpi = {r["agent_id"]: r for r in kpi_report(shop=shop, date_from=DAY, date_to=DAY)["agents"]}
    for name, rows in (("小美", day_sales["小美"]), ("阿强", day_sales["阿强"])):
        r = reports[name]
        assert r.figures == {k: kpi[r.agent_id][k] for k in FIGURES}  # the one computation, not a second one
        # independent route: the raw Order rows paid on DAY in shop time that this test credited
        raw = Order.objects.filter(shop=shop, order_id__in=[x["oid"] for x in rows])
        assert sorted(o["order_no"] for o in r.orders) == sorted(raw.values_list("order_id", flat=True))
        assert all(o.paid_at.astimezone(shop.tz).date() == DAY for o in raw)
        assert Decimal(r.figures["sales"]) == sum(x["paid"] for x in rows) == sum(Decimal(o["paid"]) for o in r.orders)
        assert r.figures["orders"] == len(rows) and r.state == DailyState.PENDING
    assert {o["buyer"] for o in reports["小美"].orders} == {"b1", "b2"}


def test_not_before_the_shop_day_ends(shop, agent, day_sales):
    from kefu.core.errors import KefuError

    with pytest.raises(KefuError):
        daily_reports_generate(shop=shop, day=DAY, now=at(shop, DAY, 23, 59))


def test_signed_report_shows_a_late_refund_and_a_late_order_as_differences(shop, agent, day_sales):
    daily_reports_generate(shop=shop, day=DAY, now=after(shop))
    r = DailyReport.objects.get(shop=shop, agent=agent, day=DAY)
    daily_report_sign(shop=shop, report_id=r.id, by=agent, note="核对无误", now=after(shop, hours=9))
    signed = DailyReport.objects.get(pk=r.pk)
    assert signed.state == DailyState.SIGNED and signed.signed_figures == signed.figures and not signed.changed
    # a refresh that finds nothing new leaves it signed and unchanged (the stored copy compares equal)
    daily_reports_refresh(shop=shop, now=after(shop, DAY + dt.timedelta(days=1), 12))
    assert not DailyReport.objects.get(pk=r.pk).changed
    # Later: o1 refunded 20, and an order of DAY imported late (paid on DAY, credited to 小美).
    order(shop, "b1", "o1", at(shop, DAY, 10), "120.00", refund="20.00", refunded_at=at(shop, DAY + dt.timedelta(days=3), 9))
    sell(shop, "店铺:小美", "b6", "o6", at(shop, DAY, 15), "40.00")
    daily_reports_refresh(shop=shop, now=after(shop, DAY + dt.timedelta(days=3), 12))
    r = DailyReport.objects.get(pk=r.pk)
    assert r.changed and r.state == DailyState.SIGNED
    # the signed copy did not move
    assert r.signed_figures == signed.signed_figures and r.signed_orders == signed.signed_orders
    ch = daily_report_changes(r)
    keys = {c["key"]: c for c in ch["figures"]}
    assert Decimal(keys["refunds"]["now"]) - Decimal(keys["refunds"]["signed"]) == Decimal("20.00")
    assert Decimal(keys["sales"]["now"]) - Decimal(keys["sales"]["signed"]) == Decimal("40.00")
    assert [o["order_no"] for o in ch["added"]] == ["o6"] and ch["removed"] == []
    assert ch["changed"] == [{"order_no": "o1", "field": "refund", "signed": "0.00", "now": "20.00"}]
    # The agent acknowledges the new figures; signing an unchanged report again is refused (409 code).
    daily_report_sign(shop=shop, report_id=r.id, by=agent)
    r = DailyReport.objects.get(pk=r.pk)
    assert not r.changed and r.signed_figures == r.figures and daily_report_changes(r)["figures"] == []
    from kefu.core.errors import KefuError

    with pytest.raises(KefuError) as e:
        daily_report_sign(shop=shop, report_id=r.id, by=agent)
    assert e.value.code == "already_done"


def test_only_the_agent_signs_and_others_get_404(shop, other_shop, agent, colleague, supervisor, day_sales):
    daily_reports_generate(shop=shop, day=DAY, now=after(shop))
    mine = DailyReport.objects.get(shop=shop, agent=agent, day=DAY)
    url = f"/api/v1/daily-reports/{mine.id}"
    q = "?shop=s1"
    assert login(colleague).get(url + q).status_code == 404  # another agent
    assert login(colleague).post(url + "/sign" + q, "{}", content_type="application/json").status_code == 404
    assert login(supervisor).get(url + q).status_code == 200
    r = login(supervisor).post(url + "/sign" + q, "{}", content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "not_owner"
    stranger = person_create(shop=other_shop, name="外店经理", username="x-boss", password="pass-word-1",
                             roles=["manager"])
    assert login(stranger).get(url + "?shop=s1").status_code == 404
    assert login(stranger).get(f"/reports/daily/{mine.id}/").status_code == 404
    assert login(colleague).get(f"/reports/daily/{mine.id}/").status_code == 404
    r = login(agent).post(url + "/sign" + q, json.dumps({"note": "o2 是老客户"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "signed" and r.json()["note"] == "o2 是老客户"
    assert login(agent).post(url + "/sign" + q, "{}", content_type="application/json").status_code == 409
    # the agent's list holds their own report only
    rows = login(agent).get("/api/v1/daily-reports", {"day": DAY.isoformat(), "shop": "s1"}).json()
    assert [x["agent"] for x in rows] == ["小美"]


def test_supervisor_sees_who_has_not_signed(shop, agent, colleague, supervisor, day_sales):
    daily_reports_generate(shop=shop, day=DAY, now=after(shop))
    mine = DailyReport.objects.get(shop=shop, agent=agent, day=DAY)
    daily_report_sign(shop=shop, report_id=mine.id, by=agent)
    pending = login(supervisor).get("/api/v1/daily-reports", {"day": DAY.isoformat(), "state": "pending", "shop": "s1"}).json()
    assert [x["agent"] for x in pending] == ["阿强"]
    page = login(supervisor).get("/reports/daily/", {"day": DAY.isoformat(), "state": "pending"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "阿强" in body and ">小美<" not in body


def test_list_query_count_does_not_grow(shop, supervisor, django_assert_max_num_queries):
    names = [f"客服{i}" for i in range(6)]
    for i, n in enumerate(names):
        person_create(shop=shop, name=n, username=f"u{i}", password="pass-word-1", roles=["agent"],
                      platform_ids=[f"店铺:{n}"])
    sell(shop, "店铺:客服0", "b0", "q0", at(shop, DAY, 10), "10.00")
    daily_reports_generate(shop=shop, day=DAY, now=after(shop))
    c = login(supervisor)
    with CaptureQueriesContext(connection) as one:
        assert c.get("/reports/daily/", {"day": DAY.isoformat()}).status_code == 200
        assert c.get("/api/v1/daily-reports", {"day": DAY.isoformat(), "shop": "s1"}).status_code == 200
    for i, n in enumerate(names[1:], start=1):
        sell(shop, f"店铺:{n}", f"b{i}", f"q{i}", at(shop, DAY, 11), "10.00")
    daily_reports_generate(shop=shop, day=DAY, now=after(shop))
    assert DailyReport.objects.filter(shop=shop, day=DAY).count() == 6
    with django_assert_max_num_queries(len(one)):
        assert c.get("/reports/daily/", {"day": DAY.isoformat()}).status_code == 200
        assert c.get("/api/v1/daily-reports", {"day": DAY.isoformat(), "shop": "s1"}).status_code == 200


def test_pages_render_for_agent_and_supervisor(shop, agent, supervisor, day_sales):
    daily_reports_generate(shop=shop, day=DAY, now=after(shop))
    r = DailyReport.objects.get(shop=shop, agent=agent, day=DAY)
    own = login(agent).get("/reports/daily/", {"month": "2026-03"})
    assert own.status_code == 200 and f"/reports/daily/{r.id}/" in own.content.decode()
    detail = login(agent).get(f"/reports/daily/{r.id}/").content.decode()
    assert "o1" in detail and "¥120.00" in detail and 'name="note"' in detail
    resp = login(agent).post(f"/reports/daily/{r.id}/sign/", {"note": "好"})
    assert resp.status_code == 302
    assert DailyReport.objects.get(pk=r.pk).state == DailyState.SIGNED
    sup = login(supervisor).get(f"/reports/daily/{r.id}/").content.decode()
    assert 'name="note"' not in sup  # the supervisor reads, does not sign


def test_the_hourly_rule_makes_yesterdays_reports(shop, agent):
    from django.utils import timezone

    from kefu.core.scheduler import JOB_MODULES, jobs, tick
    from kefu.reports import tasks

    assert "kefu.reports.jobs" in JOB_MODULES and "reports.daily" in {j.name for j in jobs()}
    now = timezone.now()
    assert [t for t in tick(now) if t[0] == "reports.daily"]
    assert not [t for t in tick(now) if t[0] == "reports.daily"]
    yesterday = now.astimezone(shop.tz).date() - dt.timedelta(days=1)
    sell(shop, "店铺:小美", "b1", "y1", at(shop, yesterday, 12), "66.00")
    assert tasks.daily_reports_task.call(shop.id) == 1
    r = DailyReport.objects.get(shop=shop, agent=agent, day=yesterday)
    assert r.figures["sales"] == "66.00" and [o["order_no"] for o in r.orders] == ["y1"]
    from kefu.approvals.models import Notification

    assert Notification.objects.filter(shop=shop, recipient=agent, link=f"/reports/daily/{r.id}/").exists()


def test_the_agents_own_page_shows_reports_to_sign(shop, agent, day_sales):
    daily_reports_generate(shop=shop, day=DAY, now=after(shop))
    page = login(agent).get("/people/").content.decode()
    assert 'id="daily-to-sign"' in page and "1 份销售日报待签字" in page
    r = DailyReport.objects.get(shop=shop, agent=agent, day=DAY)
    daily_report_sign(shop=shop, report_id=r.id, by=agent)
    assert 'id="daily-to-sign"' not in login(agent).get("/people/").content.decode()


def test_generate_through_the_api(shop, agent, supervisor, day_sales):
    body = json.dumps({"day": DAY.isoformat()})
    r = login(agent).post("/api/v1/daily-reports/generate?shop=s1", body, content_type="application/json")
    assert r.status_code == 403
    r = login(supervisor).post("/api/v1/daily-reports/generate?shop=s1", body, content_type="application/json")
    assert r.status_code == 200 and r.json() == {"count": 2}
    from django.utils import timezone

    today = json.dumps({"day": timezone.now().astimezone(shop.tz).date().isoformat()})
    r = login(supervisor).post("/api/v1/daily-reports/generate?shop=s1", today, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_state"
    bad = login(supervisor).get("/api/v1/daily-reports", {"shop": "s1", "from": "2026-13-01", "to": "2026-03-09"})
    assert bad.status_code == 400 and bad.json()["field"] == "from"
