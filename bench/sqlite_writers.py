"""A request's write behind a job that writes pass after pass, on SQLite (kefu/core/sqlite3).

    .venv/bin/python bench/sqlite_writers.py [--seconds 10] [--rounds 3] [--hold-ms 20] [--gap-ms 10]

Two processes on one temporary database file (WAL, as Kefu configures it): a job (the facts
drain's pattern: short write transactions back to back, each holding the write lock --hold-ms)
and a request writer (one short write transaction every --gap-ms). Prints the request's wait for
the lock (p50, p99, max) and the job's passes per second, for Kefu's writers (BEGIN IMMEDIATE
retried every 1 ms, the job stepping aside between passes while a writer waits) and, as the
baseline in the same run, Django's SQLite engine (a waiting writer sleeps in SQLite's busy
handler with back-off; the job never steps aside). The two alternate, --rounds times each.
"""

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, median, pct  # noqa: E402

ENGINES = {"kefu": "kefu.core.sqlite3", "busy handler (Django's engine)": "django.db.backends.sqlite3"}


def connect(path: str, engine: str):
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True)
        django.setup()
    from django.db.utils import ConnectionHandler

    options = {"transaction_mode": "IMMEDIATE", "timeout": 20,
               "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    return ConnectionHandler({"default": {"ENGINE": engine, "NAME": path, "OPTIONS": options}})["default"]


def write(db, who: str) -> None:
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        with db.cursor() as c:
            c.execute("INSERT INTO t (who, at) VALUES (%s, %s)", [who, time.time()])
        db.commit()
    finally:
        db.set_autocommit(True)


def job(path, engine, seconds, hold, out):
    from kefu.core.sqlite3.base import writers_yield

    db = connect(path, engine)
    passes, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        if engine == ENGINES["kefu"]:
            writers_yield(db)
        db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        with db.cursor() as c:
            c.execute("INSERT INTO t (who, at) VALUES ('job', %s)", [time.time()])
        time.sleep(hold)  # the pass's work, holding the lock
        db.commit()
        db.set_autocommit(True)
        passes += 1
    out.put(passes / seconds)


def requests(path, engine, seconds, gap, out):
    db = connect(path, engine)
    waits, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        write(db, "request")
        waits.append((time.monotonic() - t0) * 1000)
        time.sleep(gap)
    out.put(waits)


def run(engine: str, a) -> tuple[list[float], float]:
    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "bench.sqlite3")
        db = connect(path, engine)
        with db.cursor() as c:
            c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT, at REAL)")
        db.close()
        ctx = mp.get_context("spawn")
        q1, q2 = ctx.Queue(), ctx.Queue()
        j = ctx.Process(target=job, args=(path, engine, a.seconds, a.hold_ms / 1000, q1))
        j.start()
        time.sleep(0.5)  # the job is passing
        r = ctx.Process(target=requests, args=(path, engine, a.seconds - 1, a.gap_ms / 1000, q2))
        r.start()
        waits, rate = q2.get(), q1.get()
        r.join()
        j.join()
        return waits, rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hold-ms", type=float, default=20)
    ap.add_argument("--gap-ms", type=float, default=10)
    a = ap.parse_args()
    print(machine())
    print(f"job: passes holding the lock {a.hold_ms:g} ms back to back; request: a write every {a.gap_ms:g} ms; "
          f"{a.seconds:g} s per run, {a.rounds} rounds alternating")
    results = {name: {"p50": [], "p99": [], "max": [], "n": [], "passes": []} for name in ENGINES}
    for rnd in range(a.rounds):
        for name, engine in ENGINES.items():
            waits, rate = run(engine, a)
            res = results[name]
            res["p50"].append(pct(waits, 50))
            res["p99"].append(pct(waits, 99))
            res["max"].append(max(waits))
            res["n"].append(len(waits) / (a.seconds - 1))
            res["passes"].append(rate)
            print(f"  round {rnd + 1} {name}: request wait p50 {pct(waits, 50):.1f} ms, p99 {pct(waits, 99):.1f} ms, "
                  f"max {max(waits):.0f} ms, {len(waits) / (a.seconds - 1):.1f} writes/s; job {rate:.1f} passes/s",
                  flush=True)
    print("medians of the rounds:")
    for name, res in results.items():
        print(f"  {name}: request wait p50 {median(res['p50']):.1f} ms, p99 {median(res['p99']):.1f} ms, "
              f"max {median(res['max']):.0f} ms, {median(res['n']):.1f} writes/s; job {median(res['passes']):.1f} passes/s")
    k, b = results["kefu"], results["busy handler (Django's engine)"]
    print(f"request p99 kefu ÷ busy handler: {median(k['p99']) / median(b['p99']):.2f}; "
          f"job passes/s kefu ÷ busy handler: {median(k['passes']) / median(b['passes']):.2f}")


if __name__ == "__main__":
    main()
