import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client

from kefu.core.errors import KefuError
from kefu.core.models import Agent, AgentAccount, AuditLog, IntegrationToken, SchedulerRun
from kefu.core.scheduler import tick
from kefu.core.services import (
    agents_resolve,
    person_create,
    shop_create,
    shop_settings_update,
    token_authenticate,
    token_create,
)
from kefu.core.timeutil import ServiceHours, parse_moment, zone


@pytest.mark.django_db
def test_shop_create_validates_and_audits():
    shop = shop_create(code="tmall-1", name="天猫店")
    assert shop.timezone == "Asia/Shanghai"
    assert AuditLog.objects.filter(shop=shop, action="shop.create").count() == 1
    with pytest.raises(KefuError) as e:
        shop_create(code="tmall-1", name="again")
    assert e.value.field == "code"
    with pytest.raises(KefuError) as e:
        shop_create(code="x", name="x", timezone_name="Mars/Olympus")
    assert e.value.field == "timezone"
    with pytest.raises(KefuError):
        shop_create(code="bad code!", name="x")


@pytest.mark.django_db
def test_audit_rows_are_append_only(shop):
    row = AuditLog.objects.filter(shop=shop).first()
    row.action = "changed"
    with pytest.raises(ValueError):
        row.save()
    with pytest.raises(ValueError):
        row.delete()


@pytest.mark.django_db
def test_person_roles_and_platform_ids(shop):
    a = person_create(shop=shop, name="阿福", username="afu", password="pass-word-1",
                      roles=["agent", "supervisor"], group="aftersales", platform_ids=["店:阿福"])
    assert a.has_role("supervisor") and a.user.check_password("pass-word-1")
    assert a.user.password.startswith("argon2")
    assert agents_resolve(shop=shop, platform_ids={"店:阿福"}) == {"店:阿福": a.id}
    with pytest.raises(KefuError) as e:
        person_create(shop=shop, name="阿福")
    assert e.value.field == "name"
    with pytest.raises(KefuError):
        person_create(shop=shop, name="x", roles=["boss"])


@pytest.mark.django_db
def test_agents_met_in_data_are_created_once(shop):
    first = agents_resolve(shop=shop, platform_ids={"a1", "a2"})
    again = agents_resolve(shop=shop, platform_ids={"a1", "a2", "a3"})
    assert first.items() <= again.items()
    assert Agent.objects.filter(shop=shop).count() == 3
    assert AgentAccount.objects.filter(shop=shop).count() == 3


@pytest.mark.django_db
def test_tokens_are_stored_hashed(shop):
    tok, raw = token_create(shop=shop, name="erp")
    assert raw not in tok.token_hash and IntegrationToken.objects.filter(token_hash=raw).count() == 0
    assert token_authenticate(raw).shop == shop
    assert token_authenticate(raw + "x") is None
    assert token_authenticate("") is None
    tok.revoked_at = tok.created_at
    tok.save()
    assert token_authenticate(raw) is None


@pytest.mark.django_db
def test_settings_update_validates_audits_and_rebuilds(shop):
    with pytest.raises(KefuError) as e:
        shop_settings_update(shop=shop, timezone="Nowhere/City")
    assert e.value.field == "timezone"
    with pytest.raises(KefuError):
        shop_settings_update(shop=shop, colour="red")
    shop = shop_settings_update(shop=shop, slow_turn_seconds=60)
    assert shop.slow_turn_seconds == 60
    log = AuditLog.objects.get(shop=shop, action="shop.settings")
    assert log.before == {"slow_turn_seconds": 180} and log.after == {"slow_turn_seconds": 60}


@pytest.mark.django_db
def test_scheduler_fires_once_per_period(shop):
    late_night = dt.datetime(2026, 11, 2, 19, 30, tzinfo=dt.UTC)  # 03:30 in Shanghai on 11-03
    nightly = [f for f in tick(late_night) if f[0] == "metrics.rollup_audit"]
    assert nightly == [("metrics.rollup_audit", "s1", "2026-11-03")]
    assert tick(late_night + dt.timedelta(minutes=5)) == []  # a restart or second scheduler fires nothing
    early = dt.datetime(2026, 11, 2, 18, 0, tzinfo=dt.UTC)  # 02:00 local: not yet
    assert [f for f in tick(early) if f[0] == "metrics.rollup_audit"] == []
    assert SchedulerRun.objects.filter(job="metrics.rollup_audit").count() == 1


