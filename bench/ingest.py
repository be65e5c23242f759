"""Batched API ingest vs the raw batched insert of the same rows into the same database (SPEC Q-2),
the single-message endpoint vs a trivial view, and how far the figures lag behind (ADR 0004).

    .venv/bin/python bench/ingest.py --db sqlite|postgres [--messages 30000] [--clients 4] [--cycles 10]
                                     [--server asgi|wsgi]

Starts the web server (`--server asgi`, the default: `kefu start`'s command, gunicorn with uvicorn
workers on kefu.asgi; `wsgi`: gunicorn sync workers on kefu.wsgi; settings bench.settings) and the
task worker (`kefu worker`, as `kefu start` runs it) over a fresh database. In each of --cycles
cycles it bulk-inserts one slice of the messages in 100-row transactions in this process (the
baseline: Message.objects.bulk_create, buyers and agents resolved beforehand) and then POSTs the
next slice in batches of 100 to /api/v1/messages from --clients client processes; the ratio of the
two rates is taken per cycle (the machine's load moves both alike) and the median printed.
Meanwhile the worker rebuilds the buyers' facts and a sampler reads the lag (age of the oldest
change not yet in the figures). Then batches again with the worker stopped (SIGSTOP): the
request's own latency without the drain. Then an open-loop phase sends batches at a fixed rate
(--rate, default half the API rate) and prints the lag's p50/p99; then the single-message POST
against GET /bench/ping (same server, same clients), once with the worker stopped and once
running (with the number of drain tasks it queued). At the end the queue is drained and the
roll-up is checked against a recompute from raw rows.
"""

import argparse
import http.client
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    PYTHON,
    ROOT,
    database,
    db_version,
    django_setup,
    free_port,
    machine,
    median,
    pct,
)

BATCH = 100


def _client(args) -> tuple[list[float], int, int, float, float]:
    """POST (or GET) bodies until done or the deadline; returns latencies, items sent, errors and
    the (monotonic) times of the first request and of the last answer.
    With `interval` set, body k is sent at start + k × interval (open loop) when it is not late."""
    port, token, method, path, bodies, per_body, deadline, interval, start = args
    lat, sent, errors = [], 0, 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    first = None
    for k, body in enumerate(bodies):
        if interval:
            wait = start + k * interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        if time.monotonic() > deadline:
            break
        t = time.perf_counter()
        first = first or time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        lat.append(time.perf_counter() - t)
        if ok:
            sent += per_body
        else:
            errors += 1
    conn.close()
    return lat, sent, errors, first or time.monotonic(), time.monotonic()


def load(port, token, method, path, bodies, per_body, clients, seconds, rate=None):
    """Send bodies from `clients` processes; closed loop, or open loop at `rate` bodies/s in all."""
    start = time.monotonic() + 0.2
    deadline = start + seconds
    slices = [bodies[i::clients] for i in range(clients)]
    interval = clients / rate if rate else None
    with mp.get_context("fork").Pool(clients) as pool:
        parts = pool.map(_client, [(port, token, method, path, s, per_body, deadline, interval,
                                    start + (i / rate if rate else 0)) for i, s in enumerate(slices)])
    wall = max(p[4] for p in parts) - min(p[3] for p in parts)  # first request to last answer
    lat = [x for p in parts for x in p[0]]
    return wall, lat, sum(p[1] for p in parts), sum(p[2] for p in parts)


class LagSampler(threading.Thread):
    """Reads the shop's lag every `every` seconds on its own connection."""

    def __init__(self, shop, every=0.25):
        super().__init__(daemon=True)
        self.shop, self.every, self.samples, self.stop = shop, every, [], threading.Event()

    def run(self):
        from django.db import connection

        from kefu.metrics.queue import facts_lag

        while not self.stop.is_set():
            self.samples.append(facts_lag(shop=self.shop))
            self.stop.wait(self.every)
        connection.close()

    def take(self) -> list[float]:
        out, self.samples = self.samples, []
        return out


