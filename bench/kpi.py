"""KPI report time at several data sizes: flat as messages grow (SPEC Q-2).

    .venv/bin/python bench/kpi.py [--db sqlite|postgres] [--sizes 10000,50000,250000] [--runs 7]

Each size is a demo shop (20 agents, one month) loaded through the real services (clean →
ingest → facts_rebuild), all in the same database, then given its SLA clocks by the SLA scan (the
seed policies, as every shop has them). For each shop it times kpi_report for the month by agent
(median of --runs), and, as the baseline, the same figures recomputed from the raw rows
(kefu.metrics.audit's recompute, which a report without roll-ups would have to do).
"""

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database, db_version, django_setup, machine, median  # noqa: E402

END = dt.date(2026, 10, 31)
START = END.replace(day=1)  # one calendar month: the report uses month roll-ups


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--sizes", default="10000,50000,250000", help="messages per shop, comma-separated")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--no-baseline", action="store_true", help="skip the recompute-from-raw baseline")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]

    with database(a.db) as env:
        django_setup(env)
        from kefu.conversations.models import Message
        from kefu.demo.services import demo_load
        from kefu.metrics.audit import rollup_differences
        from kefu.metrics.kpi import kpi_report
        from kefu.metrics.models import AgentDay, OrderCredit
        from kefu.sla.models import SlaClock
        from kefu.sla.services import sla_scan

        print(machine())
        print(f"database: {db_version()}")
        shops = []
        for n in sizes:
            t = time.perf_counter()
            r = demo_load(code=f"k{n}", seed=7, scale=n / 52000, end=END, extensions=False)
            print(f"loaded shop k{n}: {r.messages} messages, {r.orders} orders through the services "
                  f"in {time.perf_counter() - t:.1f} s ({r.messages / (time.perf_counter() - t):,.0f} messages/s)")
            t = time.perf_counter()
            sla_scan(shop=r.shop, now=dt.datetime.combine(END + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC))
            print(f"  SLA scan: {SlaClock.objects.filter(shop=r.shop).count():,} clocks in {time.perf_counter() - t:.1f} s")
            shops.append(r.shop)

        print()
        print(f"{'messages':>10} {'agent-days':>10} {'credits':>8} {'SLA clocks':>10} {'kpi_report median':>18} "
              f"{'min':>8} {'recompute from raw':>19}")
        for shop in shops:
            times = []
            for _ in range(a.runs + 1):
                t = time.perf_counter()
                kpi_report(shop=shop, date_from=START, date_to=END, by="agent")
                times.append(time.perf_counter() - t)
            times = times[1:]  # the first run warms caches
            base = ""
            if not a.no_baseline:
                t = time.perf_counter()
                assert rollup_differences(shop=shop, date_from=START, date_to=END) == []
                base = f"{(time.perf_counter() - t) * 1000:,.0f} ms"
            n = Message.objects.filter(shop=shop).count()
            print(f"{n:>10,} {AgentDay.objects.filter(shop=shop).count():>10,} "
                  f"{OrderCredit.objects.filter(shop=shop).count():>8,} "
                  f"{SlaClock.objects.filter(shop=shop).count():>10,} {median(times) * 1000:>15.1f} ms "
                  f"{min(times) * 1000:>5.1f} ms {base:>19}")


if __name__ == "__main__":
    main()
