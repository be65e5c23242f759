"""The hourly attendance rule: registered, fires once an hour, settles ended shifts."""

import datetime as dt

import pytest
from django.utils import timezone

from kefu.core.scheduler import JOB_MODULES, jobs, tick
from kefu.people import tasks
from kefu.people.models import AttendanceDay
from kefu.workforce.services import roster_day_set

pytestmark = pytest.mark.django_db


def test_registered_and_fires_once_an_hour(shop):
    assert "kefu.people.jobs" in JOB_MODULES and "people.attendance_settle" in {j.name for j in jobs()}
    now = timezone.now()
    assert [t for t in tick(now) if t[0] == "people.attendance_settle"]
    assert not [t for t in tick(now) if t[0] == "people.attendance_settle"]


def test_the_task_settles_a_shift_that_ended_without_a_clock_in(shop, agent, day_shift):
    yesterday = timezone.now().astimezone(shop.tz).date() - dt.timedelta(days=1)
    roster_day_set(shop=shop, agent=agent, date=yesterday, shifts=[day_shift])
    tasks.attendance_settle.call(shop.id)
    assert AttendanceDay.objects.get(agent=agent, date=yesterday).status == "unauthorised"
