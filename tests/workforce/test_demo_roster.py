"""The demo shop gets its shift types and roster through the workforce services."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from kefu.core.models import AuditLog, Shop
from kefu.demo.generator import SHIFTS, TZ_NAME, team
from kefu.workforce.models import RosterEntry, Shift
from kefu.workforce.selectors import agents_on_shift

END = dt.date(2026, 5, 31)


@pytest.mark.django_db
def test_demo_roster_matches_the_generators_plan():
    call_command("demo", "--scale", "0.02", "--days", "7", "--end", END.isoformat(), stdout=io.StringIO())
    shop = Shop.objects.get(code="demo")
    shifts = {s.name: (s.start_minute, s.end_minute) for s in Shift.objects.filter(shop=shop)}
    assert shifts == {"白班": SHIFTS["day"], "晚班": SHIFTS["night"]}
    start = END - dt.timedelta(days=6)
    entries = RosterEntry.objects.filter(shop=shop)
    assert entries.filter(date__lt=start).count() == 0
    assert entries.filter(date=END + dt.timedelta(days=7)).exists()  # the week after the month too
    plans = team()
    assert entries.filter(date__gte=start, date__lte=END).count() == 7 * len(plans) - len(plans)  # one rest day each
    assert AuditLog.objects.filter(shop=shop, action="roster.pattern").count() == len(plans)
    import zoneinfo

    tz = zoneinfo.ZoneInfo(TZ_NAME)
    for day in (start, END):
        for hour in (7, 9, 16, 20, 23):
            moment = dt.datetime.combine(day, dt.time(hour, 30), tzinfo=tz)
            expected = sorted(p.name for p in plans if p.on_shift(moment, new_chat=False))
            assert sorted(a.name for a in agents_on_shift(shop=shop, at=moment)) == expected, moment
