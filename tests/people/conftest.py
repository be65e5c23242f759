import datetime as dt

import pytest
from django.test import Client

from kefu.core.services import person_create
from kefu.workforce.services import roster_day_set, shift_create

MONTH = dt.date(2026, 3, 1)


def at(shop, day: dt.date, hh: int, mm: int = 0, ss: int = 0) -> dt.datetime:
    """A wall-clock moment of the shop (aware)."""
    return dt.datetime.combine(day, dt.time(hh, mm, ss), tzinfo=shop.tz)


def login(person) -> Client:
    c = Client()
    c.force_login(person.user)
    return c


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="周主管", username="zhou", password="pass-word-1", roles=["supervisor"],
                         group="")


@pytest.fixture
def agent(shop):
    return person_create(shop=shop, name="小美", username="xiaomei", password="pass-word-1", roles=["agent"],
                         platform_ids=["店铺:小美"])


@pytest.fixture
def colleague(shop):
    return person_create(shop=shop, name="阿强", username="aqiang", password="pass-word-1", roles=["agent"],
                         platform_ids=["店铺:阿强"])


@pytest.fixture
def day_shift(shop):
    return shift_create(shop=shop, name="白班", start="09:00", end="18:00")


def roster(shop, agent, shift, days):
    for d in days:
        roster_day_set(shop=shop, agent=agent, date=d, shifts=[shift])


@pytest.fixture
def march(shop, agent, day_shift):
    """The agent works 白班 09:00–18:00 every weekday of March 2026."""
    days = [MONTH + dt.timedelta(days=i) for i in range(31) if (MONTH + dt.timedelta(days=i)).weekday() < 5]
    roster(shop, agent, day_shift, days)
    return days


@pytest.fixture
def end_of_march(shop):
    return at(shop, dt.date(2026, 4, 1), 12)
