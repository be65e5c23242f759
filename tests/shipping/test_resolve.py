"""Resolving issues: an action of the issue's kind is required, who may act, the timeline and audit."""

import datetime as dt

import pytest

from kefu.catalog.models import Sku
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.models import AuditLog
from kefu.shipping.models import ShippingIssue
from kefu.shipping.services import issue_resolve, shipping_audit_run

from .conftest import NOW, order, sku

H = dt.timedelta(hours=1)


@pytest.fixture
def issues(shop, customer):
    sku(shop, "A", stock=0)
    order(shop, customer, "late1", paid_at=NOW - 30 * H)
    order(shop, customer, "oos1", paid_at=NOW - H, items=[("A", 1)])
    shipping_audit_run(shop=shop, now=NOW)
    return {i.kind: i for i in ShippingIssue.objects.filter(shop=shop)}


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["", None, "dismiss", "ignore", "aftercare_done", "auto_shipped", "create"])
def test_resolution_requires_an_action_of_the_kind(shop, agent_person, issues, action):
    with pytest.raises(KefuError) as exc:
        issue_resolve(shop=shop, issue_id=issues["late"].pk, action=action, actor=agent_person)
    assert exc.value.field == "action"
    issue = ShippingIssue.objects.get(pk=issues["late"].pk)
    assert issue.state == "open" and issue.events.count() == 1


@pytest.mark.django_db
def test_resolve_records_action_person_and_time(shop, agent_person, issues):
    issue = issue_resolve(shop=shop, issue_id=issues["late"].pk, action="urge_warehouse", actor=agent_person,
                          note="仓库说今天下午发", now=NOW + H)
    assert (issue.state, issue.resolution, issue.resolved_by, issue.resolved_at) == (
        "resolved", "urge_warehouse", agent_person, NOW + H)
    ev = issue.events.last()
    assert (ev.action, ev.from_state, ev.to_state, ev.actor, ev.note) == (
        "urge_warehouse", "open", "resolved", agent_person, "仓库说今天下午发")
    log = AuditLog.objects.get(action="shipping_issue.urge_warehouse")
    assert log.after["order"] == "late1" and log.after["by"] == "小美"
    with pytest.raises(KefuError) as exc:
        issue_resolve(shop=shop, issue_id=issue.pk, action="buyer_wait", actor=agent_person)
    assert exc.value.code == "invalid_transition"


@pytest.mark.django_db
def test_stock_issue_resolved_with_delist(shop, agent_person, issues):
    issue = issue_resolve(shop=shop, issue_id=issues["out_of_stock"].pk, action="buyer_swap", actor=agent_person,
                          delist=True)
    assert issue.resolution == "buyer_swap"
    a = Sku.objects.get(code="A")
    assert not a.listed and a.delisted_at is not None and a.events.get().action == "delist"
    with pytest.raises(KefuError) as exc:
        issue_resolve(shop=shop, issue_id=issues["late"].pk, action="buyer_wait", actor=agent_person, delist=True)
    assert exc.value.field == "delist"


@pytest.mark.django_db
def test_warehouse_sees_and_ships_only_delayed_orders(shop, warehouse, issues):
    with pytest.raises(NotFound):
        issue_resolve(shop=shop, issue_id=issues["out_of_stock"].pk, action="buyer_wait", actor=warehouse)
    with pytest.raises(PermissionDenied):
        issue_resolve(shop=shop, issue_id=issues["late"].pk, action="buyer_refund", actor=warehouse)
    issue = issue_resolve(shop=shop, issue_id=issues["late"].pk, action="shipped", actor=warehouse)
    assert issue.resolved_by == warehouse


@pytest.mark.django_db
def test_other_shop_issue_is_not_found(shop, other_shop, issues):
    with pytest.raises(NotFound):
        issue_resolve(shop=other_shop, issue_id=issues["late"].pk, action="shipped", actor=None)
