"""Reports up (WF-8): the department report's figures recomputed from raw rows by separate routes (this
week and the week before, complaints, cases, deductions, commissions), delivered once (notification and
e-mail), the supervisor's problems and measures, XLSX and print view, role access; the agent's monthly
report written, submitted and answered."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core import mail
from openpyxl import load_workbook

from kefu.aftersales.models import Case
from kefu.aftersales.services import case_open
from kefu.approvals.models import Notification
from kefu.complaints.models import Complaint
from kefu.complaints.services import complaint_create
from kefu.core.services import person_create
from kefu.orders.models import Order
from kefu.people.enums import DeductionStatus
from kefu.people.ledger import deduction_add
from kefu.people.models import CommissionStatement, PenaltyDeduction
from kefu.people.pay import commission_plan_set, commission_recompute
from kefu.reports.dept import agent_month_reports_prepare, dept_report_generate, dept_reports_due
from kefu.reports.models import AgentMonthReport, DeptReport

from ..people.conftest import at, login
from ..people.test_pay import sell

pytestmark = pytest.mark.django_db
WEEK = dt.date(2026, 3, 9)  # a Monday
PREV = WEEK - dt.timedelta(days=7)


@pytest.fixture
def manager(shop):
    p = person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"])
    p.user.email = "gm@example.com"
    p.user.save()
    return p


@pytest.fixture
def world(shop, agent, colleague, supervisor, manager):
    orders = []
    for i, (who, day, amount) in enumerate([("小美", WEEK, "100.00"), ("小美", WEEK + dt.timedelta(days=6), "250.50"),
                                            ("阿强", WEEK + dt.timedelta(days=2), "80.00"), ("小美", PREV, "40.00"),
                                            ("阿强", PREV + dt.timedelta(days=3), "60.00"),
                                            ("阿强", WEEK + dt.timedelta(days=7), "999.00")]):  # next Monday
        orders.append(sell(shop, f"店铺:{who}", f"b{i}", f"w{i}", at(shop, day, 11), amount))
    c1 = complaint_create(shop=shop, source="buyer", category="attitude", summary="态度差", actor=supervisor,
                          against=agent, order=Order.objects.get(shop=shop, order_id="w0"), now=at(shop, WEEK + dt.timedelta(days=1), 10))
    c2 = complaint_create(shop=shop, source="buyer", category="shipping", summary="发货慢", actor=supervisor,
                          order=Order.objects.get(shop=shop, order_id="w3"), now=at(shop, PREV + dt.timedelta(days=1), 10))
    Complaint.objects.filter(pk=c1.pk).update(created_at=at(shop, WEEK + dt.timedelta(days=1), 10))
    Complaint.objects.filter(pk=c2.pk).update(created_at=at(shop, PREV + dt.timedelta(days=1), 10))
    case = case_open(shop=shop, actor_agent=supervisor, type="refund_only", reason="quality")
    Case.objects.filter(pk=case.pk).update(created_at=at(shop, WEEK + dt.timedelta(days=3), 23, 30))
    deduction_add(shop=shop, agent=colleague, rule_code="unfinished_work", points="0.5",
                  day=WEEK + dt.timedelta(days=4), reason="日报未交", by=supervisor, now=at(shop, WEEK + dt.timedelta(days=5), 12))
    commission_plan_set(shop=shop, by=manager, tiers=[["0", "2"]])
    commission_recompute(shop=shop, month=dt.date(2026, 3, 1), now=at(shop, dt.date(2026, 3, 20), 12))
    return orders


def _local_day(moment, shop):
    return moment.astimezone(shop.tz).date()


def test_department_week_matches_the_raw_rows(shop, world, supervisor, manager):
    r = dept_report_generate(shop=shop, period="week", start=WEEK + dt.timedelta(days=3),
                             now=at(shop, WEEK + dt.timedelta(days=8), 9))
    assert (r.start, r.end) == (WEEK, WEEK + dt.timedelta(days=6))
    kpi = {k["key"]: k for k in r.data["kpi"]}

    def paid_in(lo, hi):  # an independent route: raw Order rows of this test, paid in [lo, hi] shop days
        total = Decimal(0)
        for o in Order.objects.filter(shop=shop, order_id__startswith="w"):
            if lo <= _local_day(o.paid_at, shop) <= hi:
                total += o.paid_amount
        return total

    now_sales, prev_sales = paid_in(WEEK, WEEK + dt.timedelta(days=6)), paid_in(PREV, PREV + dt.timedelta(days=6))
    assert (now_sales, prev_sales) == (Decimal("430.50"), Decimal("100.00"))
    assert Decimal(kpi["sales"]["now"]) == now_sales and Decimal(kpi["sales"]["prev"]) == prev_sales
    assert kpi["sales"]["change"] == pytest.approx(float((now_sales - prev_sales) / prev_sales), abs=1e-4)
    assert kpi["orders"]["now"] == 3 and kpi["orders"]["prev"] == 2
    # complaints, cases and deductions counted in a plain loop over all rows
    complaints = [c for c in Complaint.objects.filter(shop=shop) if WEEK <= _local_day(c.created_at, shop) <= r.end]
    assert r.data["complaints"]["opened"] == len(complaints) == 1
    assert r.data["complaints"]["against_agents"] == 1
    cases = [c for c in Case.objects.filter(shop=shop) if WEEK <= _local_day(c.created_at, shop) <= r.end]
    assert r.data["aftersales"]["opened"] == len(cases) == 1 and r.data["aftersales"]["by_type"] == {"refund_only": 1}
    points = sum((d.points for d in PenaltyDeduction.objects.filter(shop=shop)
                  if d.status == DeductionStatus.ACTIVE and WEEK <= d.day <= r.end), Decimal(0))
    assert Decimal(r.data["points"]["deducted"]) == points == Decimal("0.5")
    total = sum((s.total for s in CommissionStatement.objects.filter(shop=shop, month=dt.date(2026, 3, 1))), Decimal(0))
    assert Decimal(r.data["commissions"]["total"]) == total > 0


def test_delivered_once_by_notification_and_email(shop, world, supervisor, manager, agent):
    mail.outbox.clear()
    now = at(shop, WEEK + dt.timedelta(days=8), 9)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        r = dept_report_generate(shop=shop, period="week", start=WEEK, now=now)
    with TestCase.captureOnCommitCallbacks(execute=True):
        dept_report_generate(shop=shop, period="week", start=WEEK, now=now)  # refresh: not delivered again
    link = f"/reports/dept/{r.id}/"
    assert set(Notification.objects.filter(link=link).values_list("recipient__name", flat=True)) == {"周主管", "陈经理"}
    assert Notification.objects.filter(link=link).count() == 2
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["gm@example.com"]
    assert "430.50" in mail.outbox[0].body


def test_not_before_the_period_ends(shop, world):
    from kefu.core.errors import KefuError

    with pytest.raises(KefuError):
        dept_report_generate(shop=shop, period="week", start=WEEK, now=at(shop, WEEK + dt.timedelta(days=6), 23))


def test_problems_measures_xlsx_print_and_access(shop, other_shop, world, supervisor, manager, agent):
    r = dept_report_generate(shop=shop, period="week", start=WEEK, now=at(shop, WEEK + dt.timedelta(days=8), 9))
    url = f"/api/v1/dept-reports/{r.id}?shop=s1"
    assert login(agent).get(url).status_code == 404
    assert login(agent).get(f"/reports/dept/{r.id}/").status_code == 404
    body = json.dumps({"problems": "周三发货慢，投诉 1 起", "measures": "与仓库约定 16 点前发货"})
    resp = login(supervisor).post(f"/api/v1/dept-reports/{r.id}/notes?shop=s1", body, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["written_by"] == "周主管"
    assert login(agent).post(f"/api/v1/dept-reports/{r.id}/notes?shop=s1", body,
                             content_type="application/json").status_code == 404
    stranger = person_create(shop=other_shop, name="外店经理", username="x-boss", password="pass-word-1",
                             roles=["manager"])
    assert login(stranger).get(f"/reports/dept/{r.id}/").status_code == 404
    page = login(manager).get(f"/reports/dept/{r.id}/").content.decode()
    assert "与仓库约定 16 点前发货" in page and "¥430.50" in page
    printed = login(manager).get(f"/reports/dept/{r.id}/", {"print": "1"}).content.decode()
    assert "window.print()" in printed and "周三发货慢" in printed
    x = login(manager).get(f"/reports/dept/{r.id}/", {"export": "xlsx"})
    wb = load_workbook(io.BytesIO(x.content))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    sales_col = header.index("客服销售额")
    assert Decimal(str(ws.cell(row=2, column=sales_col + 1).value)) == Decimal("430.50")
    assert Decimal(str(ws.cell(row=3, column=sales_col + 1).value)) == Decimal("100.00")
    assert login(manager).get("/reports/dept/").status_code == 200


def test_the_scheduler_makes_each_period_once(shop, world, supervisor):
    now = at(shop, dt.date(2026, 4, 1), 2)  # a Wednesday: yesterday 03-31 closes the month, not a week
    made = dept_reports_due(shop=shop, now=now)
    assert sorted((r.period, r.start) for r in made) == [
        ("day", dt.date(2026, 3, 31)), ("month", dt.date(2026, 3, 1)), ("week", dt.date(2026, 3, 23))]
    assert dept_reports_due(shop=shop, now=now) == []
    assert DeptReport.objects.filter(shop=shop).count() == 3


def test_agent_month_report_written_and_answered(shop, world, agent, colleague, supervisor):
    assert agent_month_reports_prepare(shop=shop, month=dt.date(2026, 3, 1), now=at(shop, dt.date(2026, 4, 1), 2)) == 2
    r = AgentMonthReport.objects.get(shop=shop, agent=agent)
    kpi = {k["key"]: k for k in r.data["kpi"]}
    raw = sum((o.paid_amount for o in Order.objects.filter(shop=shop, order_id__in=["w0", "w1", "w3"])), Decimal(0))
    assert Decimal(kpi["sales"]["now"]) == raw == Decimal("390.50")
    st = CommissionStatement.objects.get(shop=shop, agent=agent, month=dt.date(2026, 3, 1))
    assert Decimal(r.data["commission"]) == st.total
    base = f"/api/v1/agent-month-reports/{r.id}"
    assert login(colleague).get(base + "?shop=s1").status_code == 404
    resp = login(agent).post(base + "/answer?shop=s1", json.dumps({"reply": "x"}), content_type="application/json")
    assert resp.status_code == 403
    resp = login(supervisor).post(base + "/answer?shop=s1", json.dumps({"reply": "好"}), content_type="application/json")
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_state"  # not submitted yet
    resp = login(agent).post(base + "/submit?shop=s1", json.dumps({"analysis": "本月转化率提高，下月多做回访"}),
                             content_type="application/json")
    assert resp.status_code == 200 and resp.json()["state"] == "submitted"
    assert Notification.objects.filter(recipient=supervisor, link=f"/reports/month/{r.id}/").exists()
    resp = login(supervisor).post(base + "/answer?shop=s1", json.dumps({"reply": "很好，继续保持"}),
                                  content_type="application/json")
    assert resp.status_code == 200 and resp.json()["state"] == "answered" and resp.json()["replied_by"] == "周主管"
    assert login(agent).post(base + "/submit?shop=s1", json.dumps({"analysis": "改"}),
                             content_type="application/json").status_code == 409
    page = login(agent).get(f"/reports/month/{r.id}/").content.decode()
    assert "很好，继续保持" in page and "本月转化率提高" in page
    assert login(colleague).get(f"/reports/month/{r.id}/").status_code == 404
    listing = login(supervisor).get("/reports/month/", {"month": "2026-03"}).content.decode()
    assert "小美" in listing and "阿强" in listing
