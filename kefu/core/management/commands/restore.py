from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kefu.core.backup import restore
from kefu.core.errors import KefuError


class Command(BaseCommand):
    help = "Replace the whole database with a backup made by `kefu backup` (stop `kefu start` first)"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="do not ask before replacing the database")

    def handle(self, *args, file, yes, **o):
        if not yes and input(f"Replace the whole database with {file}? [y/N] ").strip().lower() != "y":
            raise CommandError("nothing restored")
        try:
            restore(path=Path(file))
        except KefuError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"restored {file}; run `kefu migrate` if the backup is older than this Kefu")
