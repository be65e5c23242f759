"""KPI report time at several data sizes: flat as messages grow (SPEC Q-2).

    .venv/bin/python bench/kpi.py [--db sqlite|postgres] [--sizes 10000,50000,250000] [--runs 7]
                                  [--load services|bulk] [--compare]

Each size is a demo shop (20 agents, one month, seed 7), all in the same database, then given its
SLA clocks by the SLA scan (the seed policies, as every shop has them). `--load services` (the
default) loads it through the real ingest services in one transaction (clean → ingest → facts
rebuild: 1,500–3,500 messages/s); `--load bulk` writes the same generated rows to generic import
files and imports them with the file importers (kefu.demo.bulk: validate, short write
transactions, COPY of the orders on PostgreSQL, then the facts drain) — the path for 10M messages.
`--compare` (with bulk) also loads each size through the services and checks that both shops give
the same report. For each shop it times kpi_report for the month by agent
(median of --runs), and, as the baseline, the same figures recomputed from the raw rows
(kefu.metrics.audit's recompute, which a report without roll-ups would have to do).
"""

import argparse
import datetime as dt
import signal
import sys
import tempfile
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
    ap.add_argument("--load", choices=["services", "bulk"], default="services",
                    help="services: the ingest services (slow, exact check); bulk: the file importers")
    ap.add_argument("--compare", action="store_true",
                    help="with --load bulk: also load each size through the services and compare the reports")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    # `kill` (SIGTERM) ends the run through the finally blocks, so a throw-away cluster is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with database(a.db) as env:
        django_setup(env)
        from kefu.conversations.models import Message
        from kefu.demo.bulk import demo_load_bulk
        from kefu.demo.services import demo_load
        from kefu.metrics.audit import rollup_differences
        from kefu.metrics.kpi import kpi_report
        from kefu.metrics.models import AgentDay, OrderCredit
        from kefu.sla.models import SlaClock
        from kefu.sla.services import sla_scan

        def load(how: str, code: str, n: int):
            t = time.perf_counter()
            if how == "services":
                r = demo_load(code=code, seed=7, scale=n / 52000, end=END, extensions=False)
            else:
                with tempfile.TemporaryDirectory(prefix="kefu-kpi-", dir=env["KEFU_DATA_DIR"]) as d:
                    r = demo_load_bulk(code=code, seed=7, scale=n / 52000, end=END, directory=d,
                                       progress=lambda msg: print(f"  {msg}", flush=True))
            s = time.perf_counter() - t
            via = "through the services" if how == "services" else "through the file importers"
            print(f"loaded shop {code}: {r.messages:,} messages, {r.orders:,} orders {via} in {s:.1f} s "
                  f"({r.messages / s:,.0f} messages/s)", flush=True)
            t = time.perf_counter()
            sla_scan(shop=r.shop, now=dt.datetime.combine(END + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC))
            print(f"  SLA scan: {SlaClock.objects.filter(shop=r.shop).count():,} clocks in "
                  f"{time.perf_counter() - t:.1f} s", flush=True)
            return r.shop

        print(machine())
        print(f"database: {db_version()}")
        print(f"load: {a.load}")
        shops = []
        for n in sizes:
            shop = load(a.load, f"k{n}", n)
            if a.compare and a.load == "bulk":
                other = load("services", f"s{n}", n)
                same = comparable(kpi_report(shop=shop, date_from=START, date_to=END, by="agent")) == \
                    comparable(kpi_report(shop=other, date_from=START, date_to=END, by="agent"))
                print(f"  bulk-loaded k{n} and services-loaded s{n}: {'same' if same else 'DIFFERENT'} report")
                assert same
            shops.append(shop)

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


def comparable(report: dict) -> dict:
    """A report without what names the shop (its code, agent ids): two shops of one seed compare equal."""
    out = {k: v for k, v in report.items() if k != "shop"}
    for key in ("agents", "groups", "shops"):
        if key in out:
            out[key] = [{k: v for k, v in row.items() if k not in ("agent_id", "shop")} for row in out[key]]
    return out


if __name__ == "__main__":
    main()
