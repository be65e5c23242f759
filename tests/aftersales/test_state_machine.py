"""The case state machine: every allowed and every refused transition, the version check, authority."""

from decimal import Decimal

import pytest

from kefu.aftersales.enums import CaseState
from kefu.aftersales.models import Case, CaseEvent, CaseMoneyLine
from kefu.aftersales.services import TRANSITIONS, MoneyLineIn, case_open, case_transition
from kefu.approvals.models import AuthorityLimit
from kefu.core.errors import KefuError
from kefu.core.models import AuditLog

from .conftest import make_case

pytestmark = pytest.mark.django_db

ALL = [(a, b) for a in CaseState.values for b in CaseState.values]


def test_the_table_follows_the_spec():
    S = CaseState
    assert TRANSITIONS[S.OPEN] >= {S.WAITING_BUYER, S.WAITING_RETURN, S.REJECTED, S.ESCALATED}
    assert TRANSITIONS[S.WAITING_RETURN] >= {S.RECEIVED}
    assert TRANSITIONS[S.RECEIVED] == {S.INSPECTED, S.ESCALATED}
    assert TRANSITIONS[S.INSPECTED] >= {S.REFUNDED, S.RESHIPPED, S.COMPENSATED}
    for end in (S.REFUNDED, S.RESHIPPED, S.COMPENSATED):
        assert TRANSITIONS[end] == {S.CLOSED}
    assert TRANSITIONS[S.CLOSED] == frozenset()
    assert set(TRANSITIONS) == set(S.values)


@pytest.mark.parametrize("from_state,to", ALL)
def test_every_transition(shop, manager, from_state, to):
    case = make_case(shop, manager)
    Case.objects.filter(pk=case.pk).update(state=from_state)
    case.refresh_from_db()
    if to in TRANSITIONS[from_state]:
        out = case_transition(shop=shop, case=case, to=to, actor_agent=manager, expected_version=1, note="n")
        assert out.state == to and out.version == 2
        ev = case.events.order_by("-id").first()
        assert (ev.from_state, ev.to_state, ev.actor, ev.note) == (from_state, to, manager, "n")
        assert AuditLog.objects.filter(action=f"case.{to}", entity_id=str(case.pk)).exists()
    else:
        with pytest.raises(KefuError) as e:
            case_transition(shop=shop, case=case, to=to, actor_agent=manager, expected_version=1)
        assert e.value.code == "invalid_transition" and e.value.field == "to"
        case.refresh_from_db()
        assert case.state == from_state and case.version == 1
        assert case.events.count() == 1  # only the opening


def test_a_whole_return_records_its_timeline(shop, agent_person, order):
    case = make_case(shop, agent_person, order=order, amount="15")
    assert case.owner == agent_person and case.items.get().sku == "DRESS-M"
    path = ["waiting_return", "received", "inspected", "refunded", "closed"]
    for v, to in enumerate(path, start=1):
        case_transition(shop=shop, case=case, to=to, actor_agent=agent_person, expected_version=v)
    events = list(case.events.values_list("from_state", "to_state"))
    assert events == [("", "open"), ("open", "waiting_return"), ("waiting_return", "received"),
                      ("received", "inspected"), ("inspected", "refunded"), ("refunded", "closed")]
    line = case.money_lines.get()
    assert line.state == "done" and line.done_at is not None


def test_stale_version_is_refused(shop, manager):
    case = make_case(shop, manager)
    case_transition(shop=shop, case=case, to="waiting_buyer", actor_agent=manager, expected_version=1)
    with pytest.raises(KefuError) as e:
        case_transition(shop=shop, case=case, to="rejected", actor_agent=manager, expected_version=1)
    assert e.value.code == "stale_version" and e.value.field == "expected_version"
    case.refresh_from_db()
    assert case.state == "waiting_buyer" and case.version == 2


def test_refund_above_the_agents_authority_is_refused_naming_the_limit(shop, agent_person, supervisor, order):
    case = make_case(shop, agent_person, order=order, amount="45", type="refund_only")
    with pytest.raises(KefuError) as e:
        case_transition(shop=shop, case=case, to="refunded", actor_agent=agent_person, expected_version=1)
    assert e.value.code == "above_authority" and "¥20.00" in e.value.message and "supervisor" in e.value.message
    case.refresh_from_db()
    assert case.state == "open" and case.money_lines.get().state == "planned"
    # The supervisor (limit 50) may.
    case_transition(shop=shop, case=case, to="refunded", actor_agent=supervisor, expected_version=1)
    assert CaseMoneyLine.objects.get(case=case).state == "done"
    log = AuditLog.objects.get(action="case.refunded")
    assert log.after["paid"] == "45.00"


