"""Batched API ingest vs the raw batched insert of the same rows into the same database (SPEC Q-2).

    .venv/bin/python bench/ingest.py --db sqlite|postgres [--messages 50000] [--clients 4]

Starts gunicorn (kefu.wsgi) on loopback over a fresh database, POSTs batches of 100 messages to
/api/v1/messages from several client processes, and in the same run times
Message.objects.bulk_create of the same rows in 100-row transactions (the baseline). Then it
compares the single-message endpoint with a trivial Django view on the same server.
"""

import argparse
import http.client
import json
import multiprocessing as mp
import os
import subprocess
import sys
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


def _client(args) -> tuple[list[float], int, int]:
    """POST (or GET) bodies until done or the deadline; returns latencies, items sent, errors."""
    port, token, method, path, bodies, per_body, deadline = args
    lat, sent, errors = [], 0, 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for body in bodies:
        if time.monotonic() > deadline:
            break
        t = time.perf_counter()
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
    return lat, sent, errors


def load(port, token, method, path, bodies, per_body, clients, seconds):
    deadline = time.monotonic() + seconds
    slices = [bodies[i::clients] for i in range(clients)]
    t = time.perf_counter()
    with mp.get_context("fork").Pool(clients) as pool:
        parts = pool.map(_client, [(port, token, method, path, s, per_body, deadline) for s in slices])
    wall = time.perf_counter() - t
    lat = [x for p in parts for x in p[0]]
    return wall, lat, sum(p[1] for p in parts), sum(p[2] for p in parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--messages", type=int, default=50000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seconds", type=float, default=120, help="time limit of each load phase")
    ap.add_argument("--single-seconds", type=float, default=10)
    a = ap.parse_args()

    with database(a.db) as env:
        django_setup(env)
        from django.db import connections, transaction

        from kefu.conversations.models import Message
        from kefu.core.services import agents_resolve, shop_create, token_create
        from kefu.customers.services import customers_resolve
        from kefu.demo.generator import rows

        print(machine())
        print(f"database: {db_version()}; gunicorn workers {a.workers}; {a.clients} client processes; loopback")
        t = time.perf_counter()
        msgs = [r for kind, r in rows(a.messages, id_prefix="b") if kind == "message"]
        print(f"generated {len(msgs)} demo-generator messages in {time.perf_counter() - t:.1f} s")
        api_shop = shop_create(code="api", name="bench api")
        raw_shop = shop_create(code="raw", name="bench raw")
        _, token = token_create(shop=api_shop, name="bench")

        # Baseline: the same rows, bulk-inserted in 100-row transactions into the same database.
        from kefu.core.timeutil import parse_moment

        customers = customers_resolve(shop=raw_shop, nicks={m["buyer_id"]: m["buyer_nick"] for m in msgs})
        agents = agents_resolve(shop=raw_shop, platform_ids={m["agent_id"] for m in msgs})
        objs = [
            Message(shop=raw_shop, message_id=m["message_id"], channel=m["channel"], customer_id=customers[m["buyer_id"]],
                    agent_id=agents.get(m["agent_id"]), sender=m["sender"], sent_at=parse_moment(m["sent_at"], raw_shop.tz),
                    text=m["text"], order_ref=m["order_id"])
            for m in msgs
        ]
        raw_lat = []
        t0 = time.perf_counter()
        for i in range(0, len(objs), BATCH):
            t = time.perf_counter()
            with transaction.atomic():
                Message.objects.bulk_create(objs[i : i + BATCH])
            raw_lat.append(time.perf_counter() - t)
        raw_wall = time.perf_counter() - t0
        raw_rate = len(objs) / raw_wall
        connections.close_all()

        bodies = [json.dumps({"messages": msgs[i : i + BATCH]}, ensure_ascii=False).encode()
                  for i in range(0, len(msgs), BATCH)]
        singles = [json.dumps(m, ensure_ascii=False).encode()
                   for kind, m in rows(20000, seed=99, id_prefix="s") if kind == "message"]
        port = free_port()
        server_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "bench.settings",
                      "PYTHONPATH": str(ROOT), "KEFU_LOG_LEVEL": "ERROR"}
        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "kefu.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(a.workers), "--log-level", "warning"], env=server_env, cwd=str(ROOT),
        )
        try:
            for _ in range(100):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    c.request("GET", "/bench/ping")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                raise SystemExit("server did not start")
            load(port, token, "GET", "/bench/ping", [b""] * 200, 1, a.clients, 5)  # warm up
            wall, lat, sent, errors = load(port, token, "POST", "/api/v1/messages", bodies, BATCH, a.clients, a.seconds)
            api_rate = sent / wall
            ping_wall, _, ping_n, _ = load(port, token, "GET", "/bench/ping", [b""] * 10**6, 1, a.clients, a.single_seconds)
            one_wall, one_lat, one_n, one_err = load(port, token, "POST", "/api/v1/messages", singles, 1, a.clients,
                                                     a.single_seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
        stored = Message.objects.filter(shop=api_shop, message_id__startswith="b-").count()

        print()
        print(f"baseline  bulk_create, 100-row transactions, 1 connection: {raw_rate:,.0f} rows/s "
              f"(p50 {median(raw_lat) * 1000:.1f} ms, p99 {pct(raw_lat, 99) * 1000:.1f} ms per batch)")
        print(f"API       POST /api/v1/messages, 100 per batch:           {api_rate:,.0f} messages/s "
              f"(p50 {median(lat) * 1000:.1f} ms, p99 {pct(lat, 99) * 1000:.1f} ms per batch; "
              f"{sent} sent, {errors} errors, {stored} stored)")
        print(f"ratio     API / baseline = {api_rate / raw_rate:.2f}   (aim ≥ 0.50)")
        ping_rate, one_rate = ping_n / ping_wall, one_n / one_wall
        print(f"trivial   GET /bench/ping:                               {ping_rate:,.0f} requests/s")
        print(f"single    POST /api/v1/messages, one message:             {one_rate:,.0f} requests/s "
              f"(p50 {median(one_lat) * 1000:.1f} ms, p99 {pct(one_lat, 99) * 1000:.1f} ms; {one_err} errors)")
        print(f"ratio     single / trivial = {one_rate / ping_rate:.2f}   (aim ≥ 0.50)")


if __name__ == "__main__":
    main()
