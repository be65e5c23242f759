"""`kefu import` of an orders file vs the database's own bulk load of the same rows (issue 11, item 2).

    .venv/bin/python bench/import.py --db postgres|sqlite [--file PATH] [--format taobao] [--cycles 3] [--repeat 1,4]

Default file: the real Tmall export in /work/shared/data (28,010 orders, --format taobao). In each
cycle, into a fresh shop: the product's import (kefu.importers.services.file_import, what
`kefu import` runs: read, validate, write in 1,000-row transactions, then the facts drain), run in
a forked child process so its memory can be measured (peak RSS growth over the child's start); then
the baseline: the rows the import stored (customers and orders, every column) loaded again into
another fresh shop by PostgreSQL COPY (SQLite: executemany INSERT in one transaction). The ratio is
the import's pace to rows validated and committed (read + validate + write) over COPY's, taken per
cycle (the machine's load moves both alike), the median printed; the facts drain that follows is
printed apart (buyers/s, its transactions and the longest one), and the whole import's pace.
--repeat N makes the file N times longer (new order ids) to show how time and memory scale.
--memory 1,36 (default) reads the file 1 and 36 times over (28k and ~1M rows) through both of the
import's passes without the database writes — validate and spill, then every spilled batch read
back as the writer gets them — and prints the peak memory of each: flat means it does not grow
with the file (the writes hold one batch of rows at a time).
The validating pass runs on several processes for a large CSV (kefu.importers.checking); each
cycle prints how many, and --memory measures the parent process (each reader holds one batch).
--before (default; --no-before skips it): each cycle first imports the file once more, into another
fresh shop, with the write pass imports took before the staged one (orders_upsert, the API's
batched upsert), and prints the staged write pass's pace over it.
--messages N (default 20000; 0 skips) generates a messages file of N rows and imports it
--cycles times into fresh shops through the messages write pass (a staged batch: COPY or
executemany into a temporary table, then SQL) and,
interleaved, through the API's messages_ingest (the path imports took before), the facts drain
left out: the write pass's rows/s side by side.
"""

import argparse
import csv
import io
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database, db_version, django_setup, machine, median  # noqa: E402

TMALL = Path("/work/shared/data/tmall_order_report/tmall_order_report.csv")


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _child(args, queue):
    """The product's import in this (forked) process; reports timings and peak memory growth."""
    from django.db import connections

    from kefu.core.models import Shop
    from kefu.importers.services import file_import

    connections.close_all()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    except OSError:
        pass
    start_kb = _status_kb("VmRSS")
    shop = Shop.objects.get(code=args["shop"])
    from kefu.metrics import queue as facts_queue

    passes, real_pass = [], facts_queue.drain_pass

    def timed_pass(**kw):  # how long each drain transaction holds its buyers and roll-up rows
        t0 = time.perf_counter()
        try:
            return real_pass(**kw)
        finally:
            passes.append(time.perf_counter() - t0)

    facts_queue.drain_pass = timed_pass
    if args.get("before"):  # the write pass imports took before the staged one: the API's batched upsert
        from kefu.importers import services
        from kefu.orders.services import orders_upsert

        services.orders_load = lambda *, shop, rows: orders_upsert(shop=shop, rows=rows, events=False)
    t = time.perf_counter()
    got = file_import(shop=shop, kind="orders", path=args["path"], fmt=args["fmt"])
    seconds = time.perf_counter() - t
    from kefu.customers.models import Customer

    queue.put({"seconds": seconds, "rows": got.run.rows_total, "created": got.result.created,
               "buyers": Customer.objects.filter(shop=shop).count(), "passes": sorted(passes),
               "timings": got.timings, "peak_mb": (_status_kb("VmHWM") - start_kb) / 1024})
    connections.close_all()


