"""agents_on_shift: midnight, day boundaries in shop time, DST and groups."""

import datetime as dt

import pytest

from kefu.core.services import person_create, shop_create
from kefu.workforce.selectors import (
    agents_on_shift,
    not_online_intervals,
    on_shift_now,
    roster_week,
)
from kefu.workforce.services import presence_set, roster_assign, shift_create

from .conftest import MONDAY, at

pytestmark = pytest.mark.django_db
TUESDAY = MONDAY + dt.timedelta(days=1)


def names(agents):
    return [a.name for a in agents]


def test_night_shift_of_monday_covers_tuesday_morning(shop, shifts, agent_person):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["night"])
    assert names(agents_on_shift(shop=shop, at=at(shop, MONDAY, 21, 59))) == []
    assert names(agents_on_shift(shop=shop, at=at(shop, MONDAY, 22, 0))) == ["小美"]
    assert names(agents_on_shift(shop=shop, at=at(shop, MONDAY, 23, 59))) == ["小美"]
    assert names(agents_on_shift(shop=shop, at=at(shop, TUESDAY, 0, 0))) == ["小美"]
    assert names(agents_on_shift(shop=shop, at=at(shop, TUESDAY, 3, 0))) == ["小美"]
    assert names(agents_on_shift(shop=shop, at=at(shop, TUESDAY, 5, 59))) == ["小美"]
    assert names(agents_on_shift(shop=shop, at=at(shop, TUESDAY, 6, 0))) == []  # end is exclusive
    # Monday 03:00 belongs to Sunday's night shift, which nobody works.
    assert names(agents_on_shift(shop=shop, at=at(shop, MONDAY, 3, 0))) == []


def test_shift_ending_at_24_00(shop, shifts, agent_person):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["late"])
    assert names(agents_on_shift(shop=shop, at=at(shop, MONDAY, 23, 59, ))) == ["小美"]
    assert names(agents_on_shift(shop=shop, at=at(shop, TUESDAY, 0, 0))) == []
    assert names(agents_on_shift(shop=shop, at=at(shop, MONDAY, 14, 59))) == []


def test_day_boundaries_are_shop_time_not_utc(shop, shifts, agent_person):
    # Asia/Shanghai is UTC+8: the 08:00 start of Monday is Monday 00:00 UTC; 07:59 is Sunday in UTC.
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    utc = dt.UTC
    assert names(agents_on_shift(shop=shop, at=dt.datetime(2026, 3, 2, 0, 0, tzinfo=utc))) == ["小美"]
    assert names(agents_on_shift(shop=shop, at=dt.datetime(2026, 3, 1, 23, 59, tzinfo=utc))) == []
    assert names(agents_on_shift(shop=shop, at=dt.datetime(2026, 3, 2, 8, 59, tzinfo=utc))) == ["小美"]
    assert names(agents_on_shift(shop=shop, at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=utc))) == []


def test_naive_moment_is_refused(shop):
    with pytest.raises(ValueError):
        agents_on_shift(shop=shop, at=dt.datetime(2026, 3, 2, 10, 0))


def test_groups_and_inactive_agents_and_other_shops(shop, other_shop, shifts, agent_person):
    after = person_create(shop=shop, name="售后甲", roles=["agent"], group="aftersales")
    gone = person_create(shop=shop, name="离职", roles=["agent"])
    for a in (agent_person, after, gone):
        roster_assign(shop=shop, agent=a, date=MONDAY, shift=shifts["day"])
    gone.active = False
    gone.save(update_fields=["active"])
    foreign_shift = shift_create(shop=other_shop, name="白班", start="08:00", end="17:00")
    foreigner = person_create(shop=other_shop, name="外店", roles=["agent"])
    roster_assign(shop=other_shop, agent=foreigner, date=MONDAY, shift=foreign_shift)
    moment = at(shop, MONDAY, 10)
    assert names(agents_on_shift(shop=shop, at=moment)) == sorted(["小美", "售后甲"])
    assert names(agents_on_shift(shop=shop, at=moment, group="presales")) == ["小美"]
    assert names(agents_on_shift(shop=shop, at=moment, group="aftersales")) == ["售后甲"]
    assert names(agents_on_shift(shop=other_shop, at=moment)) == ["外店"]


