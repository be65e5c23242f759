"""Login rate limiting: after N failures for one (address, username), wait before trying again."""

from django.conf import settings
from django.core.cache import cache


def _key(request, username: str) -> str:
    addr = request.META.get("REMOTE_ADDR", "")
    return f"login-fail:{addr}:{username.lower()[:150]}"


def login_allowed(request, username: str) -> bool:
    return cache.get(_key(request, username), 0) < settings.LOGIN_MAX_FAILURES


def login_failed(request, username: str) -> None:
    key = _key(request, username)
    cache.add(key, 0, settings.LOGIN_LOCK_SECONDS)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, settings.LOGIN_LOCK_SECONDS)


def login_succeeded(request, username: str) -> None:
    cache.delete(_key(request, username))