def test_within_authority_and_a_per_person_override(shop, agent_person):
    case = make_case(shop, agent_person, amount="12", type="compensation")
    case_transition(shop=shop, case=case, to="compensated", actor_agent=agent_person, expected_version=1)
    AuthorityLimit.objects.create(shop=shop, agent=agent_person, kind="compensation", limit=Decimal("100"))
    case2 = make_case(shop, agent_person, amount="80", type="compensation")
    case_transition(shop=shop, case=case2, to="compensated", actor_agent=agent_person, expected_version=1)


def test_money_without_a_person_is_refused_but_a_plain_step_is_not(shop, manager):
    case = make_case(shop, manager, amount="5")
    case_transition(shop=shop, case=case, to="waiting_buyer", actor_agent=None, expected_version=1)
    with pytest.raises(KefuError) as e:
        case_transition(shop=shop, case=case, to="refunded", actor_agent=None, expected_version=2)
    assert e.value.code == "person_required"
    # Nothing to pay: no authority needed.
    empty = make_case(shop, manager)
    case_transition(shop=shop, case=empty, to="refunded", actor_agent=None, expected_version=1)


def test_buyer_to_shop_lines_are_not_paid_out(shop, agent_person):
    case = case_open(shop=shop, actor_agent=agent_person, type="exchange", reason="wrong_size_ordered",
                     money_lines=[MoneyLineIn("goods", "buyer_to_shop", "15"), MoneyLineIn("shipping", "buyer_to_shop", "8")])
    case_transition(shop=shop, case=case, to="refunded", actor_agent=agent_person, expected_version=1)
    assert set(case.money_lines.values_list("state", flat=True)) == {"planned"}


@pytest.mark.parametrize("kwargs,field", [
    ({"type": "teleport"}, "type"),
    ({"reason": "bored"}, "reason"),
    ({"responsible": "aliens"}, "responsible"),
    ({"items": [("", 1)]}, "items.0.sku"),
    ({"items": [("X", 0)]}, "items.0.qty"),
    ({"money_lines": [MoneyLineIn("bribe", "shop_to_buyer", "1")]}, "money_lines.0.kind"),
    ({"money_lines": [MoneyLineIn("goods", "sideways", "1")]}, "money_lines.0.direction"),
    ({"money_lines": [MoneyLineIn("goods", "shop_to_buyer", "-1")]}, "money_lines.0.amount"),
    ({"money_lines": [MoneyLineIn("goods", "shop_to_buyer", "1.001")]}, "money_lines.0.amount"),
    ({"note": "x" * 501}, "note"),
])
def test_open_bad_input(shop, manager, kwargs, field):
    args = {"type": "return_refund", "reason": "quality", **kwargs}
    with pytest.raises(KefuError) as e:
        case_open(shop=shop, actor_agent=manager, **args)
    assert e.value.field == field
    assert Case.objects.count() == 0


def test_items_must_be_in_the_order(shop, manager, order):
    for items, field in (([("NOPE", 1)], "items.0.sku"), ([("DRESS-M", 3)], "items.0.qty")):
        with pytest.raises(KefuError) as e:
            case_open(shop=shop, actor_agent=manager, type="exchange", reason="quality", order=order, items=items)
        assert e.value.field == field


def test_transition_bad_input(shop, manager, other_shop):
    case = make_case(shop, manager)
    for kwargs, field in (({"to": "nowhere"}, "to"), ({"to": "closed", "expected_version": "1"}, "expected_version"),
                          ({"to": "closed", "note": 5}, "note")):
        with pytest.raises(KefuError) as e:
            case_transition(shop=shop, case=case, actor_agent=manager, **{"expected_version": 1, **kwargs})
        assert e.value.field == field
    with pytest.raises(KefuError) as e:
        case_transition(shop=other_shop, case=case, to="closed", actor_agent=None, expected_version=1)
    assert e.value.code == "not_found"
    assert CaseEvent.objects.filter(case=case).count() == 1
