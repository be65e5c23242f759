import logging
import signal
import socket
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from kefu.core.models import Shop
from kefu.core.supervisor import ChildSpec, Supervisor


def web_command(*, bind: str, workers: int) -> list[str]:
    """The web server: gunicorn with uvicorn workers on kefu.asgi — pages and API as before, and the
    live chat's event streams, which stay open for hours without holding a thread
    (docs/adr/0005-live-push.md)."""
    return [sys.executable, "-m", "gunicorn", "kefu.asgi:application", "-k", "uvicorn_worker.UvicornWorker",
            "--bind", bind, "--workers", str(workers), "--access-logfile", "-", "--graceful-timeout", "5"]


def child_specs(*, bind: str, workers: int, task_workers: int = 1) -> list[ChildSpec]:
    """The processes of the service; one more process is one more entry here."""
    kefu = [sys.executable, "-m", "kefu.cli"]
    # A stable id per (host, bind): a restarted worker knows the task its killed predecessor ran.
    host = f"{socket.gethostname()}:{bind}"
    specs = [
        ChildSpec("web", web_command(bind=bind, workers=workers)),
        ChildSpec("scheduler", [*kefu, "scheduler"]),
    ]
    for n in range(task_workers):
        worker_id = f"{host}:worker{n + 1}"[-64:]
        specs.append(ChildSpec(f"worker{n + 1}" if task_workers > 1 else "worker",
                               [*kefu, "worker", "--interval", "1", "--worker-id", worker_id]))
    return specs


class Command(BaseCommand):
    help = ("Migrate, load the demo shop if there is none, and run web + task worker + scheduler, "
            "restarting any of them that dies (with back-off).")

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port of the web server")
        parser.add_argument("--workers", type=int, default=2, help="web server processes (gunicorn workers)")
        parser.add_argument("--task-workers", type=int, default=1, help="task worker processes")
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo shop")

    def handle(self, *args, bind, workers, task_workers, no_demo, **o):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        logging.getLogger("kefu.supervisor").setLevel(logging.INFO)
        call_command("migrate", verbosity=0)
        if not no_demo and not Shop.objects.exists():
            self.stdout.write("loading the demo shop (a month of a realistic shop; takes about 3 minutes)…")
            call_command("demo")
        elif not no_demo:
            call_command("demo", "--accounts-only")
        connections.close_all()  # the supervisor itself holds no database connection
        supervisor = Supervisor(child_specs(bind=bind, workers=workers, task_workers=task_workers))

        def stop(*_):
            supervisor.stop()
            sys.exit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Kefu is running on http://{bind}/  (web = gunicorn with uvicorn workers on kefu.asgi, worker, scheduler; a process that dies is "
                          "restarted; Ctrl-C stops all)")
        self.stdout.flush()
        supervisor.run()
