import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

RECEIVER = Path(__file__).resolve().parents[2] / "docs" / "examples" / "webhook_receiver.py"


def receiver_module():
    """The README's receiver example, loaded as a module (its verify() is what receivers run)."""
    spec = importlib.util.spec_from_file_location("webhook_receiver", RECEIVER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Receiver:
    """A local HTTP receiver answering a scripted list of status codes (then 200), recording each POST."""

    def __init__(self):
        self.script: list[int] = []
        self.got: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = outer.script.pop(0) if outer.script else 200
                outer.got.append({"headers": dict(self.headers), "body": body, "status": status,
                                  "json": json.loads(body)})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"boom: try later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?x=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def run_ready_tasks() -> list[str]:
    """What a worker does, in this process and this test's transaction: run every task that is due
    (db_worker itself closes the connection, which a test transaction on PostgreSQL cannot survive)."""
    from django.utils.module_loading import import_string
    from django_tasks_db.models import DBTaskResult

    ran = []
    for row in list(DBTaskResult.objects.ready()):
        task = import_string(row.task_path)
        task.func(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        row.delete()
        ran.append(row.task_path.rsplit(".", 1)[1])
    return ran
