"""Live chat end to end: N simulated buyers on the widget, M agents holding their workspace stream.

    .venv/bin/python bench/live.py --db sqlite|postgres [--buyers 40] [--agents 8] [--seconds 20] [--workers 2]

Starts gunicorn with uvicorn workers on kefu.asgi (as `kefu start` runs it) over a fresh database.
Each agent holds /live/stream (SSE) with a logged-in session; each buyer opens a widget session and
its own stream, then sends messages in a closed loop (the next when the last was answered) through
POST /live/w/<key>/messages for --seconds. A buyer message counts as delivered when it arrives on
the stream of the agent it was routed to; its latency is arrival − the moment the buyer started
sending it. In the same run and on the same server, the baseline is the single-message ingest
ceiling: POST /api/v1/messages with one routed buyer message per request from --clients processes.
A task worker runs beside the server, as under `kefu start`, draining the figures' rebuild (ADR
0004); the bench reports how long after the last message the figures were current.
"""

import argparse
import collections
import http.client
import json
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
import uuid
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


def _stream(port: int, path: str, headers: dict, out: dict, stop: float, ready: threading.Event) -> None:
    """Read an SSE stream; record the arrival time of each buyer message by its message id."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=stop - time.time() + 30)
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    ready.set()
    data = b""
    while time.time() < stop:
        line = resp.fp.readline()
        if not line:
            break
        if line.startswith(b"data:"):
            data = line[5:].strip()
        elif line == b"\n" and data:
            ev = json.loads(data)
            data = b""
            m = ev.get("message")
            if ev.get("kind") == "message" and m and m["sender"] == "buyer":
                out.setdefault(m["message_id"], time.time())
    conn.close()


def _buyers(args) -> tuple[dict, collections.Counter]:
    """One client process: some buyers, each a thread holding its stream and sending in a loop."""
    port, key, count, seconds, index = args
    sent: dict[str, float] = {}
    errors: collections.Counter = collections.Counter()  # by HTTP status or exception
    start = time.time()
    stop = start + seconds

    def buyer(i: int) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("POST", f"/live/w/{key}/session", body=b"{}", headers={"Content-Type": "application/json"})
        r = c.getresponse()
        s = json.loads(r.read())
        token = s["session"]
        ready = threading.Event()
        # The widget's own stream, as a real buyer holds it (its arrivals are not counted).
        threading.Thread(target=_stream, daemon=True, args=(port, f"/live/w/{key}/stream?t={token}&after={s['event_id']}",
                                                             {}, {}, stop + 5, ready)).start()
        ready.wait(30)
        n = 0
        while time.time() < stop:
            cid = f"{index}-{i}-{n}-{uuid.uuid4().hex[:6]}"
            t = time.time()
            try:
                c.request("POST", f"/live/w/{key}/messages", body=json.dumps({"client_id": cid, "text": f"在吗 {n}"}),
                          headers={"Content-Type": "application/json", "X-Kefu-Session": token})
                r = c.getresponse()
                body = json.loads(r.read())
                if r.status in (200, 201):
                    sent[body["message"]["message_id"]] = t
                else:
                    errors[f"HTTP {r.status} {body.get('code', '')}".strip()] += 1
            except (OSError, http.client.HTTPException, ValueError) as exc:
                errors[type(exc).__name__] += 1
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            n += 1

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sent, errors


def _singles(args) -> tuple[int, list[float]]:
    port, token, seconds, index = args
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    stop, n, lat = time.time() + seconds, 0, []
    while time.time() < stop:
        body = json.dumps({"message_id": f"s-{index}-{n}", "buyer_id": f"sb-{index}-{n % 200}", "sender": "buyer",
                           "sent_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), "text": "在吗"})
        t = time.perf_counter()
        c.request("POST", "/api/v1/messages", body=body,
                  headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        r = c.getresponse()
        r.read()
        lat.append(time.perf_counter() - t)
        n += r.status == 200
    return n, lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--buyers", type=int, default=40)
    ap.add_argument("--agents", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--clients", type=int, default=4, help="client processes for the baseline and the buyers")
    a = ap.parse_args()

    with database(a.db) as env:
        django_setup(env)
        from django.test import Client
        from django.utils import timezone

        from kefu.conversations.services import routing_settings_update
        from kefu.core.services import person_create, shop_create, token_create
        from kefu.core.timeutil import shop_day
        from kefu.livechat.identity import widget_settings_of
        from kefu.workforce.services import presence_set, roster_assign, shift_create

        print(machine())
        print(f"database: {db_version()}; gunicorn + {a.workers} uvicorn workers; {a.buyers} buyers, {a.agents} agents; "
              f"{a.clients} client processes; loopback")
        shop = shop_create(code="live", name="bench live")
        base_shop = shop_create(code="base", name="bench baseline")
        _, token = token_create(shop=base_shop, name="bench")
        now = timezone.now()
        cookies = []
        for s in (shop, base_shop):
            shift = shift_create(shop=s, name="全天", start="00:00", end="23:59")
            routing_settings_update(shop=s, default_cap=200)
            for i in range(a.agents if s == shop else 4):
                p = person_create(shop=s, name=f"客服{i:03d}", username=f"{s.code}{i}", password="pass-word-1",
                                  roles=["agent"], group="presales")
                roster_assign(shop=s, agent=p, date=shop_day(now, s.tz), shift=shift)
                presence_set(shop=s, agent=p, status="online", by=p, at=now)
                if s == shop:
                    c = Client()
                    c.force_login(p.user)
                    cookies.append(c.cookies["sessionid"].value)
        key = widget_settings_of(shop).key
        from django.db import connections

        connections.close_all()

        port = free_port()
        server_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT),
                      "KEFU_LOG_LEVEL": "ERROR"}
        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "kefu.asgi:application", "-k", "uvicorn_worker.UvicornWorker", "--bind",
             f"127.0.0.1:{port}", "--workers", str(a.workers), "--log-level", "warning", "--graceful-timeout", "2"],
            env=server_env, cwd=str(ROOT))
        worker = subprocess.Popen([PYTHON, "-m", "kefu.cli", "db_worker", "--interval", "1"], env=server_env,
                                  cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(150):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    c.request("GET", "/bench/ping")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                raise SystemExit("server did not start")
            with mp.get_context("fork").Pool(a.clients) as pool:  # warm-up, then the baseline
                pool.map(_singles, [(port, token, 2, 100 + i) for i in range(a.clients)])
                t = time.time()
                parts = pool.map(_singles, [(port, token, a.seconds, i) for i in range(a.clients)])
                base_wall = time.time() - t
            base_n = sum(p[0] for p in parts)
            base_lat = [x for p in parts for x in p[1]]

            # Agents: one stream each, in this process.
            arrived: dict[str, float] = {}
            stop = time.time() + a.seconds + 40
            readies = []
            for cookie in cookies:
                ready = threading.Event()
                threading.Thread(target=_stream, daemon=True, args=(
                    port, "/live/stream", {"Cookie": f"sessionid={cookie}"}, arrived, stop, ready)).start()
                readies.append(ready)
            for r in readies:
                r.wait(30)
            per = [a.buyers // a.clients + (1 if i < a.buyers % a.clients else 0) for i in range(a.clients)]
            t = time.time()
            with mp.get_context("fork").Pool(a.clients) as pool:
                parts = pool.map(_buyers, [(port, key, n, a.seconds, i) for i, n in enumerate(per) if n])
            live_wall = time.time() - t
            sent = {k: v for p in parts for k, v in p[0].items()}
            errors = sum((p[1] for p in parts), collections.Counter())
            deadline = time.time() + 20
            while time.time() < deadline and len(set(sent) & set(arrived)) < len(sent):
                time.sleep(0.2)
            from kefu.metrics.queue import facts_pending

            caught_up = None
            while time.time() < t + live_wall + 300:  # the worker's drain of the figures
                if not facts_pending(shop=shop):
                    caught_up = time.time() - (t + live_wall)
                    break
                time.sleep(0.5)
            connections.close_all()
        finally:
            server.terminate()
            worker.terminate()
            server.wait(timeout=30)
            worker.wait(timeout=30)
        delivered = [arrived[m] - sent[m] for m in sent if m in arrived]
        lost = len(sent) - len(delivered)
        from kefu.conversations.models import Message

        stored = Message.objects.filter(shop=shop, sender="buyer").count()

        print()
        print(f"baseline  POST /api/v1/messages, one routed message a request: {base_n / base_wall:,.0f} messages/s "
              f"(p50 {median(base_lat) * 1000:.0f} ms, p99 {pct(base_lat, 99) * 1000:.0f} ms)")
        rate = len(delivered) / live_wall
        print(f"live      widget POST → agent's stream: {rate:,.0f} messages/s end to end "
              f"({len(sent)} sent, {stored} stored, {len(delivered)} delivered, {lost} not delivered, "
              f"{sum(errors.values())} errors{': ' + ', '.join(f'{k} ×{v}' for k, v in errors.items()) if errors else ''})")
        print(f"latency   buyer send → agent screen: p50 {median(delivered) * 1000:.0f} ms, "
              f"p99 {pct(delivered, 99) * 1000:.0f} ms, max {max(delivered, default=0) * 1000:.0f} ms")
        print(f"ratio     live / single-message ceiling = {rate / (base_n / base_wall):.2f}")
        print("figures   " + (f"current {caught_up:.1f} s after the last message (task worker's drain)"
                              if caught_up is not None else "not current 300 s after the last message"))


if __name__ == "__main__":
    main()
