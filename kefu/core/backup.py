"""Backups that restore: SQLite through its online backup API (a consistent copy while the service
runs), PostgreSQL through pg_dump/pg_restore (custom format). `kefu backup` / `kefu restore`."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

from .errors import KefuError

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next((str(d / name) for d in PG_BIN_DIRS if (d / name).exists()), None)
    if not found:
        raise KefuError(f"{name} not found: install the PostgreSQL client tools", field="database")
    return found


def _pg_env_args() -> tuple[dict, list[str]]:
    s = connection.settings_dict
    env = {**os.environ}
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    args = ["--dbname", s["NAME"]]
    if s.get("HOST"):
        args += ["--host", s["HOST"]]
    if s.get("PORT"):
        args += ["--port", str(s["PORT"])]
    if s.get("USER"):
        args += ["--username", s["USER"]]
    return env, args


def _run(argv: list[str], env: dict) -> None:
    out = subprocess.run(argv, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise KefuError(f"{Path(argv[0]).name} failed: {out.stderr.strip()[-500:]}", field="database")


def backup(*, out: Path) -> Path:
    """Write a consistent copy of the whole database to `out` (the service may keep running)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(tmp)
        try:
            connection.connection.backup(target)  # page by page, consistent, readers and writers go on
        finally:
            target.close()
    elif connection.vendor == "postgresql":
        env, args = _pg_env_args()
        _run([_pg_tool("pg_dump"), "--format", "custom", "--no-owner", "--file", str(tmp), *args], env)
    else:
        raise KefuError(f"no backup for {connection.vendor}", field="database")
    tmp.replace(out)
    return out


def restore(*, path: Path) -> None:
    """Replace the whole database with the backup at `path` (stop the service first)."""
    path = Path(path)
    if not path.is_file():
        raise KefuError(f"no backup file {path}", field="file")
    if connection.vendor == "sqlite":
        with open(path, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise KefuError(f"{path} is not an SQLite backup (kefu backup on SQLite writes one)", field="file")
        source = sqlite3.connect(path)
        try:
            connection.ensure_connection()
            source.backup(connection.connection)  # replaces every page of the live database
        finally:
            source.close()
        connection.close()
    elif connection.vendor == "postgresql":
        with open(path, "rb") as fh:
            if fh.read(5) != b"PGDMP":
                raise KefuError(f"{path} is not a pg_dump custom-format backup", field="file")
        connection.close()  # pg_restore drops the tables; our session must hold no lock on them
        env, args = _pg_env_args()
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--exit-on-error", *args, str(path)], env)
    else:
        raise KefuError(f"no restore for {connection.vendor}", field="database")
