"""Races on PostgreSQL: a supervisor's "generate" at the moment the scheduler runs makes each report once
and delivers the department report once; an agent's double click signs once."""

import datetime as dt

import pytest

from kefu.approvals.models import Notification
from kefu.core.errors import KefuError
from kefu.core.services import person_create
from kefu.reports.daily import daily_report_sign, daily_reports_generate
from kefu.reports.dept import dept_report_generate
from kefu.reports.models import DailyReport, DeptReport

from ..concurrency import race, require_postgresql
from ..people.conftest import at
from ..people.test_pay import sell

pytestmark = pytest.mark.django_db(transaction=True)
DAY = dt.date(2026, 3, 9)


@pytest.fixture
def sold(shop, agent, colleague, supervisor):
    require_postgresql()
    person_create(shop=shop, name="陈经理", username="chen", password="pass-word-1", roles=["manager"])
    sell(shop, "店铺:小美", "b1", "o1", at(shop, DAY, 10), "120.00")
    sell(shop, "店铺:阿强", "b2", "o2", at(shop, DAY, 11), "80.00")


def test_two_generates_make_each_daily_report_once(shop, sold, agent):
    now = at(shop, DAY + dt.timedelta(days=1), 2)
    results = race(lambda: daily_reports_generate(shop=shop, day=DAY, now=now), [(), ()])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert DailyReport.objects.filter(shop=shop, day=DAY).count() == 2
    assert Notification.objects.filter(recipient=agent, link__startswith="/reports/daily/").count() == 1


def test_two_generates_deliver_the_department_report_once(shop, sold):
    now = at(shop, DAY + dt.timedelta(days=1), 2)
    results = race(lambda: dept_report_generate(shop=shop, period="day", start=DAY, now=now), [(), ()])
    assert not [r for r in results if isinstance(r, Exception)], results
    row = DeptReport.objects.get(shop=shop, period="day", start=DAY)
    # one notification per supervisor and manager, not two
    assert Notification.objects.filter(link=f"/reports/dept/{row.id}/").count() == 2


def test_a_double_click_signs_once(shop, sold, agent):
    daily_reports_generate(shop=shop, day=DAY, now=at(shop, DAY + dt.timedelta(days=1), 2))
    r = DailyReport.objects.get(shop=shop, agent=agent, day=DAY)
    results = race(lambda: daily_report_sign(shop=shop, report_id=r.id, by=agent, note="好"), [(), ()])
    assert sum(1 for x in results if isinstance(x, DailyReport)) == 1
    assert [x.code for x in results if isinstance(x, KefuError)] == ["already_done"]
