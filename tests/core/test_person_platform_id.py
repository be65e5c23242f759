"""Defect 9 of issue 11: `kefu shop person … --platform-id X` after an import created agent X."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kefu.conversations.models import Message
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.models import Agent, AgentAccount, AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(shop):
    rows = [{"message_id": "m1", "buyer_id": "b1", "agent_id": "店:小美", "sender": "buyer",
             "sent_at": "2026-11-01 10:00:00"},
            {"message_id": "m2", "buyer_id": "b1", "agent_id": "店:小美", "sender": "agent",
             "sent_at": "2026-11-01 10:00:30"}]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))
    return Agent.objects.get(shop=shop, name="店:小美")


def test_the_person_takes_over_the_imported_agent(imported):
    call_command("shop", "person", "s1", "小美", "--username", "xiaomei", "--password", "pass-word-1",
                 "--platform-id", "店:小美", "--platform-id", "店:小美2")
    agent = Agent.objects.get(pk=imported.pk)
    assert agent.name == "小美" and agent.user.username == "xiaomei" and agent.roles == "agent"
    assert set(agent.accounts.values_list("platform_id", flat=True)) == {"店:小美", "店:小美2"}
    assert Agent.objects.count() == 1 and Message.objects.filter(agent=agent).count() == 2
    assert AuditLog.objects.get(action="person.create").after["took_over"] == "店:小美"


def test_clear_errors_when_the_platform_id_is_someone_elses(imported, shop):
    call_command("shop", "person", "s1", "小美", "--username", "xiaomei", "--password", "pass-word-1",
                 "--platform-id", "店:小美")
    with pytest.raises(CommandError, match="already belongs to 小美, who has a login"):
        call_command("shop", "person", "s1", "阿强", "--username", "aqiang", "--password", "pass-word-1",
                     "--platform-id", "店:小美")
    rows = [{"message_id": "m9", "buyer_id": "b9", "agent_id": "店:阿强", "sender": "buyer",
             "sent_at": "2026-11-01 11:00:00"}]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))
    Agent.objects.filter(name="小美").update(user=None)
    with pytest.raises(CommandError, match="belong to different agents"):
        call_command("shop", "person", "s1", "阿强", "--username", "aqiang", "--password", "pass-word-1",
                     "--platform-id", "店:小美", "--platform-id", "店:阿强")
    assert not AgentAccount.objects.filter(agent__name="阿强").exists()
