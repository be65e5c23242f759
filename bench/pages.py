"""Page speed: the pages agents, supervisors and managers use most, one user at a time and under
an open-loop load of many active users (issue 11, item 5).

    .venv/bin/python bench/pages.py --db sqlite|postgres [--scale 1.0] [--requests 40]
                                    [--users 100] [--every 5] [--seconds 60]

Loads the demo shop (`kefu demo`'s loader, `--scale`) into a fresh database, then:

1. One user, in process: each page requested through Django's test Client (the whole middleware
   stack, the real session and login of that person, templates rendered) --requests times,
   pages interleaved round by round with GET /bench/ping (a trivial view behind the same
   middleware, the baseline); prints the median and p95 server time per page, the ratio to the
   baseline and the number of queries of one request (CaptureQueriesContext).
2. Open loop under the production web server (`kefu start`'s command: gunicorn with uvicorn workers
   on kefu.asgi): --users simulated people (80 % agents, 15 % supervisors, 5 % managers of the
   demo shop, each with a session of their own), each requesting one of their role's pages every
   --every seconds on a Poisson schedule (--schedule fixed: exactly every --every s) that does not
   wait for answers — a late answer does not slow the arrivals. The time of a request runs from its
   scheduled moment to the last byte of the answer (so a client that fell behind counts against
   the server, not for it). First the same load of GET /bench/ping (the baseline), then the pages;
   prints p50/p95/p99 and errors of each.
"""

import argparse
import contextlib
import http.client
import multiprocessing as mp
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, database, db_version, django_setup, free_port, machine, median, pct  # noqa: E402

PING = "/bench/ping"
# Share of the simulated people per role (the rest of 100 % are agents).
ROLE_SHARE = {"supervisor": 0.15, "manager": 0.05}


def _get(client, path) -> float:
    """Seconds one GET of `path` took; anything but 200 stops the bench."""
    t = time.perf_counter()
    resp = client.get(path)
    took = time.perf_counter() - t
    if resp.status_code != 200:
        raise SystemExit(f"{path} answered {resp.status_code}")
    return took


def role_pages(*, member, conversation_ids: list[int]) -> dict[str, str]:
    """name → path of the pages a person of that role opens most, in a working day's order."""
    from kefu.core.enums import Role

    if member.has_role(Role.AGENT):
        pages = {
            "agent: workspace": "/live/",
            "agent: conversation list": "/conversations/",
            "agent: a conversation": f"/conversations/{conversation_ids[0]}/" if conversation_ids else None,
            "agent: follow-ups": "/followups/",
            "agent: case list": "/aftersales/",
            "agent: own figures": f"/agents/{member.id}/",
            "agent: me (points, pay)": "/people/",
            "agent: dashboard + ranking": "/",
        }
    elif member.has_role(Role.MANAGER):
        pages = {"manager: dashboard + ranking": "/", "manager: conversation list": "/conversations/",
                 "manager: case list": "/aftersales/"}
    else:
        pages = {"supervisor: dashboard + ranking": "/", "supervisor: conversation list": "/conversations/",
                 "supervisor: case list": "/aftersales/", "supervisor: live monitor": "/monitor/"}
    return {k: v for k, v in pages.items() if v}


def people(shop) -> dict[str, list]:
    from kefu.core.enums import Role
    from kefu.core.models import Agent

    out = defaultdict(list)
    for m in Agent.objects.filter(shop=shop, active=True, user__isnull=False).select_related("user").order_by("id"):
        if m.has_role(Role.AGENT):
            out["agent"].append(m)
        elif m.has_role(Role.MANAGER):
            out["manager"].append(m)
        elif m.has_role(Role.SUPERVISOR):
            out["supervisor"].append(m)
    return out


def conversations_of(shop, member, n=20) -> list[int]:
    from kefu.conversations.models import Conversation

    return list(Conversation.objects.filter(shop=shop, agent=member).order_by("-id").values_list("id", flat=True)[:n])


# ---------------------------------------------------------------- 1. one user, in process

