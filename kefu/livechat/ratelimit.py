"""Fixed-window rate limits of the widget's public endpoints, shared by every web process.

One statement per check, atomic and exact on both databases (SQLite ≥ 3.35 and PostgreSQL share
the upsert syntax): INSERT … ON CONFLICT DO UPDATE SET count = count + 1 RETURNING count.
"""

import time
from dataclasses import dataclass

from django.db import connection

from kefu.core.errors import KefuError

from .enums import LiveError
from .models import RateCounter


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int


# Defaults (settings KEFU_LIVE_LIMITS may override per name: {"message_visitor": [20, 60], …}).
LIMITS = {
    "session_ip": Limit("session_ip", 30, 60),  # new widget sessions per address a minute
    "message_visitor": Limit("message_visitor", 20, 60),  # messages per visitor a minute
    "message_ip": Limit("message_ip", 60, 60),  # messages per address a minute (several visitors behind one NAT)
    "upload_visitor": Limit("upload_visitor", 10, 600),  # images per visitor in 10 minutes
    "typing_visitor": Limit("typing_visitor", 40, 60),
    "read_visitor": Limit("read_visitor", 60, 60),
    "rating_visitor": Limit("rating_visitor", 10, 600),
}


def _clock() -> float:
    return time.time()


def limit_for(name: str) -> Limit:
    from django.conf import settings

    custom = getattr(settings, "KEFU_LIVE_LIMITS", {}).get(name)
    return Limit(name, int(custom[0]), int(custom[1])) if custom else LIMITS[name]


def hit(*, name: str, subject: str, now: float | None = None) -> int:
    """Count one request of `subject` against the limit; return the count in the current window."""
    lim = limit_for(name)
    window = int((now if now is not None else _clock()) // lim.seconds) * lim.seconds
    table = RateCounter._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, 1) "
            f"ON CONFLICT (key, window_start) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [f"{name}:{subject}"[:200], window],
        )
        return cur.fetchone()[0]


def check(*, name: str, subject: str, now: float | None = None) -> None:
    """Raise rate_limited (HTTP 429) when `subject` has used up this window."""
    lim = limit_for(name)
    if hit(name=name, subject=subject, now=now) > lim.count:
        raise KefuError(f"too many requests: at most {lim.count} per {lim.seconds} s", field=name,
                        code=LiveError.RATE_LIMITED)


def counters_prune(*, now: float | None = None) -> int:
    """Drop windows that ended (the scheduler runs it)."""
    longest = max(limit_for(n).seconds for n in LIMITS)
    cutoff = int(now if now is not None else _clock()) - longest
    n, _ = RateCounter.objects.filter(window_start__lt=cutoff).delete()
    return n
