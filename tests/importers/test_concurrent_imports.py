"""Two imports of one file at once, and an import killed with SIGKILL (issue 11, defect 6 and item 2).

Before: two CLI imports of one orders file at once ended in a raw IntegrityError traceback
(PostgreSQL) or "database is locked" (SQLite), since each held one transaction for the whole file.
Now both finish, their counts add up to what was stored, and a killed import is finished by
running it again.

PostgreSQL: two threads in this process. SQLite: real `kefu import` processes on a fresh database
file (the default set-up), so the SQLite lock and busy timeout are the real ones.
"""

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from kefu.core.services import shop_create
from kefu.importers import checking
from kefu.importers.models import ImportRun
from kefu.metrics.audit import rollup_differences
from kefu.metrics.queue import facts_drain
from kefu.orders.models import Order
from tests.concurrency import race, require_postgresql
from tests.importers.test_bad_input import ORD_HEAD, write_csv

REPO = Path(__file__).resolve().parents[2]


def orders_rows(n):
    return [[f"T{i:06d}", f"b{i % 97}", "2026-11-01 10:00:00", "2026-11-01 10:05:00", "10.00", "10.00", "0"]
            for i in range(n)]


def counts_of(out: str) -> tuple[int, int, int]:
    line = next(ln for ln in out.splitlines() if ln.startswith("orders:"))
    parts = line.split(":", 1)[1].split(",")
    return tuple(int(p.split()[0]) for p in parts)  # created, updated, unchanged


@pytest.mark.django_db(transaction=True)
def test_two_cli_imports_of_one_file_at_once_postgresql(settings, tmp_path, monkeypatch):
    require_postgresql()
    settings.KEFU_FACTS_INLINE = False
    monkeypatch.setattr(checking, "BATCH", 100)  # many short transactions, interleaving
    shop = shop_create(code="imp2", name="并发导入店")
    path = write_csv(tmp_path / "o.csv", ORD_HEAD, orders_rows(1500))

    def run():
        out, err = io.StringIO(), io.StringIO()
        call_command("import", "orders", str(path), shop="imp2", stdout=out, stderr=err)
        return out.getvalue()

    results = race(run, [(), ()])
    assert all(isinstance(r, str) for r in results), results
    got = [counts_of(r) for r in results]
    assert sum(c for c, _, _ in got) == Order.objects.filter(shop=shop).count() == 1500
    assert sum(u for _, u, _ in got) == 0
    assert sum(d for _, _, d in got) == 1500
    assert ImportRun.objects.filter(state="done").count() == 2
    facts_drain()
    assert rollup_differences(shop=shop) == []


# --- SQLite, real processes -------------------------------------------------------------------------


class Kefu:
    def __init__(self, tmp: Path):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
        self.env.update(KEFU_DATA_DIR=str(tmp), KEFU_DATABASE_URL=f"sqlite:///{tmp / 'kefu.sqlite3'}",
                        DJANGO_SETTINGS_MODULE="kefu.settings", PYTHONPATH=str(REPO))
        self.db = tmp / "kefu.sqlite3"

    def popen(self, *args):
        return subprocess.Popen([sys.executable, "-m", "kefu.cli", *args], cwd=REPO, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, *args) -> tuple[int, str, str]:
        p = self.popen(*args)
        out, err = p.communicate(timeout=900)
        return p.returncode, out, err

    def query(self, sql: str):
        with sqlite3.connect(self.db, timeout=30) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def sqlite_kefu(tmp_path_factory):
    if os.environ.get("KEFU_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("real SQLite processes, independent of the test database: run on the SQLite pass")
    k = Kefu(tmp_path_factory.mktemp("kefu-imports"))
    for args in (("migrate", "-v", "0"), ("shop", "add", "s1", "--name", "导入店")):
        code, out, err = k.run(*args)
        assert code == 0, err
    return k


def test_two_cli_imports_of_one_file_at_once_sqlite(sqlite_kefu, tmp_path):
    path = write_csv(tmp_path / "o.csv", ORD_HEAD, orders_rows(6000))
    procs = [sqlite_kefu.popen("import", "orders", str(path), "--shop", "s1") for _ in range(2)]
    outs = [p.communicate(timeout=900) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "locked" not in err
    got = [counts_of(out) for out, _ in outs]
    stored = sqlite_kefu.query("SELECT count(*) FROM orders_order WHERE order_id LIKE 'T%'")[0][0]
    assert stored == 6000
    assert sum(c for c, _, _ in got) == 6000 and sum(u for _, u, _ in got) == 0
    assert sum(d for _, _, d in got) == 6000


@pytest.mark.skipif(sys.platform != "linux", reason="SIGKILL")
def test_an_import_killed_with_sigkill_is_finished_by_running_it_again(sqlite_kefu, tmp_path):
    rows = [[f"K{i:06d}", *r[1:]] for i, r in enumerate(orders_rows(20000))]
    path = write_csv(tmp_path / "k.csv", ORD_HEAD, rows)
    p = sqlite_kefu.popen("import", "orders", str(path), "--shop", "s1")
    deadline = time.monotonic() + 600
    done = 0
    while time.monotonic() < deadline and p.poll() is None:
        got = sqlite_kefu.query("SELECT rows_done FROM importers_importrun WHERE file_name LIKE '%k.csv' "
                                "AND state = 'running'")
        done = got[0][0] if got else 0
        if done >= 2000:
            break
        time.sleep(0.05)
    if p.poll() is not None:
        pytest.skip("the import finished before it could be killed (machine too fast)")
    p.send_signal(signal.SIGKILL)
    p.communicate()
    stored = sqlite_kefu.query("SELECT count(*) FROM orders_order WHERE order_id LIKE 'K%'")[0][0]
    done = sqlite_kefu.query("SELECT rows_done FROM importers_importrun WHERE file_name LIKE '%k.csv'")[0][0]
    assert 0 < done < 20000 and stored == done  # each batch and its record committed together
    code, out, err = sqlite_kefu.run("import", "orders", str(path), "--shop", "s1")
    assert code == 0, err
    assert f"resumed an interrupted import of this file at row {done + 1} of 20000" in out
    assert counts_of(out) == (20000, 0, 0)
    assert sqlite_kefu.query("SELECT count(*) FROM orders_order WHERE order_id LIKE 'K%'")[0][0] == 20000
    assert sqlite_kefu.query("SELECT state FROM importers_importrun WHERE file_name LIKE '%k.csv'") == [("done",)]
    # the facts of every buyer are current: no marks left, and the roll-up audit is clean
    assert sqlite_kefu.query("SELECT count(*) FROM metrics_dirtybuyer")[0][0] == 0
    code, out, err = sqlite_kefu.run("shell", "-c",
                                     "from kefu.core.models import Shop; from kefu.metrics.audit import rollup_differences;"
                                     "print('DIFF', rollup_differences(shop=Shop.objects.get(code='s1')))")
    assert code == 0, err
    assert "DIFF []" in out
