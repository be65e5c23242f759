"""The production-alert rule (AFT-8): thresholds, windows in shop days, one alert per burst, idempotent
scans, notifications once, new bursts after acknowledge/close."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from kefu.approvals.models import Notification
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.scheduler import tick
from kefu.core.services import person_create
from kefu.defects import services
from kefu.defects.enums import AlertState
from kefu.defects.models import AlertCase, AlertEvent, ProductionAlert

from .conftest import SH, open_case

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A moment of November 2026 in shop time (UTC+8)."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH)


def scan(shop, now=NOW):
    return services.alerts_scan(shop=shop, now=now)


@pytest.mark.django_db
def test_exactly_three_buyers_on_day_1_and_day_7_raise_one_alert(shop, manager):
    # 00:00 of day 1 and 23:59 of day 7 in shop time: exactly the 7-day window.
    open_case(shop, at(10, 0, 0), buyer="b1")
    open_case(shop, at(13), buyer="b2")
    assert scan(shop).raised == []
    open_case(shop, at(16, 23, 59), buyer="b3")
    res = scan(shop)
    assert len(res.raised) == 1
    alert = res.raised[0]
    assert (alert.sku, alert.batch, alert.reason, alert.state) == ("DRESS-M", "", "quality", AlertState.OPEN)
    assert (alert.case_count, alert.buyer_count) == (3, 3)
    assert Notification.objects.filter(recipient=manager).count() == 1
    assert "DRESS-M" in Notification.objects.get(recipient=manager).text


@pytest.mark.django_db
def test_day_8_is_outside_the_window_even_a_minute_after_midnight_shop_time(shop, manager):
    open_case(shop, at(10, 23, 59), buyer="b1")
    open_case(shop, at(13), buyer="b2")
    # 00:01 on the 17th in Shanghai is still the 16th in UTC: the shop's day counts, not UTC's.
    open_case(shop, at(17, 0, 1), buyer="b3")
    assert scan(shop).raised == []
    assert ProductionAlert.objects.count() == 0


@pytest.mark.django_db
def test_utc_day_does_not_matter_shop_day_does(shop, manager):
    # 23:30 UTC on Nov 9 is 07:30 on Nov 10 in the shop: day 1 is the 10th, so the 16th is day 7.
    open_case(shop, dt.datetime(2026, 11, 9, 23, 30, tzinfo=dt.UTC), buyer="b1")
    open_case(shop, at(12), buyer="b2")
    open_case(shop, at(16, 22), buyer="b3")
    assert len(scan(shop).raised) == 1


@pytest.mark.django_db
def test_two_buyers_are_not_enough_and_one_buyer_three_times_counts_once(shop, manager):
    for d in (10, 11, 12):
        open_case(shop, at(d), buyer="b1")
    open_case(shop, at(12, 13), buyer="b2")
    assert scan(shop).raised == []
    open_case(shop, at(13), buyer="b3")
    alert = scan(shop).raised[0]
    assert (alert.buyer_count, alert.case_count) == (3, 5)


@pytest.mark.django_db
def test_other_reasons_and_other_skus_do_not_count(shop, manager):
    open_case(shop, at(10), buyer="b1")
    open_case(shop, at(11), buyer="b2", reason="changed_mind")
    open_case(shop, at(11), buyer="b3", sku="BELT")
    assert scan(shop).raised == []
    # allergy is a counted reason by default, but a separate (SKU, reason) key
    open_case(shop, at(12), buyer="b4", reason="allergy")
    assert scan(shop).raised == []


@pytest.mark.django_db
def test_later_cases_join_the_open_alert_and_scans_do_not_duplicate_or_renotify(shop, manager, supervisor):
    second = person_create(shop=shop, name="二号经理", username="mgr2", password="pass-word-1", roles=["manager"])
    for i, d in enumerate((10, 11, 12)):
        open_case(shop, at(d), buyer=f"b{i}")
    first = scan(shop).raised[0]
    for _ in range(3):
        again = scan(shop)
        assert again.raised == [] and again.bumped == []
    assert Notification.objects.filter(recipient=manager).count() == 1
    assert Notification.objects.filter(recipient=second).count() == 1
    assert Notification.objects.filter(recipient=supervisor).count() == 0
    open_case(shop, at(19), buyer="b9")  # outside the first burst's window, but the alert is still open
    res = scan(shop)
    assert res.raised == [] and [a.pk for a in res.bumped] == [first.pk]
    first.refresh_from_db()
    assert (first.case_count, first.buyer_count) == (4, 4)
    assert first.last_case_at == at(19)
    assert ProductionAlert.objects.count() == 1
    assert Notification.objects.filter(recipient=manager).count() == 1
    assert list(AlertEvent.objects.filter(alert=first).values_list("action", "case_count")) == [
        ("raise", 3), ("attach", 1)]


@pytest.mark.django_db
@pytest.mark.parametrize("action,note", [("acknowledge", "已通知工厂"), ("close", "")])
def test_after_acknowledge_or_close_a_new_burst_raises_a_new_alert(shop, manager, action, note):
    for i, d in enumerate((10, 11, 12)):
        open_case(shop, at(d), buyer=f"b{i}")
    first = scan(shop).raised[0]
    services.alert_act(shop=shop, alert_id=first.pk, action=action, actor=manager, note=note)
    open_case(shop, at(13), buyer="b5")
    open_case(shop, at(14), buyer="b6")
    assert scan(shop).raised == []  # the old burst's cases do not count again
    open_case(shop, at(15), buyer="b7")
    second = scan(shop).raised[0]
    assert second.pk != first.pk and second.case_count == 3
    assert Notification.objects.filter(recipient=manager).count() == 2
    first.refresh_from_db()
    assert first.case_count == 3


@pytest.mark.django_db
def test_batches_split_alerts(shop, manager):
    cases = [open_case(shop, at(10 + i), buyer=f"b{i}") for i in range(4)]
    services.batch_set(shop=shop, actor=manager, case_id=cases[0].pk, sku="DRESS-M", batch="B2611")
    services.batch_set(shop=shop, actor=manager, case_id=cases[1].pk, sku="DRESS-M", batch="B2611")
    assert scan(shop).raised == []  # two in batch B2611, two of unknown batch
    services.batch_set(shop=shop, actor=manager, case_id=cases[2].pk, sku="DRESS-M", batch="B2611")
    alert = scan(shop).raised[0]
    assert alert.batch == "B2611" and alert.case_count == 3
    with pytest.raises(KefuError) as e:
        services.batch_set(shop=shop, actor=manager, case_id=cases[3].pk, sku="NOPE", batch="B1")
    assert e.value.field == "sku"


@pytest.mark.django_db
def test_unique_constraints_hold(shop, manager):
    for i, d in enumerate((10, 11, 12)):
        open_case(shop, at(d), buyer=f"b{i}")
    alert = scan(shop).raised[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductionAlert.objects.create(shop=shop, sku="DRESS-M", batch="", reason="quality", threshold=3,
                                       window_days=7, first_case_at=NOW, last_case_at=NOW)
    ac = AlertCase.objects.filter(alert=alert).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertCase.objects.create(shop=shop, alert=alert, case=ac.case, sku=ac.sku)


@pytest.mark.django_db
def test_rule_changes_threshold_window_and_reasons(shop, manager):
    services.rule_update(shop=shop, editor=manager, threshold=2, window_days=2, reasons=["quality", "wrong_item"])
    open_case(shop, at(10, 0, 5), buyer="b1", reason="wrong_item")
    open_case(shop, at(12, 23), buyer="b2", reason="wrong_item")  # day 3 of a 2-day window
    assert scan(shop, now=at(13, 0, 30)).raised == []
    assert scan(shop, now=at(13, 12)).raised == []
    open_case(shop, at(13, 1), buyer="b3", reason="wrong_item")
    alert = scan(shop, now=at(13, 12)).raised[0]
    assert (alert.reason, alert.threshold, alert.window_days, alert.case_count) == ("wrong_item", 2, 2, 2)


@pytest.mark.django_db
@pytest.mark.parametrize("kw,field", [({"threshold": 1}, "threshold"), ({"threshold": "3"}, "threshold"),
                                      ({"window_days": 0}, "window_days"), ({"window_days": True}, "window_days"),
                                      ({"reasons": []}, "reasons"), ({"reasons": ["quality", "bogus"]}, "reasons.1")])
def test_rule_bad_input_names_the_field(shop, manager, kw, field):
    with pytest.raises(KefuError) as e:
        services.rule_update(shop=shop, editor=manager, **kw)
    assert e.value.field == field


@pytest.mark.django_db
def test_only_managers_act(shop, supervisor, agent_person, manager):
    for i, d in enumerate((10, 11, 12)):
        open_case(shop, at(d), buyer=f"b{i}")
    alert = scan(shop).raised[0]
    for person in (supervisor, agent_person):
        with pytest.raises(PermissionDenied):
            services.alert_act(shop=shop, alert_id=alert.pk, action="acknowledge", actor=person, note="x")
        with pytest.raises(PermissionDenied):
            services.rule_update(shop=shop, editor=person, threshold=5)
    with pytest.raises(KefuError) as e:
        services.alert_act(shop=shop, alert_id=alert.pk, action="acknowledge", actor=manager, note="  ")
    assert e.value.field == "note"
    services.alert_act(shop=shop, alert_id=alert.pk, action="acknowledge", actor=manager, note="已通知工厂")
    with pytest.raises(KefuError) as e:
        services.alert_act(shop=shop, alert_id=alert.pk, action="acknowledge", actor=manager, note="again")
    assert e.value.code == "invalid_transition"
    services.alert_act(shop=shop, alert_id=alert.pk, action="close", actor=manager)
    alert.refresh_from_db()
    assert alert.state == "closed" and alert.note == "已通知工厂"
    assert list(alert.events.values_list("action", flat=True)) == ["raise", "acknowledge", "close"]


@pytest.mark.django_db
def test_scheduler_job_fires_once_per_slot_and_only_with_pending_reports(shop, manager, settings,
                                                                        django_capture_on_commit_callbacks):
    from kefu.defects.jobs import _scan_period

    now = dt.datetime.now(dt.UTC)
    assert _scan_period(shop, now) is None
    for i in range(3):
        open_case(shop, now - dt.timedelta(hours=i + 1), buyer=f"b{i}")
    assert _scan_period(shop, now) is not None
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        fired = [f for f in tick(now) if f[0] == "defects.production_alerts"]
    assert len(fired) == 1
    assert [f for f in tick(now) if f[0] == "defects.production_alerts"] == []  # same slot: not again
    assert ProductionAlert.objects.filter(shop=shop).count() == 1
    assert _scan_period(shop, now) is None  # nothing new since the scan
    open_case(shop, now - dt.timedelta(minutes=5), buyer="x1", sku="OTHER")  # one report: below threshold
    assert _scan_period(shop, now) is not None
    services.alerts_scan(shop=shop, now=now)
    assert _scan_period(shop, now) is None  # a lone report does not keep the job firing
    open_case(shop, now - dt.timedelta(minutes=5), buyer="x2", sku="OTHER", reason="changed_mind")
    assert _scan_period(shop, now) is None  # not a counted reason
    services.rule_update(shop=shop, editor=manager, reasons=["quality", "changed_mind"])
    assert _scan_period(shop, now) is not None  # a new rule looks again
