"""`kefu start`'s process supervisor: runs each child (web, worker, scheduler …) and restarts the
one that dies, with a back-off, instead of stopping the service.

A child is a `ChildSpec` (a name and a command line); adding a process to the service is adding
one spec to the list `kefu start` builds. A child that ran for `healthy_after` seconds before it
died is restarted after `min_backoff`; one that keeps dying soon after start waits twice as long
each time, up to `max_backoff`, so a broken child does not spin. Every exit and restart is logged.
SIGTERM/SIGINT stop every child (SIGTERM, then SIGKILL after `stop_timeout`).

Each child runs in a process group of its own. When a child dies, what is left of its group is
killed before it starts again: gunicorn's workers outlive a master killed with SIGKILL (uvicorn's
worker never checks its parent), and would go on serving the old code and holding the port and
the database beside the new master.
"""

import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

log = logging.getLogger("kefu.supervisor")


@dataclass
class ChildSpec:
    name: str
    argv: list[str]
    env: dict | None = None


@dataclass
class _Child:
    spec: ChildSpec
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None  # when a dead child is due to start again
    backoff: float = 0.0
    restarts: int = 0
    exits: list = field(default_factory=list)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


class Supervisor:
    def __init__(self, specs: list[ChildSpec], *, min_backoff: float = 1.0, max_backoff: float = 30.0,
                 healthy_after: float = 30.0, stop_timeout: float = 10.0, poll: float = 0.2):
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"child names must be unique: {names}")
        self.children = [_Child(spec=s) for s in specs]
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        self.healthy_after, self.stop_timeout, self.poll = healthy_after, stop_timeout, poll
        self.stopping = False

    def _spawn(self, child: _Child) -> None:
        env = {**os.environ, **(child.spec.env or {})}
        child.proc = subprocess.Popen(child.spec.argv, env=env, process_group=0)
        child.started_at = time.monotonic()
        child.restart_at = None
        log.warning("started %s (pid %s)", child.spec.name, child.proc.pid)

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def pids(self) -> dict[str, int | None]:
        return {c.spec.name: (c.proc.pid if c.proc and c.proc.poll() is None else None) for c in self.children}

    def check(self) -> None:
        """One round: note dead children, start the ones whose back-off has passed."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at and not self.stopping:
                    child.restarts += 1
                    self._spawn(child)
                continue
            if child.proc is None or child.proc.poll() is None:
                continue
            ran = now - child.started_at
            if ran >= self.healthy_after or child.backoff == 0:
                child.backoff = self.min_backoff
            else:
                child.backoff = min(child.backoff * 2, self.max_backoff)
            child.exits.append(child.proc.returncode)
            _kill_group(child.proc.pid)
            child.restart_at = now + child.backoff
            log.error("%s (pid %s) %s after %.0f s; restarting in %.0f s", child.spec.name, child.proc.pid,
                      describe_exit(child.proc.returncode), ran, child.backoff)

    def run(self) -> None:
        """Start every child and keep them running until stop() (or a signal)."""
        self.start()
        while not self.stopping:
            self.check()
            time.sleep(self.poll)

    def stop(self, *_signal) -> None:
        self.stopping = True
        alive = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in alive:
            proc.terminate()
        deadline = time.monotonic() + self.stop_timeout
        for proc in alive:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for child in self.children:
            if child.proc is not None:
                _kill_group(child.proc.pid)
        log.warning("stopped %s", ", ".join(c.spec.name for c in self.children))


def _kill_group(pgid: int) -> None:
    """SIGKILL whatever is left of a child's process group (its leader has exited)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
