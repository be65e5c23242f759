"""KPI report time against the number of agents (SPEC Q-2 names a shop of 1,000 agents).

    .venv/bin/python bench/kpi_agents.py [--db sqlite|postgres] [--agents 20,200,1000] [--keys 400] [--runs 5]

The month's roll-up rows of each shop are written directly (AgentDay for every agent and day,
AgentMonth with four response-time histograms of --keys distinct seconds each, as a busy agent's
month has, and the medians and group rows the drain keeps beside them), so the read path is
measured at a size the demo generator cannot load in minutes. The baseline is the smallest shop
of the same run: the table gives each report's time and its ratio to it.
"""

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database, db_version, django_setup, machine, median  # noqa: E402

MONTH = dt.date(2026, 10, 1)
DAYS = 31


def fill(shop, n_agents: int, keys: int, rng: random.Random) -> None:
    from kefu.core.models import Agent
    from kefu.metrics import facts as F
    from kefu.metrics.models import AgentDay, AgentMonth, ShopPeriod
    from kefu.metrics.services import group_months_rebuild

    agents = Agent.objects.bulk_create([Agent(shop=shop, name=f"客服{i:04d}", group=("presales", "aftersales")[i % 2])
                                        for i in range(n_agents)])

    def hist() -> dict:
        # Exact seconds below 10 minutes, 1 % buckets above: the shape the roll-up stores.
        out: dict[str, int] = {}
        while len(out) < keys:
            s = int(rng.gammavariate(2, 40)) if rng.random() < 0.85 else int(600 * 1.01 ** rng.randint(0, 400))
            out[str(s)] = out.get(str(s), 0) + rng.randint(1, 30)
        return out

    AgentDay.objects.bulk_create(
        [AgentDay(shop=shop, agent=a, day=MONTH + dt.timedelta(days=d), receptions=40, replied_receptions=38,
                  first_response_count=38, first_response_sum=1100, answered_turns=120, response_sum=4200,
                  inquiries=25, inquiries_paid=9, orders=9, sales=900, paying_buyers=8)
         for a in agents for d in range(DAYS)], batch_size=2000)
    AgentMonth.objects.bulk_create([AgentMonth(shop=shop, agent=a, month=MONTH, paying_buyers=200, rolled_group=a.group,
                                               **{h: hist() for h in F.MEDIAN_HISTS}) for a in agents],
                                   batch_size=100)
    group_months_rebuild(shop=shop)  # the medians and group rows the drain keeps as rows move
    ShopPeriod.objects.create(shop=shop, period=ShopPeriod.MONTH, start=MONTH, paying_buyers=150 * n_agents)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--agents", default="20,200,1000")
    ap.add_argument("--keys", type=int, default=400, help="distinct seconds per agent-month histogram")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    sizes = [int(s) for s in a.agents.split(",")]

    with database(a.db) as env:
        django_setup(env)
        from kefu.core.services import shop_create
        from kefu.metrics.kpi import kpi_report

        print(machine())
        print(f"database: {db_version()}; one calendar month; {a.keys} keys per histogram; median of {a.runs}")
        rng = random.Random(7)
        shops = []
        for n in sizes:
            shop = shop_create(code=f"a{n}", name=f"{n} agents")
            fill(shop, n, a.keys, rng)
            shops.append((n, shop))
        end = MONTH + dt.timedelta(days=DAYS - 1)
        base: dict[str, float] = {}
        print(f"{'agents':>7} {'by agent':>16} {'by group':>16} {'by shop':>16}")
        for n, shop in shops:
            cells = []
            for by in ("agent", "group", "shop"):
                times = []
                for _ in range(a.runs + 1):
                    t = time.perf_counter()
                    kpi_report(shop=shop, date_from=MONTH, date_to=end, by=by)
                    times.append(time.perf_counter() - t)
                m = median(times[1:]) * 1000
                base.setdefault(by, m)
                cells.append(f"{m:8.1f} ms {m / base[by]:4.1f}×")
            print(f"{n:>7,} " + " ".join(f"{c:>16}" for c in cells))


if __name__ == "__main__":
    main()
