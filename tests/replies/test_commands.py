import io

import pytest
from django.core.management import CommandError, call_command

from kefu.crm.models import CustomerGrade
from kefu.customers.models import Customer
from kefu.replies.defaults import DEFAULT_SCRIPTS
from kefu.replies.models import Script

pytestmark = pytest.mark.django_db


def test_commands(shop, other_shop):
    out = io.StringIO()
    call_command("scripts_defaults", "--shop", "s1", stdout=out)
    assert f"s1: {len(DEFAULT_SCRIPTS)}" in out.getvalue()
    assert not Script.objects.filter(shop=other_shop).exists()
    call_command("scripts_defaults", stdout=out)
    assert "s1: 0" in out.getvalue() and Script.objects.filter(shop=other_shop).count() == len(DEFAULT_SCRIPTS)
    with pytest.raises(CommandError):
        call_command("scripts_defaults", "--shop", "nope")
    Customer.objects.create(shop=shop, buyer_id="b1")
    call_command("grades_recompute", "--shop", "s1", stdout=out)
    assert CustomerGrade.objects.get(customer__buyer_id="b1").grade == "C"
