"""The shop settings page and API (§12 settings, service hours, weights) and the rules list (AUTO-2)."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from kefu.core.models import AuditLog, SchedulerRun, Shop
from kefu.core.scheduler import jobs
from kefu.core.services import person_create

pytestmark = pytest.mark.django_db


def _form(shop, **over):
    data = {"name": shop.name, "timezone": shop.timezone, "attribution_basis": shop.attribution_basis,
            "holidays": "", "attribution_window_days": 3, "slow_turn_seconds": 180, "aftersales_lookback_days": 15,
            "takeback_days": 15, "conversation_gap_minutes": 30, "payment_reminder_minutes": 30,
            **{f"day_{i}": "00:00-24:00" for i in range(7)},
            "w_conversion_rate": "40", "w_avg_order_value": "20", "w_response_seconds": "20", "w_reply_rate": "20"}
    data.update(over)
    return data


def test_manager_changes_settings_and_service_hours(shop, manager_client):
    r = manager_client.get("/settings/")
    assert r.status_code == 200 and "服务时间" in r.content.decode()
    form = _form(shop, payment_reminder_minutes=20, day_5="", day_6="10:00-12:00，13:00-17:00",
                 holidays="2026-10-01\n2026-10-02", w_sales="10")
    for i in range(5):
        form[f"day_{i}"] = "09:00-18:00"
    r = manager_client.post("/settings/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    shop.refresh_from_db()
    assert shop.payment_reminder_minutes == 20
    assert shop.service_hours == {"weekly": {**{str(i): [["09:00", "18:00"]] for i in range(5)}, "5": [],
                                             "6": [["10:00", "12:00"], ["13:00", "17:00"]]},
                                  "holidays": ["2026-10-01", "2026-10-02"]}
    assert shop.score_weights["sales"] == 10.0
    assert AuditLog.objects.filter(shop=shop, action="shop.settings").exists()


def test_all_day_grid_stays_24h_and_unchanged_save_writes_nothing(shop, manager_client):
    r = manager_client.post("/settings/", _form(shop))
    assert r.status_code == 302
    shop.refresh_from_db()
    assert shop.service_hours == {}
    assert not AuditLog.objects.filter(shop=shop, action="shop.settings").exists()


def test_bad_input_names_the_field(shop, manager_client):
    r = manager_client.post("/settings/", _form(shop, day_2="9-18", holidays="tomorrow", timezone="Mars/Base",
                                                 payment_reminder_minutes=0))
    assert r.status_code == 400
    body = r.content.decode()
    assert "09:00-18:00" in body and "tomorrow" in body
    shop.refresh_from_db()
    assert shop.payment_reminder_minutes == 30


def test_supervisor_reads_agent_gets_404(shop, agent_person):
    sup = person_create(shop=shop, name="主管", username="sup", password="pass-word-1", roles=["supervisor"])
    c = Client()
    c.force_login(sup.user)
    assert c.get("/settings/").status_code == 200
    assert c.post("/settings/", _form(shop, payment_reminder_minutes=5)).status_code == 404
    c.force_login(agent_person.user)
    assert c.get("/settings/").status_code == 404


def test_rules_list_shows_every_job_and_its_last_firing(shop, manager_client):
    now = timezone.now()
    SchedulerRun.objects.create(job="metrics.rollup_audit", period="2026-11-01", shop=shop)
    body = manager_client.get("/settings/").content.decode()
    for job in jobs():
        assert job.name in body
    r = manager_client.get("/api/v1/rules?shop=s1").json()
    by_name = {x["name"]: x for x in r}
    assert set(by_name) == {j.name for j in jobs()}
    assert by_name["metrics.rollup_audit"]["fired_last_day"] == 1
    assert dt.datetime.fromisoformat(by_name["metrics.rollup_audit"]["last_fired_at"]) <= now + dt.timedelta(seconds=5)
    assert by_name["followups.payment_reminders"]["last_fired_at"] is None


def test_settings_api(shop, manager_client, api):
    assert api.get("/api/v1/shop/settings").json()["payment_reminder_minutes"] == 30
    # an integration token reads but does not change settings
    r = api.post("/api/v1/shop/settings", json.dumps({"slow_turn_seconds": 60}), content_type="application/json")
    assert r.status_code == 403
    r = manager_client.post("/api/v1/shop/settings?shop=s1", json.dumps({"slow_turn_seconds": 60}),
                            content_type="application/json")
    assert r.status_code == 200 and r.json()["slow_turn_seconds"] == 60
    r = manager_client.post("/api/v1/shop/settings?shop=s1", json.dumps({"score_weights": {"bogus": 1}}),
                            content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "score_weights"
    r = manager_client.post("/api/v1/shop/settings?shop=s1", json.dumps({"payment_reminder_minutes": 0}),
                            content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "payment_reminder_minutes"
    assert Shop.objects.get(pk=shop.pk).payment_reminder_minutes == 30
