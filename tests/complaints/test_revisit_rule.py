"""The revisit reminder (CMP-1): the owner is notified on the revisit day, once."""

import datetime as dt

import pytest
from django.utils import timezone

from kefu.approvals.models import Notification
from kefu.complaints import services
from kefu.complaints.jobs import JOBS
from kefu.complaints.models import ComplaintEvent
from kefu.core.scheduler import JOB_MODULES, jobs, tick
from kefu.core.timeutil import shop_day

pytestmark = pytest.mark.django_db


def test_registered_with_the_scheduler():
    assert "kefu.complaints.jobs" in JOB_MODULES
    names = {j.name for j in jobs()}
    assert {"complaints.revisit_reminders", "complaints.rating_invitations"} <= names
    assert {j.name for j in JOBS} <= names


def test_fires_on_the_revisit_day_once(shop, agent_person, customer):
    now = timezone.now()
    today = shop_day(now, shop.tz)
    c = services.complaint_create(shop=shop, source="buyer", category="product", summary="杯子漏水", actor=agent_person,
                                  customer=customer, revisit_on=today + dt.timedelta(days=2))
    later = services.complaint_create(shop=shop, source="buyer", category="product", summary="还没到",
                                      actor=agent_person, customer=customer, revisit_on=today + dt.timedelta(days=5))
    # Not yet: the day has not come.
    assert services.revisit_reminders_send(shop=shop, now=now) == 0
    assert [t for t in tick(now) if t[0] == "complaints.revisit_reminders"] == []
    day2 = now + dt.timedelta(days=2)
    fired = [t for t in tick(day2) if t[0] == "complaints.revisit_reminders"]
    assert fired and fired[0][1] == shop.code
    assert services.revisit_reminders_send(shop=shop, now=day2) == 1
    note = Notification.objects.get(recipient=agent_person)
    assert f"#{c.pk}" in note.text and note.link.endswith(f"/complaints/{c.pk}/")
    # Again the same day, the next hour, the next day: nothing new.
    assert services.revisit_reminders_send(shop=shop, now=day2) == 0
    assert services.revisit_reminders_send(shop=shop, now=day2 + dt.timedelta(days=1)) == 0
    assert [t for t in tick(day2 + dt.timedelta(hours=1)) if t[0] == "complaints.revisit_reminders"] == []
    assert Notification.objects.filter(recipient=agent_person).count() == 1
    assert ComplaintEvent.objects.filter(complaint=c, action="revisit_due").count() == 1
    assert ComplaintEvent.objects.filter(complaint=later, action="revisit_due").count() == 0


def test_a_new_revisit_date_reminds_again_and_closed_complaints_never(shop, agent_person, supervisor, customer):
    now = timezone.now()
    today = shop_day(now, shop.tz)
    c = services.complaint_create(shop=shop, source="buyer", category="product", summary="x", actor=agent_person,
                                  customer=customer, revisit_on=today)
    assert services.revisit_reminders_send(shop=shop, now=now) == 1
    services.complaint_revisit_set(shop=shop, complaint_id=c.pk, revisit_on=today + dt.timedelta(days=1),
                                   actor=agent_person)
    assert services.revisit_reminders_send(shop=shop, now=now + dt.timedelta(days=1)) == 1
    closed = services.complaint_create(shop=shop, source="buyer", category="product", summary="y",
                                       actor=agent_person, customer=customer, revisit_on=today)
    services.complaint_act(shop=shop, complaint_id=closed.pk, action="dismiss", actor=supervisor, note="误会")
    assert services.revisit_reminders_send(shop=shop, now=now + dt.timedelta(days=3)) == 0
