"""Two people press 保存补救措施 with a compensation at the same moment (PostgreSQL): money once."""

import pytest

from kefu.approvals.models import MoneyAction
from kefu.complaints import services
from kefu.core.errors import KefuError
from kefu.core.services import person_create, shop_create
from kefu.customers.models import Customer
from tests.concurrency import race, require_postgresql

pytestmark = pytest.mark.django_db(transaction=True)


def test_compensation_is_executed_once():
    require_postgresql()
    shop = shop_create(code="conc-c", name="并发店")
    owner = person_create(shop=shop, name="小美", roles=["agent"])
    boss = person_create(shop=shop, name="主管", roles=["supervisor"])
    buyer = Customer.objects.create(shop=shop, buyer_id="b1")
    for round_ in range(3):
        c = services.complaint_create(shop=shop, source="buyer", category="product", summary=f"坏了{round_}",
                                      actor=owner, customer=buyer)
        for step in ("accept_quickly", "calm"):
            services.complaint_check(shop=shop, complaint_id=c.pk, step=step, actor=owner)
        services.complaint_act(shop=shop, complaint_id=c.pk, action="advance", actor=owner)
        services.complaint_check(shop=shop, complaint_id=c.pk, step="clarify", actor=owner)
        services.complaint_act(shop=shop, complaint_id=c.pk, action="advance", actor=owner)
        results = race(lambda who, pk=c.pk: services.complaint_remedy(
            shop=shop, complaint_id=pk, kind="compensation", text="补偿", amount="10", actor=who),
            [(owner,), (boss,)])
        ok = [r for r in results if not isinstance(r, Exception)]
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(ok) == 1 and len(errors) == 1, results
        assert isinstance(errors[0], KefuError) and errors[0].code == "exists"
        assert MoneyAction.objects.filter(reason__startswith=f"投诉#{c.pk} ").count() == 1