def one_user(shop, requests: int) -> list[tuple[str, list[float], int, list[float]]]:
    """(page, seconds per request, queries of one request, ping seconds of the same rounds)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    targets = _targets(shop)
    ping_client = targets[0][1]

    for _ in range(3):  # warm up: templates compiled, translations and URL resolvers loaded
        for _name, client, path in targets:
            _get(client, path)
    queries = {}
    for name, client, path in targets:
        with CaptureQueriesContext(connection) as ctx:
            _get(client, path)
        queries[name] = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        _get(ping_client, PING)
    queries[PING] = len(ctx.captured_queries)

    times, pings = defaultdict(list), []
    for _ in range(requests):  # round by round: the machine's load moves pages and baseline alike
        pings.append(_get(ping_client, PING))
        for name, client, path in targets:
            times[name].append(_get(client, path))
    out = [(PING + " (baseline)", pings, queries[PING], pings)]
    out += [(name, times[name], queries[name], pings) for name, _, _ in targets]
    return out


def _targets(shop):
    from django.test import Client

    who = people(shop)
    targets = []  # (name, client, path)
    for role in ("agent", "supervisor", "manager"):
        member = who[role][0]
        client = Client()
        client.force_login(member.user)
        for name, path in role_pages(member=member, conversation_ids=conversations_of(shop, member)).items():
            targets.append((name, client, path))
    return targets


def worker(root: str, env: dict) -> None:
    """--worker: the one-user part for the code tree at `root` (first on sys.path), driven round by
    round over stdin/stdout by the process that compares two trees (one JSON line per command)."""
    import json

    sys.path.insert(0, root)
    for name in [m for m in sys.modules if m == "bench" or m.startswith("bench.")]:
        del sys.modules[name]  # this tree's bench package: the baseline's settings and urls
    django_setup(env)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kefu.core.models import Shop

    targets = _targets(Shop.objects.get(code=env["BENCH_SHOP"]))
    ping_client = targets[0][1]

    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "round":
            out = {PING: _get(ping_client, PING)}
            for name, client, path in targets:
                out[name] = _get(client, path)
        elif cmd == "queries":
            out = {}
            for name, client, path in [("", ping_client, PING), *targets]:
                with CaptureQueriesContext(connection) as ctx:
                    _get(client, path)
                out[name or PING] = len(ctx.captured_queries)
        else:
            return
        print(json.dumps(out), flush=True)


def one_user_compare(shop, requests: int, roots: list[str], env: dict) -> tuple[list[str], dict, dict]:
    """The one-user part for several code trees over the same database, round by round: tree A's
    round, then B's (the order alternating), so both meet the same load. → (page names, {root:
    {page: [seconds]}}, {root: {page: queries}})."""
    import json

    procs = {}
    for root in roots:
        procs[root] = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", root], cwd=root, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**os.environ, **env, "BENCH_SHOP": shop.code, "PYTHONPATH": root})

    def ask(root, cmd) -> dict:
        p = procs[root]
        p.stdin.write(cmd + "\n")
        p.stdin.flush()
        line = p.stdout.readline()
        if not line:
            raise SystemExit(f"worker of {root} ended")
        return json.loads(line)

    try:
        for _ in range(3):
            for root in roots:
                ask(root, "round")  # warm up
        queries = {root: ask(root, "queries") for root in roots}
        times: dict = {root: defaultdict(list) for root in roots}
        names: list[str] = []
        for i in range(requests):
            for root in roots if i % 2 == 0 else roots[::-1]:
                for name, took in ask(root, "round").items():
                    times[root][name].append(took)
                    if name not in names:
                        names.append(name)
        return names, times, queries
    finally:
        for p in procs.values():
            with contextlib.suppress(OSError):
                p.stdin.write("quit\n")
                p.stdin.close()
            p.wait(timeout=60)


# ---------------------------------------------------------------- 2. open loop under the web server

def _request(port: int, cookie: str, name: str, path: str, due: float) -> tuple[str, float, float, object]:
    sent = time.monotonic()
    status: object
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", path, headers={"Cookie": cookie})
        resp = conn.getresponse()
        resp.read()
        status = resp.status
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        status = type(exc).__name__
    return name, time.monotonic() - due, sent - due, status


def _driver(args) -> list[tuple[str, float, float, object]]:
    """One client process: its users' requests at their scheduled moments, each in a thread of its
    own so that a slow answer never delays the next arrival."""
    port, users, start, seconds, every, schedule, seed = args
    rng = random.Random(seed)
    events = []
    for cookie, pages in users:
        t = start + rng.uniform(0, every)
        while t < start + seconds:
            name, path = rng.choice(pages)
            events.append((t, cookie, name, path))
            t += every if schedule == "fixed" else rng.expovariate(1 / every)
    events.sort(key=lambda e: e[0])
    with ThreadPoolExecutor(max_workers=512) as pool:
        futures = []
        for due, cookie, name, path in events:
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            futures.append(pool.submit(_request, port, cookie, name, path, due))
        return [f.result() for f in futures]


def open_loop(port: int, users: list[tuple[str, list[tuple[str, str]]]], *, seconds: float, every: float,
              schedule: str, procs: int, seed: int):
    start = time.monotonic() + 1.0
    parts = [users[i::procs] for i in range(procs)]
    with mp.get_context("fork").Pool(procs) as pool:
        results = pool.map(_driver, [(port, p, start, seconds, every, schedule, seed + i) for i, p in enumerate(parts)])
    return [r for part in results for r in part]


def sessions(shop, n_users: int, seed: int) -> list[tuple[str, list[tuple[str, str]], str]]:
    """n_users (cookie, [(page, path)], role): 80 % agents, 15 % supervisors, 5 % managers, spread
    over the shop's people; every simulated user logs in on a session of their own."""
    from django.conf import settings
    from django.test import Client

    rng = random.Random(seed)
    who = people(shop)
    counts = {r: max(1, round(n_users * s)) for r, s in ROLE_SHARE.items()}
    counts["agent"] = n_users - sum(counts.values())
    out = []
    for role, n in counts.items():
        for i in range(n):
            member = who[role][i % len(who[role])]
            client = Client()
            client.force_login(member.user)
            cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
            convs = conversations_of(shop, member)
            picked = [rng.choice(convs)] if convs else []  # one of the person's recent chats
            pages = list(role_pages(member=member, conversation_ids=picked).items())
            out.append((cookie, pages, role))
    return out


