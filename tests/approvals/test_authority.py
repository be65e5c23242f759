"""The authority table of PRE-4: defaults, shop settings, unlimited agents (001's Afu), per-person overrides."""

from decimal import Decimal

import pytest

from kefu.approvals.authority import authority_check
from kefu.approvals.services import LimitChange, authority_limits_update
from kefu.core.errors import KefuError
from kefu.core.services import person_create

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.mark.parametrize("kind", ["discount", "compensation", "free_order"])
@pytest.mark.parametrize("role,limit", [("agent", D("20")), ("supervisor", D("50")), ("manager", D("100")),
                                        ("admin", None), ("warehouse", D("0"))])
def test_default_limits_per_role_and_kind(shop, role, limit, kind):
    person = person_create(shop=shop, name=f"p-{role}", roles=[role])
    d = authority_check(shop=shop, agent=person, kind=kind, amount="0.01")
    assert d.limit == limit and d.source == "default"
    if limit is None:
        assert authority_check(shop=shop, agent=person, kind=kind, amount="99999999").allowed
    else:
        assert authority_check(shop=shop, agent=person, kind=kind, amount=limit or "0.01").allowed == (limit > 0)
        over = authority_check(shop=shop, agent=person, kind=kind, amount=limit + D("0.01"))
        assert not over.allowed and over.needs_approval


def test_who_must_approve_above_the_limit(shop, agent_person):
    assert authority_check(shop=shop, agent=agent_person, kind="discount", amount="30").approver_roles == (
        "supervisor", "manager", "admin")
    assert authority_check(shop=shop, agent=agent_person, kind="discount", amount="80").approver_roles == (
        "manager", "admin")
    assert authority_check(shop=shop, agent=agent_person, kind="discount", amount="500").approver_roles == ("admin",)
    assert authority_check(shop=shop, agent=agent_person, kind="discount", amount="10").approver_roles == ()


def test_several_roles_take_the_largest_limit(shop):
    both = person_create(shop=shop, name="双角色", roles=["agent", "supervisor"])
    assert authority_check(shop=shop, agent=both, kind="compensation", amount="50").allowed
    assert not authority_check(shop=shop, agent=both, kind="compensation", amount="50.01").allowed


def test_shop_sets_agents_unlimited_like_afu(shop, agent_person, manager, admin_person):
    authority_limits_update(shop=shop, editor=admin_person, changes=[
        LimitChange(role="agent", kind=k, limit=None) for k in ("discount", "compensation", "free_order")])
    d = authority_check(shop=shop, agent=agent_person, kind="free_order", amount="5000")
    assert d.allowed and d.limit is None and d.source == "role"
    # Other shops keep the defaults.
    from kefu.core.services import shop_create
    other = shop_create(code="s3", name="另一家")
    p = person_create(shop=other, name="x", roles=["agent"])
    assert not authority_check(shop=other, agent=p, kind="free_order", amount="5000").allowed


def test_person_override_wins_over_roles_both_ways(shop, agent_person, supervisor, admin_person):
    authority_limits_update(shop=shop, editor=admin_person, changes=[
        LimitChange(agent=agent_person, kind="discount", limit=D("35")),
        LimitChange(agent=supervisor, kind="compensation", limit=D("10")),
    ])
    d = authority_check(shop=shop, agent=agent_person, kind="discount", amount="35")
    assert d.allowed and d.source == "person" and d.limit == D("35")
    assert not authority_check(shop=shop, agent=agent_person, kind="discount", amount="35.01").allowed
    # The override is for one kind only.
    assert authority_check(shop=shop, agent=agent_person, kind="compensation", amount="20.01").limit == D("20")
    assert not authority_check(shop=shop, agent=supervisor, kind="compensation", amount="11").allowed
    # Reset: back to the role.
    authority_limits_update(shop=shop, editor=admin_person,
                            changes=[LimitChange(agent=agent_person, kind="discount", reset=True)])
    assert authority_check(shop=shop, agent=agent_person, kind="discount", amount="35").limit == D("20")


