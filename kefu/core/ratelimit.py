"""Login rate limiting: N tries per (address, username) and window, then locked for the window.

The username is counted as login reads it (trimmed, NFKC, and case-folded on top so that case
variants share one counter), so " victim", "ｖｉｃｔｉｍ" or "Victim" cannot buy fresh tries. A try is
taken *before* the password is checked, by one conditional UPDATE, so concurrent requests cannot
all pass the check: exactly N of them get to try.
"""

import datetime as dt
import unicodedata

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from .models import LoginThrottle


def normalise_username(raw) -> str:
    """What Django's AuthenticationForm does to a username (strip, NFKC), then case-folded."""
    return unicodedata.normalize("NFKC", str(raw or "").strip()).casefold()[:150]


def _key(request, username: str) -> str:
    addr = request.META.get("REMOTE_ADDR", "")[:60]
    return f"{addr}:{normalise_username(username)}"


def login_try_begin(request, username: str) -> bool:
    """Take one try for this address and username; False when they are used up (locked)."""
    key = _key(request, username)
    now = timezone.now()
    until = now + dt.timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
    limit = settings.LOGIN_MAX_FAILURES
    for _ in range(3):
        taken = LoginThrottle.objects.filter(Q(tries__lt=limit) | Q(expires_at__lte=now), key=key).update(
            tries=Case(When(expires_at__lte=now, then=Value(1)), default=F("tries") + 1), expires_at=until,
        )
        if taken:
            return True
        if LoginThrottle.objects.filter(key=key).exists():
            return False
        try:
            with transaction.atomic():
                LoginThrottle.objects.create(key=key, tries=1, expires_at=until)
            return True
        except IntegrityError:
            continue  # another request created it first: count against that row
    return False


def login_succeeded(request, username: str) -> None:
    """The password was right: the tries start again (and stale rows of other keys go)."""
    LoginThrottle.objects.filter(Q(key=_key(request, username)) | Q(expires_at__lte=timezone.now())).delete()
