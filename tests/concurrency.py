"""Helpers for tests that race real threads against PostgreSQL."""

import threading

import pytest
from django.db import connection, connections

SKIP_REASON = "row locks and parallel writers are exercised on PostgreSQL (SQLite has one writer)"


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(SKIP_REASON)


def race(fn, args_list):
    """Run fn(*args) in one thread per args, all released at once; returns results/exceptions."""
    barrier = threading.Barrier(len(args_list))
    results: list = [None] * len(args_list)

    def worker(i, args):
        try:
            barrier.wait(timeout=10)
            results[i] = fn(*args)
        except Exception as exc:  # collected and asserted by the caller
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results
