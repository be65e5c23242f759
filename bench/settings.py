"""Kefu's settings plus one trivial view (the benchmarks' reference point for a Django request)."""

from kefu.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The live bench sends from one address as fast as the server answers: the widget's limits still
# run (their cost is part of the path) but never refuse.
KEFU_LIVE_LIMITS = {name: [10**9, 60] for name in (
    "session_ip", "message_visitor", "message_ip", "upload_visitor", "typing_visitor", "read_visitor", "rating_visitor")}
