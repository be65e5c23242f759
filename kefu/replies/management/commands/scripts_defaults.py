"""`kefu scripts_defaults [--shop CODE]`: install the default scripts (seed 000 §5) a shop lacks."""

from django.core.management.base import BaseCommand, CommandError

from kefu.core.models import Shop
from kefu.replies.services import scripts_install_defaults


class Command(BaseCommand):
    help = "Install the default reply scripts (话术) every shop starts with; idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="shop code (default: every shop)")

    def handle(self, *args, shop=None, **options):
        shops = Shop.objects.filter(code=shop) if shop else Shop.objects.all()
        if shop and not shops.exists():
            raise CommandError(f"no shop {shop!r}")
        for s in shops.order_by("code"):
            n = scripts_install_defaults(s)
            self.stdout.write(f"{s.code}: {n} default scripts installed")
