"""Defect 8 of issue 11: tokens listed and revoked (CLI, API, settings page); SECRET_KEY never in the
source; Secure cookies, HSTS and the proxy header with KEFU_HTTPS=1."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from kefu.core.models import AuditLog, IntegrationToken
from kefu.core.services import person_create, token_create

REPO = Path(__file__).resolve().parents[2]


def bearer(raw):
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.mark.django_db
def test_cli_lists_and_revokes(shop, capsys):
    tok, raw = token_create(shop=shop, name="erp")
    other, raw2 = token_create(shop=shop, name="wms")
    assert bearer(raw).get("/api/v1/shop/settings").status_code == 200  # sets last used
    call_command("shop", "tokens", "s1")
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 2 and raw not in out and tok.prefix in out
    erp = next(line for line in lines if "\terp\t" in line)
    assert "active" in erp and "last used never" not in erp
    assert "last used never" in next(line for line in lines if "\twms\t" in line)

    call_command("shop", "token-revoke", "s1", tok.prefix + "…")
    assert bearer(raw).get("/api/v1/shop/settings").status_code == 401
    call_command("shop", "token-revoke", "s1", str(other.id))
    assert bearer(raw2).get("/api/v1/shop/settings").status_code == 401
    with pytest.raises(CommandError, match="already revoked"):
        call_command("shop", "token-revoke", "s1", str(other.id))
    with pytest.raises(CommandError, match="no token"):
        call_command("shop", "token-revoke", "s1", "999999")
    capsys.readouterr()
    call_command("shop", "tokens", "s1")
    assert capsys.readouterr().out.count("revoked") == 2
    assert AuditLog.objects.filter(action="token.revoke").count() == 2


@pytest.mark.django_db
def test_api_manager_only(shop, other_shop, manager, agent_person, token):
    m = Client()
    m.force_login(manager.user)
    r = m.post("/api/v1/tokens?shop=s1", json.dumps({"name": "erp"}), content_type="application/json")
    assert r.status_code == 200, r.content
    created = r.json()
    assert created["token"].startswith("kf_") and created["name"] == "erp" and created["revoked_at"] is None
    listed = m.get("/api/v1/tokens?shop=s1").json()
    assert {t["name"] for t in listed} == {"test", "erp"} and all("token" not in t for t in listed)
    assert bearer(created["token"]).get("/api/v1/rules").status_code == 200

    a = Client()
    a.force_login(agent_person.user)
    assert a.get("/api/v1/tokens?shop=s1").status_code == 403
    assert a.post(f"/api/v1/tokens/{created['id']}/revoke?shop=s1").status_code == 403
    assert bearer(token).get("/api/v1/tokens").status_code == 403  # a token cannot see tokens
    assert bearer(token).post("/api/v1/tokens", json.dumps({"name": "x"}),
                              content_type="application/json").status_code == 403
    assert m.post("/api/v1/tokens?shop=s1", json.dumps({"name": " "}),
                  content_type="application/json").status_code == 400

    # Another shop's manager cannot revoke this shop's token by its id.
    boss = person_create(shop=other_shop, name="老板", username="boss", roles=["manager"], group="")
    b = Client()
    b.force_login(boss.user)
    assert b.post(f"/api/v1/tokens/{created['id']}/revoke?shop=s2").status_code == 404
    r = m.post(f"/api/v1/tokens/{created['id']}/revoke?shop=s1")
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert bearer(created["token"]).get("/api/v1/rules").status_code == 401
    assert m.post(f"/api/v1/tokens/{created['id']}/revoke?shop=s1").status_code == 409


@pytest.mark.django_db
def test_settings_page_tokens(shop, manager, agent_person, django_assert_max_num_queries):
    token_create(shop=shop, name="erp")
    m = Client()
    m.force_login(manager.user)
    page = m.get("/settings/").content.decode()
    assert 'id="tokens"' in page and "erp" in page
    r = m.post("/settings/tokens/", {"name": "新ERP"})
    html = r.content.decode()
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    tok = IntegrationToken.objects.get(name="新ERP")
    raw = html.split('id="new-token"')[1].split("<code")[1].split(">")[1].split("<")[0]
    assert raw.startswith(tok.prefix) and bearer(raw).get("/api/v1/rules").status_code == 200
    assert raw not in m.get("/settings/").content.decode()  # shown once
    r = m.post(f"/settings/tokens/{tok.id}/revoke/")
    assert r.status_code == 302
    tok.refresh_from_db()
    assert tok.revoked_at is not None and bearer(raw).get("/api/v1/rules").status_code == 401
    with django_assert_max_num_queries(12):
        m.get("/settings/")

    a = Client()
    a.force_login(agent_person.user)
    assert a.post("/settings/tokens/", {"name": "x"}).status_code == 404
    assert a.post(f"/settings/tokens/{tok.id}/revoke/").status_code == 404
    sup = person_create(shop=shop, name="主管", username="sup", roles=["supervisor"], group="")
    s = Client()
    s.force_login(sup.user)
    assert 'id="tokens"' not in s.get("/settings/").content.decode()
    assert s.post("/settings/tokens/", {"name": "x"}).status_code == 404
    assert not IntegrationToken.objects.filter(name="x").exists()


def _settings(env: dict, *names: str) -> dict:
    code = ("import json, django; from django.conf import settings; django.setup(); "
            f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}))")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, "DJANGO_SETTINGS_MODULE": "kefu.settings", **env},
                         cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_secret_key_generated_once_into_the_data_dir(tmp_path):
    first = _settings({"KEFU_DATA_DIR": str(tmp_path)}, "SECRET_KEY")["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first and len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _settings({"KEFU_DATA_DIR": str(tmp_path)}, "SECRET_KEY")["SECRET_KEY"] == first
    other = _settings({"KEFU_DATA_DIR": str(tmp_path / "other")}, "SECRET_KEY")["SECRET_KEY"]
    assert other != first
    given = _settings({"KEFU_DATA_DIR": str(tmp_path), "KEFU_SECRET_KEY": "from-the-environment-" * 3},
                      "SECRET_KEY")["SECRET_KEY"]
    assert given == "from-the-environment-" * 3
    # No key is written in the source any more.
    assert "SECRET_KEY = os.environ.get(\"KEFU_SECRET_KEY\") or" not in (REPO / "kefu" / "settings.py").read_text()


def test_https_switch(tmp_path):
    names = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER")
    off = _settings({"KEFU_DATA_DIR": str(tmp_path)}, *names)
    assert off == {"SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False, "SECURE_HSTS_SECONDS": 0,
                   "SECURE_PROXY_SSL_HEADER": None}
    on = _settings({"KEFU_DATA_DIR": str(tmp_path), "KEFU_HTTPS": "1"}, *names)
    assert on["SESSION_COOKIE_SECURE"] and on["CSRF_COOKIE_SECURE"] and on["SECURE_HSTS_SECONDS"] >= 31536000
    assert on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.django_db
def test_https_responses_carry_hsts_and_secure_cookies(settings, manager):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    c = Client(HTTP_X_FORWARDED_PROTO="https")
    r = c.get("/login/")
    assert r["Strict-Transport-Security"].startswith("max-age=31536000")
    r = c.post("/login/", {"username": "mgr", "password": "pass-word-1"})
    assert r.status_code == 302 and r.cookies["sessionid"]["secure"] is True
