"""`kefu grades_recompute [--shop CODE]`: grade every buyer by the shop's rules now (PRE-9)."""

from django.core.management.base import BaseCommand, CommandError

from kefu.core.models import Shop
from kefu.crm.services import grades_recompute


class Command(BaseCommand):
    help = "Recompute buyer grades from orders by each shop's grading rules (manual grades win)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="shop code (default: every shop)")

    def handle(self, *args, shop=None, **options):
        shops = Shop.objects.filter(code=shop) if shop else Shop.objects.all()
        if shop and not shops.exists():
            raise CommandError(f"no shop {shop!r}")
        for s in shops.order_by("code"):
            self.stdout.write(f"{s.code}: {grades_recompute(shop=s)} grades changed")
