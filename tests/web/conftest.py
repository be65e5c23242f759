import pytest
from django.test import Client

from kefu.web import selectors

from .data import DAY


@pytest.fixture
def day(monkeypatch):
    """Pin the pages' 'today' (the shop day) to the day the test data lives on."""
    monkeypatch.setattr(selectors, "shop_today", lambda shop: DAY)
    return DAY


@pytest.fixture
def agent_client(agent_person):
    c = Client()
    c.force_login(agent_person.user)
    return c
