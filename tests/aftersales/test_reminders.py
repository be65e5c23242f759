"""The daily after-sales follow-up reminders (AFT-6 overdue early-refund returns, AFT-10 second service)."""

import datetime as dt

import pytest
from django.utils import timezone

from kefu.aftersales import money
from kefu.aftersales.jobs import JOBS
from kefu.aftersales.models import Case, CaseEvent, SecondService
from kefu.aftersales.reminders import reminder_day, reminders_send
from kefu.aftersales.services import case_transition
from kefu.approvals.models import Notification
from kefu.core.scheduler import jobs, tick
from kefu.core.timeutil import day_bounds, shop_day

from .conftest import login, make_case

pytestmark = pytest.mark.django_db


def at_hour(shop, day: dt.date, hour: int) -> dt.datetime:
    return day_bounds(day, shop.tz)[0] + dt.timedelta(hours=hour)


def overdue_early_refund(shop, actor, order):
    case = make_case(shop, actor, order=order, amount="30")
    case_transition(shop=shop, case=case, to="waiting_return", actor_agent=actor, expected_version=1)
    money.case_return_shipped(shop=shop, case=case, actor_agent=actor, expected_version=2, courier="圆通",
                              tracking_no="YT9")
    money.case_early_refund(shop=shop, case=case, actor_agent=actor, expected_version=3)
    Case.objects.filter(pk=case.pk).update(return_due_at=timezone.now() - dt.timedelta(hours=1))
    return Case.objects.get(pk=case.pk)


def test_registered_with_the_scheduler():
    assert {j.name for j in JOBS} <= {j.name for j in jobs()}


def test_overdue_return_is_reminded_once_a_day_until_it_arrives(shop, manager, order):
    case = overdue_early_refund(shop, manager, order)
    today = shop_day(timezone.now(), shop.tz)
    morning, noon = at_hour(shop, today + dt.timedelta(days=1), 7), at_hour(shop, today + dt.timedelta(days=1), 12)
    assert reminder_day(shop=shop, now=morning) is None  # before 9:00 in the shop's time zone
    assert reminder_day(shop=shop, now=noon) == (today + dt.timedelta(days=1)).isoformat()
    fired = [t for t in tick(noon) if t[0] == "aftersales.followup_reminders"]
    assert fired and fired[0][1] == shop.code
    assert [t for t in tick(noon + dt.timedelta(hours=1)) if t[0] == "aftersales.followup_reminders"] == []

    assert reminders_send(shop=shop, now=noon) == 1
    note = Notification.objects.get(recipient=manager, text__contains="退货包裹已逾期")
    assert f"#{case.pk}" in note.text and note.link.endswith(f"/aftersales/{case.pk}/")
    assert reminders_send(shop=shop, now=noon + dt.timedelta(hours=3)) == 0  # same day: once
    assert CaseEvent.objects.filter(case=case, action="reminded").count() == 1
    assert "跟进提醒" in login(manager).get(f"/aftersales/{case.pk}/").content.decode()
    # The next day it is still overdue: reminded again; once the parcel arrived, never.
    next_noon = noon + dt.timedelta(days=1)
    assert reminders_send(shop=shop, now=next_noon) == 1
    money.case_return_arrived(shop=shop, case=case, actor_agent=manager, expected_version=case.version)
    SecondService.objects.filter(case=case).update(done_at=timezone.now())  # the refund's call is made too
    assert reminders_send(shop=shop, now=next_noon + dt.timedelta(days=1)) == 0
    assert Notification.objects.filter(recipient=manager, text__contains="退货包裹已逾期").count() == 2


def test_second_service_due_goes_to_the_supervisors_when_the_case_has_no_owner(shop, manager, supervisor, order):
    case = make_case(shop, manager, order=order, amount="30", reason="changed_mind")
    case_transition(shop=shop, case=case, to="refunded", actor_agent=manager, expected_version=1)
    ss = SecondService.objects.get(case=case)
    Case.objects.filter(pk=case.pk).update(owner=None)
    before = at_hour(shop, ss.due_on - dt.timedelta(days=1), 12)
    assert reminders_send(shop=shop, now=before) == 0
    on_the_day = at_hour(shop, ss.due_on, 10)
    assert reminders_send(shop=shop, now=on_the_day) == 1
    assert Notification.objects.filter(recipient=supervisor, text__contains="二次服务").count() == 1
    assert not Notification.objects.filter(recipient=manager, text__contains="二次服务").exists()
    SecondService.objects.filter(pk=ss.pk).update(done_at=on_the_day)
    assert reminders_send(shop=shop, now=on_the_day + dt.timedelta(days=1)) == 0
