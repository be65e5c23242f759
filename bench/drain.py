"""The facts drain of buyers with messages: buyers rebuilt per second, and where a pass spends it.

    .venv/bin/python bench/drain.py [--db sqlite|postgres] [--messages 20000] [--cycles 3]
                                    [--buyers 500[,1000,auto,…]] [--profile]

A demo shop of about --messages messages (seed 7, one month, 20 agents) is loaded through the file
importers (kefu.demo.bulk, as `bench/kpi.py --load bulk`). Then, --cycles times:
- cold: every derived row of the shop is deleted (conversations and their flags, receptions,
  turns, credits, roll-ups) and every buyer marked, then the shop is drained in passes of
  --buyers buyers — what the drain after a messages import does (several sizes, comma separated:
  one cold drain per size in each cycle, interleaved; `auto`: the import's drain, each pass sized
  from the last one's pace to take about kefu.metrics.queue.PASS_SECONDS);
- warm: every buyer marked again and drained (the rows are current: nothing to write) — what a
  re-import or a settings-free re-mark costs.
After each drain the roll-up audit (`rollup_differences`) must be empty. Prints buyers/s (median
of the cycles), the passes' median and longest transaction, and per step of the rebuild: seconds,
queries and database seconds. --profile adds cProfile's top functions of one cold drain.
"""

import argparse
import cProfile
import datetime as dt
import io
import pstats
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database, db_version, django_setup, machine, median  # noqa: E402

END = dt.date(2026, 10, 31)


class StepMeter:
    """Seconds, queries and database seconds per rebuild step (the steps and orders_only wrapped)."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.queries = defaultdict(int)
        self.db = defaultdict(float)
        self.current = "other"

    def wrap(self, name, fn):
        def run(*a, **kw):
            prev, self.current = self.current, name
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.seconds[name] += time.perf_counter() - t
                self.current = prev
        return run

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.db[self.current] += time.perf_counter() - t
            self.queries[self.current] += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--buyers", default="500", help="buyers per drain transaction (comma separated: each in turn)")
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    sizes = [x if x == "auto" else int(x) for x in a.buyers.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with database(a.db) as env:
        django_setup(env)
        from django.db import connection, transaction

        from kefu.conversations.models import Conversation, Message
        from kefu.customers.models import Customer
        from kefu.demo.bulk import demo_load_bulk
        from kefu.metrics import queue, rebuild
        from kefu.metrics.audit import rollup_differences
        from kefu.metrics.models import (
            AgentDay,
            AgentMonth,
            DirtyBuyer,
            GroupMonth,
            OrderCredit,
            Reception,
            ShopPeriod,
            Turn,
        )
        from kefu.quality.models import ConversationFlag

        print(machine())
        print(f"database: {db_version()}")
        t = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="kefu-drain-", dir=env["KEFU_DATA_DIR"]) as d:
            r = demo_load_bulk(code="drain", seed=7, scale=a.messages / 52000, end=END, directory=d)
        shop = r.shop
        buyers = Customer.objects.filter(shop=shop).count()
        with_msgs = Message.objects.filter(shop=shop).values("customer_id").distinct().count()
        print(f"loaded {r.messages:,} messages, {r.orders:,} orders, {buyers:,} buyers "
              f"({with_msgs:,} with messages) in {time.perf_counter() - t:.1f} s; "
              f"import drain {r.timings['messages_parts'].get('rebuild', float('nan')):.1f} s")

        meter = StepMeter()
        steps = rebuild.rebuild_steps()
        wrapped = tuple(meter.wrap(s.__name__, s) for s in steps)
        rebuild.rebuild_steps = lambda: wrapped
        rebuild.load_messages = meter.wrap("load_messages", rebuild.load_messages)
        rebuild.orders_only_rebuild = meter.wrap("orders_only", rebuild.orders_only_rebuild)
        passes: list[float] = []
        real_pass = queue.drain_pass

        def timed_pass(**kw):
            t0 = time.perf_counter()
            try:
                return real_pass(**kw)
            finally:
                passes.append(time.perf_counter() - t0)

        queue.drain_pass = timed_pass

        def clear():
            with transaction.atomic():
                ConversationFlag.objects.filter(shop=shop).delete()
                for model in (Conversation, Reception, Turn, OrderCredit, AgentDay, AgentMonth, GroupMonth,
                              ShopPeriod):
                    model.objects.filter(shop=shop).delete()

        def mark():
            ids = list(Customer.objects.filter(shop=shop).order_by("id").values_list("id", flat=True))
            now = dt.datetime.now(dt.UTC)
            DirtyBuyer.objects.bulk_create([DirtyBuyer(shop_id=shop.id, customer_id=c, marked_at=now) for c in ids],
                                           batch_size=2000)
            return len(ids)

        def drain(label, size, profile=False):
            n = mark()
            passes.clear()
            for dct in (meter.seconds, meter.queries, meter.db):
                dct.clear()
            prof = cProfile.Profile() if profile else None
            t0 = time.perf_counter()
            with connection.execute_wrapper(meter):
                if prof:
                    prof.enable()
                if size == "auto":
                    from kefu.importers.services import DRAIN_BUYERS

                    done = queue.facts_drain(shop=shop, buyers=DRAIN_BUYERS, pass_seconds=queue.PASS_SECONDS)
                else:
                    done = queue.facts_drain(shop=shop, buyers=size)
                if prof:
                    prof.disable()
            s = time.perf_counter() - t0
            assert done == n, (done, n)
            assert rollup_differences(shop=shop, date_from=END.replace(day=1) - dt.timedelta(days=31),
                                      date_to=END + dt.timedelta(days=10)) == []
            print(f"  {label}: {n:,} buyers in {s:.2f} s = {n / s:,.0f} buyers/s; {len(passes)} passes, "
                  f"median {median(passes) * 1000:,.0f} ms, longest {max(passes) * 1000:,.0f} ms")
            names = ["load_messages", "orders_only", *(st.__name__ for st in steps), "other"]
            print("    " + "; ".join(f"{k} {meter.seconds.get(k, 0):.2f} s ({meter.queries.get(k, 0)} q, "
                                     f"db {meter.db.get(k, 0):.2f} s)" for k in names if k in meter.queries
                                     or k in meter.seconds))
            if prof:
                out = io.StringIO()
                st = pstats.Stats(prof, stream=out)
                st.sort_stats("tottime").print_stats(20)
                st.sort_stats("cumulative").print_stats("kefu/", 40)
                print(out.getvalue())
            return n / s

        cold, warm = defaultdict(list), []
        for i in range(a.cycles):
            for size in sizes:
                clear()
                cold[size].append(drain(f"cold {i + 1}, passes of {size}", size,
                                        profile=a.profile and i == 0 and size == sizes[0]))
            warm.append(drain(f"warm {i + 1}, passes of {sizes[0]}", sizes[0]))
        print(f"drain, buyers/s (median of {a.cycles}): " + ", ".join(
            f"cold (passes of {size}) {median(cold[size]):,.0f}" for size in sizes) + f", warm {median(warm):,.0f}")


if __name__ == "__main__":
    main()