def wait_ready(port):
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", PING)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start")


def _ms(x: float) -> str:
    return f"{x * 1000:,.1f}"


def _servers(roots: list[str], env: dict, workers: int) -> dict[str, tuple[int, subprocess.Popen]]:
    """A web server (kefu start's command) per code tree, each on a port of its own."""
    from kefu.core.management.commands.start import web_command

    out = {}
    for root in roots:
        port = free_port()
        server_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": root,
                      "KEFU_LOG_LEVEL": "ERROR"}
        out[root] = (port, subprocess.Popen([*web_command(bind=f"127.0.0.1:{port}", workers=workers),
                                             "--log-level", "warning"], env=server_env, cwd=root,
                                            stdout=subprocess.DEVNULL))
    return out


def _line(label, res):
    lat = [r[1] for r in res]
    late = [r[2] for r in res]
    errors = Counter(str(r[3]) for r in res if r[3] != 200)
    err = sum(errors.values())
    print(f"   {label:38} {len(res):>6} {_ms(median(lat)):>8} {_ms(pct(lat, 95)):>8} {_ms(pct(lat, 99)):>8} "
          f"{err:>7} {_ms(pct(late, 99)):>9}" + (f"  {dict(errors)}" if err else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--scale", type=float, default=1.0, help="demo shop scale (1.0 = `kefu demo`'s default)")
    ap.add_argument("--requests", type=int, default=40, help="requests per page, one user")
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--every", type=float, default=5.0, help="seconds between one user's requests (mean)")
    ap.add_argument("--schedule", choices=["poisson", "fixed"], default="poisson")
    ap.add_argument("--seconds", type=float, default=60, help="length of the open-loop phase (per code tree)")
    ap.add_argument("--baseline-seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=2, help="web server processes (kefu start's default)")
    ap.add_argument("--client-procs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-load", action="store_true", help="only the one-user part")
    ap.add_argument("--compare", metavar="ROOT", help="another code tree (e.g. an export of main) measured "
                    "beside this one on the same database: one-user rounds and open-loop segments interleaved")
    ap.add_argument("--worker", metavar="ROOT", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.worker:
        worker(a.worker, {k: v for k, v in os.environ.items() if k.startswith(("KEFU_", "BENCH_"))})
        return
    roots = [str(Path(a.compare).resolve()), str(ROOT)] if a.compare else [str(ROOT)]
    label = {roots[0]: "baseline", roots[-1]: "this tree"} if a.compare else {str(ROOT): ""}

    with database(a.db) as env:
        django_setup(env)
        from django.db import connections

        from kefu.demo.services import demo_load

        print(machine())
        print(f"database: {db_version()}; load average {os.getloadavg()[0]:.1f} at the start")
        if a.compare:
            print(f"baseline: {roots[0]}; this tree: {roots[1]}")
        t = time.perf_counter()
        result = demo_load(scale=a.scale)
        shop = result.shop
        print(f"demo shop (scale {a.scale}): {result.messages:,} messages, {result.orders:,} orders, "
              f"{result.buyers:,} buyers, {len(result.accounts)} people, {result.date_from} … {result.date_to}; "
              f"loaded in {time.perf_counter() - t:.0f} s")

        if a.compare:
            connections.close_all()
            names, times, queries = one_user_compare(shop, a.requests, roots, env)
        else:
            rows = one_user(shop, a.requests)
        load_after_one = os.getloadavg()[0]
        users = sessions(shop, a.users, a.seed)
        connections.close_all()

        loaded: dict[str, list] = {}
        baseline = None
        if not a.skip_load:
            servers = _servers(roots, env, a.workers)
            try:
                for port, _ in servers.values():
                    wait_ready(port)
                for port, _ in servers.values():  # warm up: one page per user
                    open_loop(port, [(c, pages) for c, pages, _ in users], seconds=a.every, every=a.every,
                              schedule="fixed", procs=a.client_procs, seed=a.seed)
                pings = [(c, [(PING, PING)]) for c, _, _ in users]
                baseline = open_loop(servers[roots[-1]][0], pings, seconds=a.baseline_seconds, every=a.every,
                                     schedule=a.schedule, procs=a.client_procs, seed=a.seed + 100)
                # Two segments per tree, alternating (A B A B): both meet the same load of the machine.
                segments = 2 if a.compare else 1
                for k in range(segments * len(roots)):
                    root = roots[k % len(roots)]
                    loaded.setdefault(root, []).extend(open_loop(
                        servers[root][0], [(c, pages) for c, pages, _ in users], seconds=a.seconds / segments,
                        every=a.every, schedule=a.schedule, procs=a.client_procs, seed=a.seed + 200 + k))
                load_end = os.getloadavg()[0]
            finally:
                for _, server in servers.values():
                    server.terminate()
                for _, server in servers.values():
                    server.wait(timeout=30)

        print()
        print(f"1. one user, in process (Django test Client, full middleware, real sessions), {a.requests} "
              f"requests per page interleaved with the baseline; load average {load_after_one:.1f}")
        if a.compare:
            base, mine = roots
            b_ping, m_ping = median(times[base][PING]), median(times[mine][PING])
            print(f"   {'page':38} {'baseline ms':>11} {'× ping':>7} {'q':>4} {'this ms':>9} {'× ping':>7} {'q':>4}"
                  f" {'this/base':>9}")
            for name in names:
                b, m = median(times[base][name]), median(times[mine][name])
                print(f"   {name:38} {_ms(b):>11} {b / b_ping:>7.1f} {queries[base][name]:>4} {_ms(m):>9} "
                      f"{m / m_ping:>7.1f} {queries[mine][name]:>4} {m / b:>9.2f}")
        else:
            ping_med = median(rows[0][1])
            print(f"   {'page':38} {'median ms':>10} {'p95 ms':>8} {'× ping':>7} {'queries':>8}")
            for name, times_, queries_, _ in rows:
                print(f"   {name:38} {_ms(median(times_)):>10} {_ms(pct(times_, 95)):>8} "
                      f"{median(times_) / ping_med:>7.1f} {queries_:>8}")
        print("   (aim: agent pages ≤ 10 ms, dashboard ≤ 20 ms median)")
        if not loaded:
            return
        n_roles = Counter(r for _, _, r in users)
        print()
        print(f"2. open loop under gunicorn + uvicorn workers ({a.workers}, kefu start's server): {a.users} users "
              f"({n_roles['agent']} agents, {n_roles['supervisor']} supervisors, {n_roles['manager']} managers, "
              f"own sessions), one request each per {a.every:g} s ({a.schedule}), {a.seconds:g} s"
              + (" per tree in alternating segments" if a.compare else "") + f"; load average {load_end:.1f} at the end")
        print(f"   {'requests':38} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'late p99':>9}")
        _line(f"GET {PING} (baseline, same rate)", baseline)
        for root in roots:
            _line(f"all pages {label[root]}".strip(), loaded[root])
            by_page = defaultdict(list)
            for r in loaded[root]:
                by_page[r[0]].append(r)
            for name in sorted(by_page):
                _line("  " + name, by_page[name])
        print("   (aim: p95 < 100 ms; 'late p99' = how far behind schedule the client sent, should be ~0)")


if __name__ == "__main__":
    main()