def _passes_child(args, queue):
    """Both passes over the file without the writes, in this (forked) process: peak memory growth."""
    from kefu.importers.checking import check

    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    start_kb = _status_kb("VmRSS")
    t = time.perf_counter()
    checked = check(kind="orders", fmt=args["fmt"], path=Path(args["path"]), options={}, tz=args["tz"])
    rows = sum(len(b) for b in checked.spill.batches())
    checked.spill.close()
    queue.put({"rows": rows, "seconds": time.perf_counter() - t, "peak_mb": (_status_kb("VmHWM") - start_kb) / 1024})


def run_passes(path: Path, fmt: str, tz) -> dict:
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_passes_child, args=({"path": str(path), "fmt": fmt, "tz": tz}, q))
    p.start()
    out = q.get(timeout=7200)
    p.join()
    return out


def run_import(shop_code: str, path: Path, fmt: str, before: bool = False) -> dict:
    from django.db import connections

    connections.close_all()
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=({"shop": shop_code, "path": str(path), "fmt": fmt, "before": before}, q))
    p.start()
    out = q.get(timeout=3600)
    p.join()
    return out


def bulk_load(src_shop, dst_shop) -> tuple[float, int]:
    """The rows the import stored in src_shop, loaded into dst_shop the fastest way the database has.
    Returns (seconds, orders loaded)."""
    from django.db import connection, transaction

    from kefu.customers.models import Customer
    from kefu.orders.models import Order

    def columns(model):
        return [f for f in model._meta.concrete_fields if not f.primary_key]

    def rows_of(model, qs, replace):
        cols = columns(model)
        out = []
        for obj in qs:
            out.append([replace.get(f.attname, lambda o, f=f: f.get_db_prep_save(getattr(o, f.attname), connection))(obj)
                        for f in cols])
        return cols, out

    cust_cols, cust_rows = rows_of(Customer, Customer.objects.filter(shop=src_shop),
                                   {"shop_id": lambda o: dst_shop.id})
    buyer_of = dict(Customer.objects.filter(shop=src_shop).values_list("id", "buyer_id"))
    orders = list(Order.objects.filter(shop=src_shop))
    qn = connection.ops.quote_name
    t = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                with cur.cursor.copy(f"COPY {qn(Customer._meta.db_table)} ({', '.join(qn(f.column) for f in cust_cols)}) "
                                     "FROM STDIN") as cp:
                    for r in cust_rows:
                        cp.write_row(r)
        else:
            with connection.cursor() as cur:
                cur.executemany(f"INSERT INTO {qn(Customer._meta.db_table)} ({', '.join(qn(f.column) for f in cust_cols)}) "
                                f"VALUES ({', '.join(['%s'] * len(cust_cols))})", cust_rows)
        new_id = dict(Customer.objects.filter(shop=dst_shop).values_list("buyer_id", "id"))
        ord_cols, ord_rows = rows_of(Order, orders, {"shop_id": lambda o: dst_shop.id,
                                                     "customer_id": lambda o: new_id[buyer_of[o.customer_id]]})
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                with cur.cursor.copy(f"COPY {qn(Order._meta.db_table)} ({', '.join(qn(f.column) for f in ord_cols)}) "
                                     "FROM STDIN") as cp:
                    for r in ord_rows:
                        cp.write_row(r)
            else:
                cur.executemany(f"INSERT INTO {qn(Order._meta.db_table)} ({', '.join(qn(f.column) for f in ord_cols)}) "
                                f"VALUES ({', '.join(['%s'] * len(ord_cols))})", ord_rows)
    return time.perf_counter() - t, len(orders)


def messages_file(n: int, tmp: Path) -> Path:
    """A generic messages file: n rows, ~n/8 buyers, 20 agents, buyer / agent / bot rows."""
    import datetime as dt

    out = tmp / f"messages_{n}.csv"
    t0 = dt.datetime(2026, 10, 1, 8, 0, 0)
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["message_id", "buyer_id", "buyer_nick", "agent_id", "sender", "sent_at", "text"])
        for i in range(n):
            sender = ("buyer", "agent", "buyer", "agent", "bot")[i % 5]
            w.writerow([f"m{i}", f"b{i // 8}", f"买家{i // 8}" if sender == "buyer" else "",
                        "" if sender == "bot" else f"店铺:客服{(i // 8) % 20}", sender,
                        (t0 + dt.timedelta(seconds=37 * i)).strftime("%Y-%m-%d %H:%M:%S"), f"第{i}条消息，你好"])
    return out


