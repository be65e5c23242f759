"""Two supervisors decide the same appeal at the same moment (PostgreSQL): it is decided once."""

import pytest

from kefu.conversations.models import Conversation
from kefu.core.errors import KefuError
from kefu.core.services import person_create, shop_create
from kefu.quality import services
from kefu.quality.models import QaAppeal, QaEvent
from tests.concurrency import race, require_postgresql

from .conftest import chat

pytestmark = pytest.mark.django_db(transaction=True)


def test_appeal_is_decided_once():
    require_postgresql()
    shop = shop_create(code="conc-qa", name="并发质检店")
    agent = person_create(shop=shop, name="小美", roles=["agent"], platform_ids=["店铺:小美"])
    reviewer = person_create(shop=shop, name="主管甲", roles=["supervisor"])
    deciders = [person_create(shop=shop, name=f"主管{i}", roles=["supervisor"]) for i in range(2)]
    for round_ in range(3):
        chat(shop, [(f"b{round_}", "店铺:小美", "buyer", 0, "在吗"), (f"b{round_}", "店铺:小美", "agent", 30, "在")])
        conv = Conversation.objects.get(shop=shop, customer__buyer_id=f"b{round_}")
        r = services.review_start(shop=shop, reviewer=reviewer, conversation=conv)
        cats = services.rubric_ensure(shop)
        r = services.review_save(shop=shop, review=r, reviewer=reviewer, submit=True,
                                 scores=[{"category_id": c.pk, "chosen": 2} for c in cats])
        appeal = services.appeal_open(shop=shop, review=r, agent=agent, reason="不服")
        results = race(lambda who, accept, a=appeal, cats=cats: services.appeal_decide(
            shop=shop, appeal=a, decider=who, accept=accept, note="裁定",
            scores=[{"category_id": c.pk, "chosen": 5} for c in cats] if accept else None),
            [(deciders[0], True), (deciders[1], False)])
        ok = [x for x in results if not isinstance(x, Exception)]
        errors = [x for x in results if isinstance(x, Exception)]
        assert len(ok) == 1 and len(errors) == 1, results
        assert isinstance(errors[0], KefuError) and errors[0].code == "already_decided"
        a = QaAppeal.objects.get(pk=appeal.pk)
        r.refresh_from_db()
        assert a.state == ok[0].state
        assert (r.score == 100) == (a.state == "accepted")
        assert QaEvent.objects.filter(review=r, action="decided").count() == 1
