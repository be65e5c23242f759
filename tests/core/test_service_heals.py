"""Defect 1 and item 3 of issue 11: the service heals.

The original outage, reproduced against a real `kefu start` on a fresh SQLite file: a long holder of
the write lock, then `POST /api/v1/messages` — the answer is 503 with Retry-After, never a 500, and
the task worker is the same living process afterwards. Then each child is killed with SIGKILL and
the service must answer (and the worker run a task) again, restarted by the supervisor.

Always on SQLite (its own file in a temporary data directory): this is the default set-up the outage
was found on, and `kefu start` must not touch the PostgreSQL database of the test run. The 503 on a
PostgreSQL lock timeout is tested in-process in test_busy.py.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads child processes from /proc")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> dict[str, int]:
    """name → pid of the supervisor's direct children (web = the gunicorn master)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid != pid:
            continue
        args = [c.decode() for c in cmd if c]
        if "gunicorn" in args:
            found["web"] = int(entry.name)
        elif "scheduler" in args:
            found["scheduler"] = int(entry.name)
        elif "worker" in args:
            found["worker"] = int(entry.name)
    return found


def _descendants(pid: int) -> set[int]:
    """Every living process below `pid` (a gunicorn master's workers)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        kids = {p for p, pp in parents.items() if pp == parent}
        found |= kids
        todo += list(kids)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Service:
    def __init__(self, tmp: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
        self.env.update(KEFU_DATA_DIR=str(tmp), KEFU_DATABASE_URL=f"sqlite:///{tmp / 'kefu.sqlite3'}",
                        KEFU_DB_LOCK_WAIT="2", DJANGO_SETTINGS_MODULE="kefu.settings")
        self.db = tmp / "kefu.sqlite3"
        self.log = open(tmp / "start.log", "w")  # noqa: SIM115 - closed in stop()
        self.token = ""

    def kefu(self, *args) -> str:
        out = subprocess.run([sys.executable, "-m", "kefu.cli", *args], cwd=REPO, env=self.env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def start(self):
        self.kefu("migrate", "-v", "0")
        self.kefu("shop", "add", "s1", "--name", "自愈测试店")
        self.token = self.kefu("shop", "token", "s1", "erp").split()[-1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kefu.cli", "start", "--no-demo", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1"], cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_answering(timeout=180)
        deadline = time.monotonic() + 60
        while set(_children(self.proc.pid)) != {"web", "worker", "scheduler"}:
            assert time.monotonic() < deadline, _children(self.proc.pid)
            time.sleep(0.2)

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0

    def post_message(self, message_id: str):
        body = json.dumps({"message_id": message_id, "buyer_id": "b1", "agent_id": "店:小美", "sender": "buyer",
                           "sent_at": "2026-11-01T10:00:00+08:00", "text": "在吗"}).encode()
        req = urllib.request.Request(self.url + "/api/v1/messages", body, method="POST", headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, e.headers, json.loads(e.read() or b"{}")

    def wait_answering(self, timeout: float) -> float:
        start = time.monotonic()
        while self.get("/login/") != 200:
            assert time.monotonic() - start < timeout, "the service did not answer"
            assert self.proc.poll() is None, "kefu start exited"
            time.sleep(0.1)
        return time.monotonic() - start

    def run_task(self, timeout: float) -> float:
        """Enqueue a real task (the roll-up audit) and wait until the worker finished it."""
        code = ("import django; django.setup(); from kefu.core.models import Shop; "
                "from kefu.metrics.tasks import rollup_audit; print(rollup_audit.enqueue(Shop.objects.get().id).id)")
        task_id = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=self.env, capture_output=True,
                                 text=True, check=True).stdout.split()[-1]
        start = time.monotonic()
        while True:
            with sqlite3.connect(self.db, timeout=10) as con:
                row = con.execute("SELECT status FROM django_tasks_database_dbtaskresult WHERE id = ?",
                                  (task_id.replace("-", ""),)).fetchone() or con.execute(
                    "SELECT status FROM django_tasks_database_dbtaskresult WHERE id = ?", (task_id,)).fetchone()
            if row and row[0] == "SUCCESSFUL":
                return time.monotonic() - start
            assert not row or row[0] != "FAILED", "the task failed"
            assert time.monotonic() - start < timeout, f"the task was not run ({row})"
            time.sleep(0.2)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("kefu-service"))
    svc.start()
    yield svc
    svc.stop()
    print((Path(svc.log.name)).read_text()[-3000:])


def test_a_long_write_lock_answers_503_and_the_worker_lives(service):
    before = _children(service.proc.pid)
    assert service.post_message("m0")[0] == 200
    holder = sqlite3.connect(service.db, timeout=10, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # what a long import's transaction holds
    holder.execute("INSERT INTO core_schedulerrun (job, period, shop_id, fired_at) "
                   "VALUES ('lock-holder', 'x', NULL, '2026-11-01')")
    try:
        status, headers, body = service.post_message("m1")
        assert status == 503, body
        assert headers.get("Retry-After") == "5" and body["code"] == "busy"
        time.sleep(4)  # the worker polls meanwhile and meets the lock too
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    status, _headers, body = service.post_message("m1")  # the retry the 503 asked for
    assert status == 200 and body["created"] == 1
    service.run_task(timeout=60)
    assert _children(service.proc.pid) == before, "a child died and was restarted"
    log = Path(service.log.name).read_text()
    assert "Internal Server Error" not in log and " 500 " not in log


@pytest.mark.parametrize("name", ["web", "worker", "scheduler"])
def test_a_killed_child_is_restarted(service, name):
    old = _children(service.proc.pid)[name]
    below = _descendants(old)  # the web's workers; they must not outlive their master
    assert name != "web" or below, "the web child has no workers"
    os.kill(old, signal.SIGKILL)
    start = time.monotonic()
    while _children(service.proc.pid).get(name) in (None, old):
        assert time.monotonic() - start < 60, f"{name} was not restarted"
        time.sleep(0.1)
    restarted = time.monotonic() - start
    assert not [p for p in below if _alive(p)], f"processes of the killed {name} still run"
    answering = service.wait_answering(timeout=60)
    worked = service.run_task(timeout=60)
    print(f"SIGKILL {name}: restarted after {restarted:.1f} s, answering after {restarted + answering:.1f} s, "
          f"a task ran {worked:.1f} s later")
    assert service.post_message(f"after-{name}")[0] == 200
    log = Path(service.log.name).read_text()
    assert f"{name} (pid {old}) killed by SIGKILL" in log
