import os
import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from kefu.core.models import Shop


class Command(BaseCommand):
    help = "Migrate, load the demo shop if there is none, and run web + worker + scheduler."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-demo", action="store_true")

    def handle(self, *args, bind, workers, no_demo, **o):
        call_command("migrate", verbosity=0)
        if not no_demo and not Shop.objects.exists():
            self.stdout.write("loading the demo shop (a month of a realistic shop; takes a minute)…")
            call_command("demo")
        elif not no_demo:
            call_command("demo", "--accounts-only")
        kefu = [sys.executable, "-m", "kefu.cli"]
        env = dict(os.environ)
        procs = [
            subprocess.Popen([*kefu, "db_worker", "--interval", "1"], env=env),
            subprocess.Popen([*kefu, "scheduler"], env=env),
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "kefu.wsgi:application", "--bind", bind,
                 "--workers", str(workers), "--access-logfile", "-", "--graceful-timeout", "5"],
                env=env,
            ),
        ]
        self.stdout.write(f"Kefu is running on http://{bind}/  (web, worker, scheduler; Ctrl-C stops all)")

        def stop(*_):
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
            sys.exit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while True:
            for p in procs:
                if p.poll() is not None:
                    self.stderr.write(f"process {p.args[2] if len(p.args) > 2 else p.args} exited ({p.returncode}); stopping")
                    stop()
            time.sleep(1)
