from django.core.management.base import BaseCommand

from kefu.core.scheduler import run_forever, tick


class Command(BaseCommand):
    help = "Run the scheduler (periodic jobs onto the task queue). --once fires due jobs and exits."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=float, default=30.0)

    def handle(self, *args, once, interval, **o):
        if once:
            for name, shop, period in tick():
                self.stdout.write(f"fired {name} for {shop} ({period})")
            return
        self.stdout.write("scheduler running")
        run_forever(interval)