def test_two_shifts_in_a_day_list_the_agent_once(shop, shifts, agent_person, django_assert_num_queries):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    split = shift_create(shop=shop, name="晚高峰", start="19:00", end="23:00")
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=split)
    with django_assert_num_queries(1):
        assert names(agents_on_shift(shop=shop, at=at(shop, MONDAY, 20))) == ["小美"]
    assert names(agents_on_shift(shop=shop, at=at(shop, MONDAY, 18))) == []


@pytest.fixture
def berlin(db):
    return shop_create(code="de1", name="Berlin", timezone_name="Europe/Berlin")


def test_dst_spring_forward_night_is_one_hour_shorter(berlin):
    # Europe/Berlin: 2026-03-29 02:00 → 03:00. A 22:00–06:00 shift of Saturday 28 March lasts 7 h.
    night = shift_create(shop=berlin, name="Nacht", start="22:00", end="06:00")
    a = person_create(shop=berlin, name="Anna", roles=["agent"])
    sat = dt.date(2026, 3, 28)
    entry = roster_assign(shop=berlin, agent=a, date=sat, shift=night)
    assert entry.ends_at - entry.starts_at == dt.timedelta(hours=7)
    assert entry.starts_at == dt.datetime(2026, 3, 28, 21, 0, tzinfo=dt.UTC)  # 22:00 CET
    assert entry.ends_at == dt.datetime(2026, 3, 29, 4, 0, tzinfo=dt.UTC)  # 06:00 CEST
    sun = dt.date(2026, 3, 29)
    assert names(agents_on_shift(shop=berlin, at=at(berlin, sun, 3, 30))) == ["Anna"]
    assert names(agents_on_shift(shop=berlin, at=at(berlin, sun, 5, 59))) == ["Anna"]
    assert names(agents_on_shift(shop=berlin, at=at(berlin, sun, 6, 0))) == []


def test_dst_fall_back_night_is_one_hour_longer(berlin):
    # 2026-10-25 03:00 CEST → 02:00 CET: the night of Saturday 24 October lasts 9 h.
    night = shift_create(shop=berlin, name="Nacht", start="22:00", end="06:00")
    day = shift_create(shop=berlin, name="Tag", start="08:00", end="16:00")
    a = person_create(shop=berlin, name="Anna", roles=["agent"])
    b = person_create(shop=berlin, name="Ben", roles=["agent"])
    entry = roster_assign(shop=berlin, agent=a, date=dt.date(2026, 10, 24), shift=night)
    roster_assign(shop=berlin, agent=b, date=dt.date(2026, 10, 25), shift=day)
    assert entry.ends_at - entry.starts_at == dt.timedelta(hours=9)
    # Both 02:30s of that night (fold 0 = summer time, fold 1 = winter time) are on shift.
    first = dt.datetime(2026, 10, 25, 2, 30, tzinfo=berlin.tz, fold=0)
    second = dt.datetime(2026, 10, 25, 2, 30, tzinfo=berlin.tz, fold=1)
    assert second - first == dt.timedelta(0) and second.astimezone(dt.UTC) - first.astimezone(dt.UTC) == dt.timedelta(hours=1)
    assert names(agents_on_shift(shop=berlin, at=first)) == ["Anna"]
    assert names(agents_on_shift(shop=berlin, at=second)) == ["Anna"]
    # The day shift of the DST Sunday starts at 08:00 local (07:00 UTC in winter time).
    assert names(agents_on_shift(shop=berlin, at=dt.datetime(2026, 10, 25, 7, 0, tzinfo=dt.UTC))) == ["Ben"]
    assert names(agents_on_shift(shop=berlin, at=dt.datetime(2026, 10, 25, 6, 59, tzinfo=dt.UTC))) == []


def test_summer_shift_in_berlin_is_utc_plus_two(berlin):
    day = shift_create(shop=berlin, name="Tag", start="08:00", end="16:00")
    a = person_create(shop=berlin, name="Anna", roles=["agent"])
    roster_assign(shop=berlin, agent=a, date=dt.date(2026, 7, 1), shift=day)
    assert names(agents_on_shift(shop=berlin, at=dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC))) == ["Anna"]
    assert names(agents_on_shift(shop=berlin, at=dt.datetime(2026, 7, 1, 5, 59, tzinfo=dt.UTC))) == []