def run_messages(n: int, cycles: int, tmp: Path, db: str) -> None:
    """The messages write pass against the API's messages_ingest, interleaved, drain left out."""
    from kefu.conversations.services import messages_ingest
    from kefu.core.services import shop_create
    from kefu.importers import services

    path = messages_file(n, tmp)
    real_drain, real_load = services.facts_drain, services.messages_load
    services.facts_drain = lambda **kw: 0
    paces = {"load": [], "ingest": []}
    try:
        for c in range(cycles):
            for name, fn in (("ingest", messages_ingest), ("load", real_load)):
                services.messages_load = fn
                shop = shop_create(code=f"m{name[0]}{c}-{int(time.time())}", name="bench messages")
                got = services.file_import(shop=shop, kind="messages", path=path)
                assert got.result.created == n, got.result
                paces[name].append(n / got.timings["write"])
                print(f"  messages cycle {c + 1} {name:>6}: {n:,} rows, read+validate {got.timings['validate']:.1f} s, "
                      f"write {got.timings['write']:.1f} s = {paces[name][-1]:,.0f} rows/s", flush=True)
    finally:
        services.facts_drain, services.messages_load = real_drain, real_load
    what = "staged: COPY + SQL" if db == "postgres" else "staged: executemany + SQL"
    print(f"messages write pass ({n:,} rows): {what} {median(paces['load']):,.0f} rows/s against the API path "
          f"{median(paces['ingest']):,.0f} rows/s ({median(paces['load']) / median(paces['ingest']):.2f}x)")


