"""Live message ingest with listeners (webhook subscriptions and automation rules) vs without, and
how fast the worker then delivers the webhooks (AUTO-2, AUTO-4).

    .venv/bin/python bench/listeners.py --db sqlite|postgres [--messages 1000] [--cycles 5] [--subscriptions 3] [--rules 5]

Two shops in one fresh database: *quiet* (nothing listens) and *busy* (--subscriptions webhook
subscriptions to every event and --rules automation rules on new messages: all but one look for
keywords that never come, one sets the priority of conversations whose buyer writes 投诉, about 1
message in 10). Each cycle stores --messages new buyer messages per shop in batches of 100 through
the live path the API takes (messages_clean → messages_ingest(route=True): routing, then after the
commit the outbox rows are processed — rules run, deliveries are written and queued), the two shops
in alternating order; the ratio busy/quiet of the rates is taken per cycle (the machine's load moves
both alike) and the median printed. Then the busy shop's deliveries are POSTed, as the worker does
(delivery_attempt), to a receiver on 127.0.0.1 that checks every signature; the rate and the
latency are printed, and the counts checked against an independent count of what was received.
"""

import argparse
import datetime as dt
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database, db_version, django_setup, machine, median, pct  # noqa: E402

BATCH = 100


class Receiver(BaseHTTPRequestHandler):
    secrets: dict[str, str] = {}  # path → secret
    seen: Counter = Counter()  # (path, event id) → acknowledged deliveries
    bad = 0

    def do_POST(self):
        from kefu.integrations.webhooks import signature_valid

        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ok = signature_valid(secret=self.secrets.get(self.path, ""), timestamp=self.headers.get("X-Kefu-Timestamp", ""),
                             body=body, signature=self.headers.get("X-Kefu-Signature", ""))
        if ok:
            Receiver.seen[(self.path, self.headers.get("X-Kefu-Event-Id"))] += 1
        else:
            Receiver.bad += 1
        self.send_response(200 if ok else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


def rows_for(cycle: int, shop_code: str, n: int, start: dt.datetime) -> list[dict]:
    """n buyer messages of 200 buyers, one in 10 with 投诉, a second apart."""
    out = []
    for i in range(n):
        k = cycle * n + i
        text = "再不发货我就投诉你们" if k % 10 == 3 else f"在吗？第{k}个问题，这件有货吗"
        out.append({"message_id": f"{shop_code}-{k}", "buyer_id": f"tb_{k % 200}", "agent_id": "店铺:客服", "sender": "buyer",
                    "sent_at": (start + dt.timedelta(seconds=k)).isoformat(), "text": text})
    return out


def ingest(shop, rows: list[dict]) -> float:
    from kefu.conversations.services import messages_clean, messages_ingest

    t = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        messages_ingest(shop=shop, rows=messages_clean(rows[i : i + BATCH], tz=shop.tz), route=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--messages", type=int, default=1000, help="messages per shop per cycle")
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--subscriptions", type=int, default=3)
    ap.add_argument("--rules", type=int, default=5)
    a = ap.parse_args()
    with database(a.db) as env:
        django_setup(env)
        from django.utils import timezone

        from kefu.core.services import person_create, shop_create
        from kefu.integrations.models import OutboxEvent, RuleFiring, WebhookDelivery
        from kefu.integrations.rules import rule_save
        from kefu.integrations.webhooks import delivery_attempt, subscription_save

        print(machine())
        print(db_version())
        server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        quiet, busy = shop_create(code="quiet", name="quiet"), shop_create(code="busy", name="busy")
        boss = person_create(shop=busy, name="经理", username="bench-boss", password="pass-word-1", roles=["manager"],
                             group="")
        for i in range(a.subscriptions):
            sub = subscription_save(shop=busy, actor=boss, name=f"erp{i}", url=f"http://127.0.0.1:{port}/s{i}",
                                    event_types=["*"])
            Receiver.secrets[f"/s{i}"] = sub.secret
        for i in range(a.rules - 1):
            rule_save(shop=busy, actor=boss, name=f"never {i}", event_type="message.created",
                      conditions=[{"field": "keywords", "value": [f"不会出现的词{i}"]}],
                      actions=[{"type": "set_priority", "priority": "high"}])
        if a.rules:
            rule_save(shop=busy, actor=boss, name="投诉 → 高优先级", event_type="message.created",
                      conditions=[{"field": "sender", "value": ["buyer"]}, {"field": "keywords", "value": ["投诉"]}],
                      actions=[{"type": "set_priority", "priority": "high"}])
        start = timezone.now() - dt.timedelta(days=1)
        ratios, quiet_rates, busy_rates = [], [], []
        for c in range(a.cycles):
            took = {}
            for shop in ((quiet, busy) if c % 2 == 0 else (busy, quiet)):
                took[shop.code] = ingest(shop, rows_for(c, shop.code, a.messages, start))
            q, b = a.messages / took["quiet"], a.messages / took["busy"]
            quiet_rates.append(q)
            busy_rates.append(b)
            ratios.append(b / q)
            print(f"cycle {c + 1}: without listeners {q:,.0f} msg/s, with {b:,.0f} msg/s | ratio {b / q:.3f}")
        events = OutboxEvent.objects.filter(shop=busy).count()
        firings = RuleFiring.objects.filter(rule__shop=busy).count()
        pending = list(WebhookDelivery.objects.filter(shop=busy).order_by("id").values_list("pk", flat=True))
        print(f"ingest: without listeners {median(quiet_rates):,.0f} msg/s, with {a.subscriptions} subscriptions and "
              f"{a.rules} rules {median(busy_rates):,.0f} msg/s, median ratio {median(ratios):.3f} "
              f"({events:,} events, {firings:,} rule firings, {len(pending):,} deliveries queued; "
              f"quiet shop: {OutboxEvent.objects.filter(shop=quiet).count()} events)")
        # the worker's side: every queued delivery POSTed once to the local receiver
        t = time.perf_counter()
        done = [delivery_attempt(delivery_id=pk) for pk in pending]
        took = time.perf_counter() - t
        lat = [d.latency_ms for d in done if d is not None and d.latency_ms is not None]
        ok = sum(1 for d in done if d is not None and d.state == "succeeded")
        print(f"delivery: {ok:,} of {len(pending):,} delivered in {took:.1f} s ({ok / took:,.0f}/s, one worker), "
              f"POST latency p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms")
        # independent check: what the receiver acknowledged, by (subscription, event id)
        assert ok == len(pending) == events * a.subscriptions, (ok, len(pending), events)
        assert len(Receiver.seen) == ok and set(Receiver.seen.values()) == {1} and Receiver.bad == 0
        assert firings == sum(1 for c in range(a.cycles) for k in range(c * a.messages, (c + 1) * a.messages)
                              if k % 10 == 3)
        print("checked: each event reached each subscription once with a valid signature; firings = 投诉 messages")
        server.shutdown()


if __name__ == "__main__":
    main()