def test_role_setting_and_reset_to_default(shop, agent_person, manager):
    authority_limits_update(shop=shop, editor=manager, changes=[LimitChange(role="agent", kind="discount", limit=D("5"))])
    assert authority_check(shop=shop, agent=agent_person, kind="discount", amount="6").limit == D("5")
    authority_limits_update(shop=shop, editor=manager, changes=[LimitChange(role="agent", kind="discount", reset=True)])
    d = authority_check(shop=shop, agent=agent_person, kind="discount", amount="6")
    assert d.limit == D("20") and d.source == "default"


def test_an_inactive_person_has_no_authority(shop, agent_person):
    agent_person.active = False
    assert not authority_check(shop=shop, agent=agent_person, kind="discount", amount="1").allowed


@pytest.mark.parametrize("kind,amount,field", [
    ("refund", "10", "kind"), ("", "10", "kind"), ("discount", "-1", "amount"), ("discount", "0", "amount"),
    ("discount", "1.001", "amount"), ("discount", "abc", "amount"), ("discount", "NaN", "amount"),
    ("discount", "Infinity", "amount"), ("discount", True, "amount"), ("discount", None, "amount"),
    ("discount", "1e20", "amount"),
])
def test_bad_input_names_the_field(shop, agent_person, kind, amount, field):
    with pytest.raises(KefuError) as exc:
        authority_check(shop=shop, agent=agent_person, kind=kind, amount=amount)
    assert exc.value.field == field


def test_a_person_of_another_shop_is_refused(shop, other_shop):
    stranger = person_create(shop=other_shop, name="外人", roles=["admin"])
    with pytest.raises(KefuError):
        authority_check(shop=shop, agent=stranger, kind="discount", amount="1")


# ---------------------------------------------------------------- who may change limits

def test_only_managers_and_admins_change_limits(shop, agent_person, supervisor):
    for editor in (agent_person, supervisor):
        with pytest.raises(KefuError) as exc:
            authority_limits_update(shop=shop, editor=editor,
                                    changes=[LimitChange(role="agent", kind="discount", limit=D("1"))])
        assert exc.value.code == "forbidden"


def test_a_manager_cannot_give_more_than_own_authority_or_touch_managers(shop, manager, agent_person, admin_person):
    refused = [
        LimitChange(role="agent", kind="discount", limit=D("100.01")),
        LimitChange(role="agent", kind="discount", limit=None),
        LimitChange(role="manager", kind="discount", limit=D("10")),
        LimitChange(agent=manager, kind="discount", limit=D("500")),
        LimitChange(agent=admin_person, kind="discount", limit=D("5")),
    ]
    for ch in refused:
        with pytest.raises(KefuError) as exc:
            authority_limits_update(shop=shop, editor=manager, changes=[ch])
        assert exc.value.code == "forbidden", ch
    authority_limits_update(shop=shop, editor=manager, changes=[LimitChange(role="agent", kind="discount", limit=D("100"))])
    # An admin may do all of it, but admins stay unlimited.
    authority_limits_update(shop=shop, editor=admin_person, changes=[LimitChange(role="manager", kind="discount", limit=None)])
    with pytest.raises(KefuError) as exc:
        authority_limits_update(shop=shop, editor=admin_person, changes=[LimitChange(role="admin", kind="discount", limit=D("1"))])
    assert exc.value.field == "limits.0.role"


def test_limit_changes_are_all_or_nothing_and_audited(shop, admin_person, agent_person):
    from kefu.core.models import AuditLog

    with pytest.raises(KefuError) as exc:
        authority_limits_update(shop=shop, editor=admin_person, changes=[
            LimitChange(role="agent", kind="discount", limit=D("30")),
            LimitChange(role="agent", kind="discount", limit="-3")])
    assert exc.value.field == "limits.1.limit"
    assert authority_check(shop=shop, agent=agent_person, kind="discount", amount="30").limit == D("20")
    authority_limits_update(shop=shop, editor=admin_person, changes=[LimitChange(role="agent", kind="discount", limit=D("30"))])
    row = AuditLog.objects.filter(shop=shop, action="authority.set").get()
    assert row.after["limit"] == "30.00" and row.after["role"] == "agent" and row.actor == admin_person.user
