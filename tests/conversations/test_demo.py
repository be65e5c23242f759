import pytest

from kefu.conversations.demo import demo_extend
from kefu.conversations.models import Conversation, ConversationNote, SavedView
from kefu.conversations.services import messages_clean, messages_ingest

from .conftest import NOW, person

pytestmark = pytest.mark.django_db


def test_demo_extend_routes_live_buyers_through_the_services(shop):
    person(shop, "主管", group="", roles=("supervisor",))
    person(shop, "小一")
    messages_ingest(shop=shop, rows=messages_clean([{"message_id": "h1", "buyer_id": "old", "agent_id": "店铺:小一",
                                                     "sender": "buyer", "sent_at": NOW.isoformat()}], tz=shop.tz))
    said = []
    demo_extend(shop=shop, seed=3, date_from=NOW.date(), date_to=NOW.date(), say=said.append)
    # Nobody is online in this shop: the live buyers wait in the queue for the shift start.
    assert Conversation.objects.filter(queued_at__isnull=False, assignee__isnull=True).count() == 4
    assert SavedView.objects.get().params == {"group": "aftersales", "waiting": "1"}
    assert ConversationNote.objects.count() == 1 and "4 live buyers" in said[0]
