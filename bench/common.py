"""Shared pieces of the benchmarks: the machine, a throw-away database, percentiles."""

import contextlib
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


def machine() -> str:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"CPU {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}; {platform.system()} {platform.release()}"


def db_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("select sqlite_version()")
            return f"SQLite {cur.fetchone()[0]} (WAL)"
        cur.execute("show server_version")
        return f"PostgreSQL {cur.fetchone()[0]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _run_pg(*cmd: str, **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ("runuser", "-u", "postgres", "--", *cmd)
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


@contextlib.contextmanager
def database(kind: str):
    """Environment variables of a fresh database: a temp SQLite file, KEFU_DATABASE_URL if given,
    or a throw-away PostgreSQL cluster on loopback (as scripts/test starts one)."""
    if kind == "sqlite":
        d = tempfile.mkdtemp(prefix="kefu-bench-")
        try:
            yield {"KEFU_DATA_DIR": d}
        finally:
            shutil.rmtree(d, ignore_errors=True)
        return
    if os.environ.get("KEFU_DATABASE_URL"):
        yield {"KEFU_DATABASE_URL": os.environ["KEFU_DATABASE_URL"], "KEFU_DATA_DIR": tempfile.mkdtemp()}
        return
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not bins:
        raise SystemExit("PostgreSQL not found: install it or set KEFU_DATABASE_URL")
    pg = bins[-1]
    d = tempfile.mkdtemp(prefix="kefu-bench-pg-")
    if os.geteuid() == 0:
        shutil.chown(d, "postgres")
    port = free_port()
    _run_pg(str(pg / "initdb"), "-D", f"{d}/data", "-U", "kefu", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
    _run_pg(str(pg / "pg_ctl"), "-D", f"{d}/data", "-l", f"{d}/log", "-w",
            "-o", f"-h 127.0.0.1 -p {port} -k {d} -c shared_buffers=256MB -c max_connections=50", "start")
    try:
        _run_pg(str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "kefu", "kefu")
        yield {"KEFU_DATABASE_URL": f"postgres://kefu@127.0.0.1:{port}/kefu", "KEFU_DATA_DIR": d}
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            _run_pg(str(pg / "pg_ctl"), "-D", f"{d}/data", "-m", "immediate", "stop")
        shutil.rmtree(d, ignore_errors=True)


def django_setup(env: dict) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
