"""The SlaAgentDay roll-up behind the KPI report's SLA figures: exact at every moment (dirty days are
counted raw until the scan recounts them), flat to read, and recounted when the time zone changes."""

import datetime as dt
import importlib
from collections import Counter

import pytest
from django.apps import apps
from django.db.models import Q

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import person_create
from kefu.core.timeutil import day_bounds
from kefu.customers.models import Customer
from kefu.customers.services import customer_spam_set
from kefu.metrics.kpi import kpi_report
from kefu.sla import rollup
from kefu.sla import services as S
from kefu.sla.models import SlaAgentDay, SlaClock, SlaDirty, SlaPolicy

from .conftest import MONDAY
from .test_figures import AGENTS, generate

pytestmark = pytest.mark.django_db
WEEK = (MONDAY - dt.timedelta(days=1), MONDAY + dt.timedelta(days=8))
NOW = dt.datetime.combine(MONDAY + dt.timedelta(days=6), dt.time(12), tzinfo=dt.UTC)


def direct(shop, day_from, day_to) -> dict:
    """agent name → (hit, missed), counted straight from the clock rows."""
    start, end = day_bounds(day_from, shop.tz)[0], day_bounds(day_to, shop.tz)[1]
    qs = SlaClock.objects.filter(shop=shop, agent__isnull=False, settled_at__gte=start, settled_at__lt=end).filter(
        Q(customer__isnull=True) | Q(customer__is_spam=False))
    c = Counter((name, state) for name, state in qs.values_list("agent__name", "state"))
    names = {n for n, _s in c}
    return {n: (c[(n, "hit")], c[(n, "missed")]) for n in names if c[(n, "hit")] or c[(n, "missed")]}


def reported(shop, day_from, day_to) -> dict:
    rows = kpi_report(shop=shop, date_from=day_from, date_to=day_to, by="agent")["agents"]
    return {r["agent"]: (r["sla_hit"], r["sla_missed"]) for r in rows if r["sla_clocks"]}


def ranges():
    return [WEEK, (MONDAY + dt.timedelta(days=1),) * 2, (MONDAY + dt.timedelta(days=2), MONDAY + dt.timedelta(days=4))]


@pytest.fixture
def loaded(shop):
    for pid, (name, group) in AGENTS.items():
        person_create(shop=shop, name=name, roles=["agent"], group=group, platform_ids=[pid])
    p = S.policies_install_defaults(shop=shop)[0]
    S.policy_update(shop=shop, editor=None, policy_id=p.pk, data={"next_reply_minutes": 10})
    rows = generate(7)
    half = len(rows) // 2
    for part in (rows[:half], rows[half:]):
        batch = [{**r, "sent_at": r["sent_at"].isoformat()} for r in part]
        messages_ingest(shop=shop, rows=messages_clean(batch, tz=shop.tz))
        S.sla_scan(shop=shop, now=NOW)
    return rows


def test_after_a_scan_the_report_reads_the_roll_up(shop, loaded):
    assert not SlaDirty.objects.filter(shop=shop).exists()
    assert SlaAgentDay.objects.filter(shop=shop).count() > 3
    assert rollup.differences(shop=shop) == []
    for r in ranges():
        assert reported(shop, *r) == direct(shop, *r) != {}


def test_changes_between_scans_are_counted_raw_until_recounted(shop, loaded):
    # Late history regroups conversations: their clocks are deleted (cascade) and marked dirty.
    late = [{"message_id": f"late{i}", "buyer_id": r["buyer_id"], "agent_id": r["agent_id"], "sender": "buyer",
             "sent_at": (r["sent_at"] + dt.timedelta(minutes=20)).isoformat(), "text": "还在吗", "order_id": ""}
            for i, r in enumerate(loaded[:60:3])]
    messages_ingest(shop=shop, rows=messages_clean(late, tz=shop.tz))
    assert SlaDirty.objects.filter(shop=shop).exists()
    for r in ranges():
        assert reported(shop, *r) == direct(shop, *r)
    S.sla_scan(shop=shop, now=NOW)
    assert not SlaDirty.objects.filter(shop=shop).exists() and rollup.differences(shop=shop) == []
    for r in ranges():
        assert reported(shop, *r) == direct(shop, *r)


def test_a_spam_flag_takes_the_buyers_clocks_out_at_once(shop, loaded):
    buyer = Customer.objects.get(shop=shop, pk=SlaClock.objects.filter(shop=shop, settled_at__isnull=False)
                                 .values_list("customer_id", flat=True).first())
    before = sum(h + m for h, m in reported(shop, *WEEK).values())
    customer_spam_set(shop=shop, customer=buyer, spam=True)
    assert sum(h + m for h, m in reported(shop, *WEEK).values()) < before
    assert reported(shop, *WEEK) == direct(shop, *WEEK)
    S.sla_scan(shop=shop, now=NOW)
    assert reported(shop, *WEEK) == direct(shop, *WEEK) and rollup.differences(shop=shop) == []


def test_a_time_zone_change_recounts_every_day(shop, loaded):
    shop.timezone = "America/Los_Angeles"
    shop.save(update_fields=["timezone"])
    S.sla_scan(shop=shop, now=NOW)
    assert rollup.differences(shop=shop) == []
    for r in ranges():
        assert reported(shop, *r) == direct(shop, *r)


def test_the_migration_marks_existing_days(shop, loaded):
    SlaAgentDay.objects.filter(shop=shop).delete()
    assert rollup.differences(shop=shop) != []
    importlib.import_module("kefu.sla.migrations.0002_sla_agent_day_rollup").mark_existing(apps, None)
    assert rollup.differences(shop=shop) == []  # every day is dirty: counted raw
    assert reported(shop, *WEEK) == direct(shop, *WEEK)
    S.sla_scan(shop=shop, now=NOW)
    assert not SlaDirty.objects.filter(shop=shop).exists() and rollup.differences(shop=shop) == []


def test_policy_change_rebuild_keeps_the_roll_up_right(shop, loaded):
    p = SlaPolicy.objects.filter(shop=shop, next_reply_minutes=10).first()
    S.policy_update(shop=shop, editor=None, policy_id=p.pk, data={"next_reply_minutes": 3})
    S.sla_scan(shop=shop, now=NOW)
    assert rollup.differences(shop=shop) == []
    assert reported(shop, *WEEK) == direct(shop, *WEEK)


def test_deleting_a_shop_with_clocks_leaves_no_dirty_rows_behind(db):
    # A shop with audit rows cannot be deleted (they are PROTECTed; shops are archived instead), but
    # one that only ever received messages can, and its cascade must not re-mark its days.
    from kefu.core.models import AuditLog, Shop

    shop = Shop.objects.create(code="gone", name="gone", timezone="Asia/Shanghai")
    from kefu.sla.services import DEFAULT_POLICIES

    for spec in DEFAULT_POLICIES:  # written directly: the service audits, and audit rows keep a shop
        SlaPolicy.objects.create(shop=shop, **spec)
    batch = [{**r, "sent_at": r["sent_at"].isoformat()} for r in generate(2)]
    messages_ingest(shop=shop, rows=messages_clean(batch, tz=shop.tz))
    S.sla_scan(shop=shop, now=NOW)
    assert SlaClock.objects.filter(shop=shop).exists() and not AuditLog.objects.filter(shop=shop).exists()
    shop_id = shop.pk
    Shop.objects.filter(pk=shop_id).delete()
    assert not SlaDirty.objects.filter(shop_id=shop_id).exists()