@pytest.mark.django_db
def test_scheduler_task_runs_the_audit(shop, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from kefu.metrics.tasks import rollup_audit

    result = rollup_audit.enqueue(shop.id)
    assert result.return_value == 0


def test_parse_moment_and_service_hours():
    sh = zone("Asia/Shanghai")
    assert parse_moment("2026-11-01 08:00:00", sh) == dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC)
    assert parse_moment("2026-11-01T08:00:00+00:00", sh).hour == 8
    assert parse_moment("2020/2/21 0:00", sh) == dt.datetime(2020, 2, 20, 16, 0, tzinfo=dt.UTC)
    assert parse_moment("Tue Oct 31 22:10:47 +0000 2017", sh).hour == 22
    with pytest.raises(ValueError):
        parse_moment("yesterday", sh)
    hours = ServiceHours({"weekly": {str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(7)},
                          "holidays": ["2026-11-03"]}, sh)
    start = parse_moment("2026-11-01 11:59:00", sh)
    assert hours.business_seconds(start, parse_moment("2026-11-01 13:01:00", sh)) == 120
    # Across midnight and a holiday: 17:00→18:00 on 11-02, nothing on 11-03, 09:00→09:10 on 11-04.
    assert hours.business_seconds(parse_moment("2026-11-02 17:00", sh), parse_moment("2026-11-04 09:10", sh)) == 3600 + 600
    assert ServiceHours({}, sh).business_seconds(start, start + dt.timedelta(hours=30)) == 30 * 3600


@pytest.mark.django_db
def test_login_is_rate_limited(manager, settings):
    settings.LOGIN_MAX_FAILURES = 3
    c = Client()
    for _ in range(3):
        assert c.post("/login/", {"username": "mgr", "password": "wrong"}).status_code == 200
    r = c.post("/login/", {"username": "mgr", "password": "pass-word-1"})
    assert r.status_code == 429  # locked even with the right password
    ok = Client(REMOTE_ADDR="10.9.9.9").post("/login/", {"username": "mgr", "password": "pass-word-1"})
    assert ok.status_code == 302


@pytest.mark.django_db
def test_session_api_writes_need_csrf(manager):
    c = Client(enforce_csrf_checks=True)
    c.force_login(manager.user)
    r = c.post("/api/v1/messages?shop=s1", "{}", content_type="application/json")
    assert r.status_code in (401, 403)


@pytest.mark.django_db
def test_cli_shop_commands(capsys):
    call_command("shop", "add", "jd-1", "--name", "京东店", "--timezone", "Asia/Shanghai")
    call_command("shop", "token", "jd-1", "erp")
    assert "kf_" in capsys.readouterr().out
    call_command("shop", "person", "jd-1", "小王", "--username", "wang", "--password", "pass-word-1",
                 "--roles", "agent", "--platform-id", "jd:小王")
    assert Agent.objects.get(name="小王").accounts.get().platform_id == "jd:小王"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("shop", "token", "nope", "erp")


@pytest.mark.django_db
def test_cli_shop_settings(shop, capsys):
    call_command("shop", "set", "s1", "slow_turn_seconds=120", 'service_hours={"weekly": {"0": [["09:00", "18:00"]]}}')
    call_command("shop", "show", "s1")
    out = capsys.readouterr().out
    assert '"slow_turn_seconds": 120' in out and '"09:00"' in out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("shop", "set", "s1", "attribution_window_days=-3")
    with pytest.raises(CommandError):
        call_command("shop", "set", "s1", "nonsense")
    for bad in ('service_hours={"weekly": {"0": [["09:99", "18:00"]]}}', 'service_hours={"weekly": {"9": []}}',
                'service_hours=[1]', 'score_weights={"luck": 5}', 'score_weights={"sales": -1}'):
        with pytest.raises(CommandError):
            call_command("shop", "set", "s1", bad)
