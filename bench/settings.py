"""Kefu's settings plus one trivial view (the benchmarks' reference point for a Django request)."""

from kefu.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
