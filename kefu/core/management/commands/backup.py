from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kefu.core.backup import backup
from kefu.core.errors import KefuError


class Command(BaseCommand):
    help = "Back up the whole database to FILE (SQLite online backup / pg_dump); the service may keep running"

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="the backup file to write")

    def handle(self, *args, out, **o):
        try:
            path = backup(out=Path(out))
        except KefuError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"wrote {path} ({path.stat().st_size:,} bytes)")
