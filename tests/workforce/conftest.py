import datetime as dt

import pytest
from django.test import Client

from kefu.core.services import person_create
from kefu.workforce.services import shift_create

MONDAY = dt.date(2026, 3, 2)  # a Monday


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="周主管", username="zhou", password="pass-word-1", roles=["supervisor"],
                         group="")


@pytest.fixture
def supervisor_client(supervisor):
    c = Client()
    c.force_login(supervisor.user)
    return c


@pytest.fixture
def agent_client(agent_person):
    c = Client()
    c.force_login(agent_person.user)
    return c


@pytest.fixture
def colleague(shop):
    return person_create(shop=shop, name="阿强", username="aqiang", password="pass-word-1", roles=["agent"])


@pytest.fixture
def shifts(shop):
    return {
        "day": shift_create(shop=shop, name="白班", start="08:00", end="17:00"),
        "late": shift_create(shop=shop, name="晚班", start="15:00", end="24:00"),
        "night": shift_create(shop=shop, name="夜班", start="22:00", end="06:00"),
        "early": shift_create(shop=shop, name="早班", start="05:00", end="13:00"),
    }


def at(shop, day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    """A wall-clock moment of the shop."""
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=shop.tz)