def repeated(path: Path, times: int, tmp: Path) -> Path:
    """The file `times` over, order ids made unique per copy (id + copy × 10^7)."""
    if times == 1:
        return path
    text = path.read_bytes().decode("utf-8-sig")
    head, *rows = list(csv.reader(io.StringIO(text)))
    out = tmp / f"{path.stem}_x{times}.csv"
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        for k in range(times):
            for r in rows:
                w.writerow([str(int(r[0]) + k * 10**7), *r[1:]])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--file", type=Path, default=TMALL)
    ap.add_argument("--format", default="taobao")
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--repeat", default="1", help="comma-separated: also import the file this many times over ('' to skip)")
    ap.add_argument("--memory", default="1,36", help="comma-separated: read the file this many times over "
                    "through both passes without writing, and print the peak memory ('' to skip)")
    ap.add_argument("--before", action=argparse.BooleanOptionalAction, default=True,
                    help="each cycle also imports the file through orders_upsert, the write pass imports took "
                    "before the staged one (--no-before skips it)")
    ap.add_argument("--messages", type=int, default=20000, help="rows of the generated messages file (0: skip)")
    a = ap.parse_args()
    if not a.file.exists():
        raise SystemExit(f"no file {a.file} (the Tmall sample lives in /work/shared/data)")

    with database(a.db) as env, tempfile.TemporaryDirectory(prefix="kefu-bench-import-") as tmp:
        django_setup(env)
        from kefu.core.services import shop_create

        print(machine())
        from kefu.importers.checking import workers

        print(f"database: {db_version()}; file {a.file.name} --format {a.format}; validating processes: "
              f"up to {workers()} (KEFU_IMPORT_WORKERS)")
        for times in [int(x) for x in a.repeat.split(",") if x.strip()]:
            path = repeated(a.file, times, Path(tmp))
            ratios, rates, bases, drains, totals, befores = [], [], [], [], [], []
            for c in range(a.cycles):
                tag = f"{times}x{c}-{int(time.time())}"  # KEFU_DATABASE_URL may be a database used before
                if a.before:  # interleaved: the write pass imports took before, into a fresh shop too
                    old = run_import(shop_create(code=f"u{tag}", name="bench upsert").code, path, a.format, before=True)
                    tb = old["timings"]
                    befores.append(old["rows"] / tb["write"])
                    print(f"  x{times} cycle {c + 1} before (orders_upsert): read+validate {tb['validate']:.1f} s, "
                          f"write {tb['write']:.1f} s = {befores[-1]:,.0f} rows/s", flush=True)
                shop = shop_create(code=f"i{tag}", name="bench import")
                got = run_import(shop.code, path, a.format)
                base_shop = shop_create(code=f"c{tag}", name="bench copy")
                seconds, n = bulk_load(shop, base_shop)
                assert n == got["rows"] == got["created"], (n, got)
                tm = got["timings"]
                if a.before:
                    print(f"  x{times} cycle {c + 1} staged write pass: {got['rows'] / tm['write']:,.0f} rows/s = "
                          f"{got['rows'] / tm['write'] / befores[-1]:.2f}x the batched upsert", flush=True)
                    befores[-1] = (got["rows"] / tm["write"]) / befores[-1]
                # durable: validated and committed (what `kefu import` has done when the rows are safe);
                # the facts drain after it brings the figures up to date
                durable = got["rows"] / (tm["validate"] + tm["write"])
                rate, base = got["rows"] / got["seconds"], n / seconds
                ratios.append(durable / base)
                rates.append(durable)
                bases.append(base)
                drains.append(got["buyers"] / tm["rebuild"] if tm["rebuild"] else float("nan"))
                totals.append(rate)
                print(f"  x{times} cycle {c + 1}: {got['rows']:,} rows validated and written in "
                      f"{tm['validate'] + tm['write']:.1f} s = {durable:,.0f} rows/s "
                      f"(read+validate {tm['validate']:.1f} s, write {tm['write']:.1f} s); facts drain of "
                      f"{got['buyers']:,} buyers {tm['rebuild']:.1f} s = {drains[-1]:,.0f} buyers/s "
                      f"({len(got['passes'])} transactions, median {median(got['passes']):.2f} s, "
                      f"longest {max(got['passes'], default=0):.2f} s); whole import "
                      f"{got['seconds']:.1f} s = {rate:,.0f} rows/s; peak memory +{got['peak_mb']:.0f} MB | "
                      f"{'COPY' if a.db == 'postgres' else 'executemany'} {n:,} rows in {seconds:.2f} s = {base:,.0f} rows/s "
                      f"| ratio {durable / base:.3f}")
            print(f"x{times} ({got['rows']:,} rows): validated + written {median(rates):,.0f} rows/s, "
                  f"{'COPY' if a.db == 'postgres' else 'executemany'} {median(bases):,.0f} rows/s, "
                  f"median ratio {median(ratios):.3f} | target 20,000 rows/s on PostgreSQL: "
                  f"{'met' if a.db == 'postgres' and median(rates) >= 20000 else 'not met'}; "
                  f"facts drain {median(drains):,.0f} buyers/s; whole import with the drain {median(totals):,.0f} rows/s")
            if befores:
                print(f"x{times}: write pass staged / batched upsert (interleaved, per cycle): median {median(befores):.2f}x")
        if a.messages:
            run_messages(a.messages, a.cycles, Path(tmp), a.db)
        import zoneinfo

        for times in [int(x) for x in a.memory.split(",") if x.strip()]:
            path = repeated(a.file, times, Path(tmp))
            got = run_passes(path, a.format, zoneinfo.ZoneInfo("Asia/Shanghai"))
            print(f"memory x{times} ({got['rows']:,} rows): validate + spill + read back in {got['seconds']:.1f} s "
                  f"({got['rows'] / got['seconds']:,.0f} rows/s), peak memory +{got['peak_mb']:.0f} MB")
            if times > 1:
                path.unlink()


if __name__ == "__main__":
    main()