def wait_ready(port):
    for _ in range(150):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/bench/ping")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--messages", type=int, default=30000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn worker processes")
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--rate", type=float, default=None, help="messages/s of the open-loop phase (default: half "
                                                              "the API rate measured)")
    ap.add_argument("--sustained-seconds", type=float, default=30)
    ap.add_argument("--single-seconds", type=float, default=10)
    ap.add_argument("--server", choices=["asgi", "wsgi"], default="asgi",
                    help="asgi: kefu start's web command (gunicorn + uvicorn workers on kefu.asgi, the default); "
                         "wsgi: gunicorn sync workers on kefu.wsgi")
    a = ap.parse_args()

    with database(a.db) as env:
        django_setup(env)
        from django.db import connections, transaction

        from kefu.conversations.models import Message
        from kefu.core.services import agents_resolve, shop_create, token_create
        from kefu.core.timeutil import parse_moment
        from kefu.customers.services import customers_resolve
        from kefu.demo.generator import rows
        from kefu.metrics.audit import rollup_differences
        from kefu.metrics.queue import facts_drain, facts_lag
        from kefu.metrics.tasks import facts_drain_task

        def drain_tasks() -> int:
            from django_tasks_db.models import DBTaskResult

            n = DBTaskResult.objects.filter(task_path=facts_drain_task.module_path).count()
            connections.close_all()
            return n

        print(machine())
        server_kind = ("gunicorn + uvicorn workers on kefu.asgi (kefu start)" if a.server == "asgi"
                       else "gunicorn sync workers on kefu.wsgi")
        print(f"database: {db_version()}; server: {server_kind}, {a.workers} workers; 1 task worker (kefu worker); "
              f"{a.clients} client processes; loopback")
        t = time.perf_counter()
        gen = [r for kind, r in rows(a.messages * 3 // 2, id_prefix="b") if kind == "message"]
        msgs, extra = gen[: a.messages], gen[a.messages :]
        print(f"generated {len(gen)} demo-generator messages in {time.perf_counter() - t:.1f} s")
        api_shop = shop_create(code="api", name="bench api")
        raw_shop = shop_create(code="raw", name="bench raw")
        _, token = token_create(shop=api_shop, name="bench")

        customers = customers_resolve(shop=raw_shop, nicks={m["buyer_id"]: m["buyer_nick"] for m in msgs})
        agents = agents_resolve(shop=raw_shop, platform_ids={m["agent_id"] for m in msgs})
        objs = [
            Message(shop=raw_shop, message_id=m["message_id"], channel=m["channel"], customer_id=customers[m["buyer_id"]],
                    agent_id=agents.get(m["agent_id"]), sender=m["sender"], sent_at=parse_moment(m["sent_at"], raw_shop.tz),
                    text=m["text"], order_ref=m["order_id"])
            for m in msgs
        ]
        bodies = [json.dumps({"messages": msgs[i : i + BATCH]}, ensure_ascii=False).encode()
                  for i in range(0, len(msgs), BATCH)]
        connections.close_all()

        port = free_port()
        server_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "bench.settings",
                      "PYTHONPATH": str(ROOT), "KEFU_LOG_LEVEL": "ERROR"}
        if a.server == "asgi":
            from kefu.core.management.commands.start import web_command

            cmd = web_command(bind=f"127.0.0.1:{port}", workers=a.workers)
        else:
            cmd = [PYTHON, "-m", "gunicorn", "kefu.wsgi:application", "--bind", f"127.0.0.1:{port}",
                   "--workers", str(a.workers)]
        server = subprocess.Popen([*cmd, "--log-level", "warning"], env=server_env, cwd=str(ROOT),
                                  stdout=subprocess.DEVNULL)
        worker = subprocess.Popen([PYTHON, "-m", "kefu.cli", "worker", "--interval", "1", "--no-reload", "--verbosity", "0"],
                                  env=server_env, cwd=str(ROOT), stdout=subprocess.DEVNULL)
        sampler = LagSampler(api_shop)
        try:
            wait_ready(port)
            load(port, token, "GET", "/bench/ping", [b""] * 200, 1, a.clients, 5)  # warm up
            sampler.start()

            # Interleaved cycles: a slice bulk-inserted here, then a slice POSTed to the API.
            n = len(bodies)
            per = max(1, n // a.cycles)
            raw_lat, api_lat, ratios = [], [], []
            raw_n = raw_s = api_n = api_s = errors = 0
            for c in range(a.cycles):
                lo, hi = c * per, (n if c == a.cycles - 1 else (c + 1) * per)
                t0 = time.perf_counter()
                for i in range(lo * BATCH, min(hi * BATCH, len(objs)), BATCH):
                    t = time.perf_counter()
                    with transaction.atomic():
                        Message.objects.bulk_create(objs[i : i + BATCH])
                    raw_lat.append(time.perf_counter() - t)
                rw = time.perf_counter() - t0
                rn = min(hi * BATCH, len(objs)) - lo * BATCH
                connections.close_all()
                wall, lat, sent, err = load(port, token, "POST", "/api/v1/messages", bodies[lo:hi], BATCH, a.clients, 600)
                raw_n, raw_s, api_n, api_s, errors = raw_n + rn, raw_s + rw, api_n + sent, api_s + wall, errors + err
                api_lat += lat
                ratios.append((sent / wall) / (rn / rw))
            burst_lag = sampler.take()
            t0 = time.perf_counter()
            while facts_lag(shop=api_shop) > 0 and time.perf_counter() - t0 < 600:
                time.sleep(0.1)
            catch_up = time.perf_counter() - t0
            connections.close_all()
            api_rate = api_n / api_s

            # Batches with the task worker stopped (SIGSTOP): the request's own latency, no drain.
            paused_bodies = [json.dumps({"messages": [{**m, "message_id": "q" + m["message_id"]}
                                                      for m in msgs[i : i + BATCH]]}, ensure_ascii=False).encode()
                             for i in range(0, min(len(msgs), a.messages // 5), BATCH)]
            worker.send_signal(signal.SIGSTOP)
            try:
                pb_wall, pb_lat, pb_sent, _ = load(port, token, "POST", "/api/v1/messages", paused_bodies, BATCH,
                                                   a.clients, 600)
            finally:
                worker.send_signal(signal.SIGCONT)
            t0 = time.perf_counter()
            while facts_lag(shop=api_shop) > 0 and time.perf_counter() - t0 < 600:
                time.sleep(0.1)
            connections.close_all()

            # Open loop at a fixed rate: the lag the worker keeps.
            rate = a.rate or api_rate / 2
            extra_bodies = [json.dumps({"messages": extra[i : i + BATCH]}, ensure_ascii=False).encode()
                            for i in range(0, len(extra), BATCH)]
            sampler.take()
            s_wall, s_lat, s_sent, s_err = load(port, token, "POST", "/api/v1/messages", extra_bodies, BATCH, a.clients,
                                                a.sustained_seconds, rate=rate / BATCH)
            sustained_lag = sampler.take()
            t0 = time.perf_counter()
            while facts_lag(shop=api_shop) > 0 and time.perf_counter() - t0 < 600:
                time.sleep(0.1)
            sustained_catch_up = time.perf_counter() - t0
            connections.close_all()

            singles = [json.dumps(m, ensure_ascii=False).encode()
                       for kind, m in rows(20000, seed=99, id_prefix="s") if kind == "message"]
            paused_singles = [json.dumps(m, ensure_ascii=False).encode()
                              for kind, m in rows(20000, seed=98, id_prefix="p") if kind == "message"]
            ping_wall, _, ping_n, _ = load(port, token, "GET", "/bench/ping", [b""] * 10**6, 1, a.clients,
                                           a.single_seconds)
            # The same stream with the task worker stopped (SIGSTOP): what the request costs alone.
            worker.send_signal(signal.SIGSTOP)
            try:
                paused_wall, paused_lat, paused_n, _ = load(port, token, "POST", "/api/v1/messages", paused_singles, 1,
                                                            a.clients, a.single_seconds)
            finally:
                worker.send_signal(signal.SIGCONT)
            t0 = time.perf_counter()
            while facts_lag(shop=api_shop) > 0 and time.perf_counter() - t0 < 600:
                time.sleep(0.1)
            connections.close_all()
            sampler.take()
            tasks_before = drain_tasks()
            one_wall, one_lat, one_n, one_err = load(port, token, "POST", "/api/v1/messages", singles, 1, a.clients,
                                                     a.single_seconds)
            single_lag = sampler.take()
            single_tasks = drain_tasks() - tasks_before
            t0 = time.perf_counter()
            while facts_lag(shop=api_shop) > 0 and time.perf_counter() - t0 < 600:
                time.sleep(0.1)
            single_catch_up = time.perf_counter() - t0
        finally:
            sampler.stop.set()
            server.terminate()
            worker.terminate()
            server.wait(timeout=30)
            worker.wait(timeout=30)
        facts_drain()  # anything the worker left (it should have left nothing)
        stored = Message.objects.filter(shop=api_shop).count()
        diffs = rollup_differences(shop=api_shop)

        print()
        print(f"baseline  bulk_create, 100-row transactions, 1 connection: {raw_n / raw_s:,.0f} rows/s "
              f"(p50 {median(raw_lat) * 1000:.1f} ms, p99 {pct(raw_lat, 99) * 1000:.1f} ms per batch)")
        print(f"API       POST /api/v1/messages, 100 per batch:           {api_rate:,.0f} messages/s "
              f"(p50 {median(api_lat) * 1000:.1f} ms, p99 {pct(api_lat, 99) * 1000:.1f} ms per batch; "
              f"{api_n} sent, {errors} errors)")
        print(f"ratio     API / baseline = {median(ratios):.2f} median of {len(ratios)} interleaved cycles "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f})   (aim ≥ 0.50; p99 aim < 50 ms)")
        print(f"paused    the same batches with the task worker stopped: {pb_sent / pb_wall:,.0f} messages/s "
              f"(p50 {median(pb_lat) * 1000:.1f} ms, p99 {pct(pb_lat, 99) * 1000:.1f} ms per batch; {pb_sent} sent): "
              "the request alone")
        print(f"lag       while bursting: p50 {median(burst_lag):.1f} s, p99 {pct(burst_lag, 99):.1f} s, "
              f"max {max(burst_lag, default=0):.1f} s; caught up {catch_up:.1f} s after the last batch")
        print(f"sustained open loop at {rate:,.0f} messages/s for {a.sustained_seconds:.0f} s: "
              f"{s_sent / s_wall:,.0f} messages/s acknowledged (p99 {pct(s_lat, 99) * 1000:.1f} ms per batch, "
              f"{s_err} errors); lag p50 {median(sustained_lag):.1f} s, p99 {pct(sustained_lag, 99):.1f} s, "
              f"max {max(sustained_lag, default=0):.1f} s   (aim p99 < 5 s); caught up {sustained_catch_up:.1f} s "
              "after the last batch")
        ping_rate, one_rate = ping_n / ping_wall, one_n / one_wall
        print(f"trivial   GET /bench/ping:                               {ping_rate:,.0f} requests/s")
        print(f"single    POST /api/v1/messages, one message:             {one_rate:,.0f} requests/s "
              f"(p50 {median(one_lat) * 1000:.1f} ms, p99 {pct(one_lat, 99) * 1000:.1f} ms; {one_err} errors)")
        print(f"ratio     single / trivial = {one_rate / ping_rate:.2f}   (aim ≥ 0.50); lag meanwhile p50 "
              f"{median(single_lag):.1f} s, p99 {pct(single_lag, 99):.1f} s; caught up {single_catch_up:.1f} s after the "
              f"last message; {single_tasks} drain tasks queued for {one_n} messages")
        paused_rate = paused_n / paused_wall
        print(f"paused    the same with the task worker stopped:          {paused_rate:,.0f} requests/s "
              f"(p50 {median(paused_lat) * 1000:.1f} ms, p99 {pct(paused_lat, 99) * 1000:.1f} ms) = "
              f"{paused_rate / ping_rate:.2f} of trivial: the request alone")
        batched, p99 = median(ratios), pct(api_lat, 99) * 1000
        single, lag99 = one_rate / ping_rate, pct(sustained_lag, 99)

        def verdict(ok):
            return "met" if ok else "NOT met"

        print(f"targets   batched {batched:.2f} of raw (≥ 0.50 {verdict(batched >= 0.5)}), p99 {p99:.0f} ms per batch "
              f"(< 50 ms {verdict(p99 < 50)}) | single {single:.2f} of trivial (≥ 0.50 {verdict(single >= 0.5)}) | "
              f"lag p99 {lag99:.1f} s at {rate:,.0f} messages/s (< 5 s {verdict(lag99 < 5)})")
        print(f"exact     {stored} messages stored; roll-up vs recompute from raw rows after draining: "
              f"{'equal' if not diffs else f'{len(diffs)} DIFFERENCES, first {diffs[0]}'}")


if __name__ == "__main__":
    main()
