import pytest
from django.test import Client

from kefu.care.services import care_settings_update
from kefu.core.services import person_create
from tests.web.data import agent


@pytest.fixture
def team(shop):
    """A care owner (专属客服), two agents, a supervisor."""
    owner = agent(shop, "专属阿芙", username="afu")
    mei, qiang = agent(shop, "小美", username="mei"), agent(shop, "阿强", username="qiang")
    sup = person_create(shop=shop, name="主管", username="sup", password="pass-word-1", roles=["supervisor"], group="")
    care_settings_update(shop=shop, actor=None, owner_ids=[owner.pk])
    return {"owner": owner, "mei": mei, "qiang": qiang, "sup": sup}


def login(person) -> Client:
    c = Client()
    c.force_login(person.user)
    return c
