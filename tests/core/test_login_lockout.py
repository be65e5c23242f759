"""Defect 2 of issue 11: the lockout counts tries under the username login reads, exactly, even concurrently."""

import pytest
from django.test import Client

from kefu.core.models import LoginThrottle
from kefu.core.ratelimit import normalise_username
from tests.concurrency import race, require_postgresql

VARIANTS = [" mgr", "mgr ", "\tmgr", "ｍｇｒ", "MGR", "Mgr\n"]


def test_normalise_username_matches_what_login_reads():
    from django.contrib.auth.forms import UsernameField

    for v in VARIANTS:
        assert normalise_username(v) == "mgr"
        # Django's own login field reads each variant as the same text up to case.
        assert UsernameField().clean(v).casefold() == "mgr"


@pytest.mark.django_db
def test_variants_of_the_username_share_one_lock(manager, settings):
    settings.LOGIN_MAX_FAILURES = 3
    c = Client()
    for _ in range(3):
        assert c.post("/login/", {"username": "mgr", "password": "wrong"}).status_code == 200
    for v in VARIANTS:
        r = c.post("/login/", {"username": v, "password": "wrong"})
        assert r.status_code == 429, v
    # The right password under any spelling is refused while locked.
    for v in ["mgr", *VARIANTS]:
        r = c.post("/login/", {"username": v, "password": "pass-word-1"})
        assert r.status_code == 429, v
    assert LoginThrottle.objects.get().tries == 3


@pytest.mark.django_db
def test_a_success_resets_and_the_window_expires(manager, settings):
    import datetime as dt

    from django.utils import timezone

    settings.LOGIN_MAX_FAILURES = 2
    c = Client()
    c.post("/login/", {"username": "mgr", "password": "wrong"})
    assert c.post("/login/", {"username": " mgr", "password": "pass-word-1"}).status_code == 302
    assert not LoginThrottle.objects.exists()
    c = Client()
    for _ in range(2):
        c.post("/login/", {"username": "mgr", "password": "wrong"})
    assert c.post("/login/", {"username": "mgr", "password": "pass-word-1"}).status_code == 429
    LoginThrottle.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert c.post("/login/", {"username": "mgr", "password": "pass-word-1"}).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_get_exactly_the_allowed_tries(settings):
    require_postgresql()
    from kefu.core.services import person_create, shop_create

    shop = shop_create(code="s1", name="店")
    person_create(shop=shop, name="经理", username="mgr", password="pass-word-1", roles=["manager"], group="")
    settings.LOGIN_MAX_FAILURES = 5

    def attempt(username):
        return Client().post("/login/", {"username": username, "password": "wrong"}).status_code

    # 30 at once, spread over the spellings an attacker would use.
    names = [VARIANTS[i % len(VARIANTS)] for i in range(30)]
    codes = race(attempt, [(n,) for n in names])
    assert sorted(codes) == [200] * 5 + [429] * 25, codes
    assert LoginThrottle.objects.get().tries == 5