def test_on_shift_now_with_status(shop, shifts, agent_person, colleague, django_assert_num_queries):
    for a in (agent_person, colleague):
        roster_assign(shop=shop, agent=a, date=MONDAY, shift=shifts["day"])
    presence_set(shop=shop, agent=agent_person, status="online", at=at(shop, MONDAY, 8))
    with django_assert_num_queries(2):
        rows = on_shift_now(shop=shop, at=at(shop, MONDAY, 9))
    assert [(r.agent.name, r.status) for r in rows] == [("小美", "online"), ("阿强", "offline")]
    assert rows[0].entries[0].shift.name == "白班"


def test_not_online_intervals(shop, shifts, agent_person, colleague, django_assert_max_num_queries):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])  # 08:00–17:00
    roster_assign(shop=shop, agent=colleague, date=MONDAY, shift=shifts["night"])  # 22:00–06:00
    presence_set(shop=shop, agent=agent_person, status="online", at=at(shop, MONDAY - dt.timedelta(days=3), 9))
    presence_set(shop=shop, agent=agent_person, status="away", at=at(shop, MONDAY, 12))
    presence_set(shop=shop, agent=agent_person, status="online", at=at(shop, MONDAY, 12, 30))
    presence_set(shop=shop, agent=agent_person, status="offline", at=at(shop, MONDAY, 16))
    presence_set(shop=shop, agent=colleague, status="online", at=at(shop, TUESDAY, 1))
    with django_assert_max_num_queries(3):
        gaps = not_online_intervals(shop=shop, day=MONDAY, now=at(shop, TUESDAY, 12))
    got = [(g.agent.name, g.start.astimezone(shop.tz).strftime("%d %H:%M"), g.end.astimezone(shop.tz).strftime("%d %H:%M"),
            g.status) for g in gaps]
    assert got == [
        ("小美", "02 12:00", "02 12:30", "away"),
        ("小美", "02 16:00", "02 17:00", "offline"),
        ("阿强", "02 22:00", "03 01:00", "offline"),
    ]
    assert gaps[0].seconds == 1800
    # Time that has not come yet is not counted.
    gaps = not_online_intervals(shop=shop, day=MONDAY, now=at(shop, MONDAY, 23), group="presales")
    assert [(g.agent.name, g.seconds) for g in gaps] == [("小美", 1800), ("小美", 3600), ("阿强", 3600)]


def test_roster_week_agent_sees_only_own_row(shop, shifts, agent_person, colleague, supervisor):
    roster_assign(shop=shop, agent=agent_person, date=MONDAY, shift=shifts["day"])
    roster_assign(shop=shop, agent=colleague, date=MONDAY + dt.timedelta(days=6), shift=shifts["night"])
    week = roster_week(shop=shop, member=agent_person, week_start=MONDAY)
    assert [r.agent.name for r in week["rows"]] == ["小美"]
    assert [len(c) for c in week["rows"][0].cells] == [1, 0, 0, 0, 0, 0, 0]
    week = roster_week(shop=shop, member=supervisor, week_start=MONDAY, group="presales")
    assert {r.agent.name for r in week["rows"]} == {"小美", "阿强"}


@pytest.mark.django_db
def test_a_time_zone_change_moves_todays_and_later_roster_entries(shop):
    import datetime as dt

    from django.utils import timezone

    from kefu.core.services import person_create, shop_settings_update
    from kefu.core.timeutil import shop_day
    from kefu.workforce.models import RosterEntry
    from kefu.workforce.services import roster_assign, shift_create

    boss = person_create(shop=shop, name="主管", username="boss-tz", password="pass-word-1", roles=["supervisor"])
    worker = person_create(shop=shop, name="阿明", roles=["agent"])
    shift = shift_create(shop=shop, by=boss, name="白班", start=dt.time(8), end=dt.time(17))
    today = shop_day(timezone.now(), shop.tz)
    entry = roster_assign(shop=shop, by=boss, agent=worker, date=today + dt.timedelta(days=1), shift=shift)
    before = entry.starts_at
    shop_settings_update(shop=shop, timezone="Europe/Berlin")
    entry = RosterEntry.objects.get(pk=entry.pk)
    assert entry.starts_at - before == dt.timedelta(hours=7) or entry.starts_at - before == dt.timedelta(hours=8)
